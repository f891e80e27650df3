package dbpool_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbpool"
	"github.com/chatsphere/bots/internal/dbtest"
)

// The collector reports the pool as it is at scrape time, under the names and help texts
// dashboards know.
func TestCollector(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(dbtest.URL(t))
	require.NoError(t, err)
	cfg.MinConns, cfg.MaxConns = 0, 3 // no connection but the one taken below
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	defer pool.Close()
	conn, err := pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()

	c := dbpool.NewCollector(pool)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP db_pool_connections Connections of the database pool, by state.
# TYPE db_pool_connections gauge
db_pool_connections{state="acquired"} 1
db_pool_connections{state="constructing"} 0
db_pool_connections{state="idle"} 0
`), "db_pool_connections"))
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP db_pool_max_connections The most connections the pool opens.
# TYPE db_pool_max_connections gauge
db_pool_max_connections 3
`), "db_pool_max_connections"))
	require.Equal(t, 4, testutil.CollectAndCount(c, "db_pool_acquires_total", "db_pool_acquire_wait_seconds_total"),
		"three acquire outcomes and the wait")
}
