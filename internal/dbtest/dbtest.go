// Package dbtest gives each test its own PostgreSQL database, cloned from a template that has
// every migration applied, so that tests against the real database can all run in parallel.
package dbtest

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/chatsphere/bots/internal/dbpool"
	"github.com/chatsphere/bots/internal/migrate"
)

// Config is the server the test databases are made on: TEST_DATABASE_HOST and
// TEST_DATABASE_PORT, by default the local PostgreSQL at 127.0.0.1:5432 as postgres.
func Config() pgtestdb.Config {
	host, port := os.Getenv("TEST_DATABASE_HOST"), os.Getenv("TEST_DATABASE_PORT")
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       host,
		Port:       port,
		User:       "postgres",
		Database:   "postgres",
		Options:    "sslmode=disable",
		// A test that ends while a connection is still open must not fail the next one.
		ForceTerminateConnections: true,
	}
}

// URL returns the connection string of a fresh, migrated database for t, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, Config(), migrator{}).URL()
}

// Pool returns a pool on a fresh, migrated database for t; both are closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewPool(t, URL(t))
}

// NewPool opens a pool on databaseURL configured as the service configures its own, closed
// when t ends.
func NewPool(t testing.TB, databaseURL string) *pgxpool.Pool {
	t.Helper()
	cfg, err := dbpool.Config(databaseURL)
	if err != nil {
		t.Fatalf("parse test database URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open test pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// migrator applies the embedded migrations to pgtestdb's template database.
type migrator struct{}

// Hash identifies the template by the schema it holds, so that a changed migration (ours or
// the job queue's) gets a new template.
func (migrator) Hash() (string, error) {
	return migrate.Fingerprint()
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	conn, err := pgx.Connect(ctx, conf.URL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = migrate.Up(ctx, conn)
	return err
}

// Empty makes an empty database named name on the test server, for code that has no
// testing.TB (a TestMain starting one server for a package's examples), and returns its URL
// and a function that drops it. The service migrates it when it starts.
func Empty(ctx context.Context, name string) (databaseURL string, drop func() error, err error) {
	admin := Config()
	conn, err := pgx.Connect(ctx, admin.URL())
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, err
	}
	drop = func() error {
		conn, err := pgx.Connect(context.Background(), admin.URL())
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), "DROP DATABASE "+ident+" WITH (FORCE)")
		return err
	}
	db := admin
	db.Database = name
	return db.URL(), drop, nil
}
