// Package dbpool configures the PostgreSQL connection pool the same way for every process of
// the service, for the benchmark's ceiling and for the tests, so that they all talk to the
// database alike. It depends on nothing of the service, so that any package, and the test
// databases of any package, can use it.
package dbpool

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"
)

// Config is the pool configuration for a connection string; pgx pool settings such as
// pool_max_conns may be part of it.
func Config(databaseURL string) (*pgxpool.Config, error) {
	pool, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	if pool.ConnConfig.ConnectTimeout == 0 {
		// While the database is unreachable, requests should fail fast rather than hang.
		pool.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// pgx would send a google/uuid UUID through its driver.Valuer, as text to be parsed
		// again for every parameter; registered, it goes straight to the binary uuid codec.
		pgxuuid.Register(conn.TypeMap())
		return nil
	}
	return pool, nil
}

// ReadYourWrites makes the pool's commits wait until every synchronous standby has applied
// them (synchronous_commit = remote_apply), not only flushed them: a write the service
// acknowledged is then visible to reads on such a standby, from any process. PostgreSQL also
// shows the commit to other sessions of the primary, and delivers its notifications, only
// once that wait is over. It costs each write the standby's replay on top of its flush.
func ReadYourWrites(pool *pgxpool.Config) {
	pool.ConnConfig.RuntimeParams["synchronous_commit"] = "remote_apply"
}
