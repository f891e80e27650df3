package migrate_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/peterldowns/pgtestdb"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/migrate"
)

// emptyDatabaseURL returns the connection string of a fresh database without any table,
// dropped when t ends.
func emptyDatabaseURL(t *testing.T) string {
	t.Helper()
	return pgtestdb.Custom(t, dbtest.Config(), pgtestdb.NoopMigrator{}).URL()
}

// migrateConnect opens one connection to url, closed when t ends.
func migrateConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// migrationNames are the names of every embedded migration, in order.
func migrationNames(t *testing.T) []string {
	t.Helper()
	all, err := migrate.All()
	require.NoError(t, err)
	names := make([]string, 0, len(all))
	for _, m := range all {
		names = append(names, m.Name)
	}
	return names
}

// allSteps is everything Up applies to an empty database: ours and the job queue's.
func allSteps(t *testing.T) []string {
	t.Helper()
	steps, err := migrate.Steps()
	require.NoError(t, err)
	return steps
}

// appliedNames reads schema_migrations in name order.
func appliedNames(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT name FROM schema_migrations ORDER BY name")
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// tableExists reports whether public.name is a table.
func tableExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var exists bool
	err := conn.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1)", name).Scan(&exists)
	require.NoError(t, err)
	return exists
}

func TestAll(t *testing.T) {
	t.Parallel()

	all, err := migrate.All()
	require.NoError(t, err)
	require.NotEmpty(t, all)

	names := make([]string, 0, len(all))
	for _, m := range all {
		require.NotEmpty(t, m.Name)
		require.False(t, strings.HasSuffix(m.Name, ".sql"), "name %q keeps its extension", m.Name)
		require.NotEmpty(t, strings.TrimSpace(m.SQL), "migration %s is empty", m.Name)
		names = append(names, m.Name)
	}
	require.True(t, slices.IsSorted(names), "migrations are not in name order: %v", names)
	require.Len(t, slices.Compact(slices.Clone(names)), len(names), "duplicate migration names: %v", names)
	require.Equal(t, "0001_bots", names[0])

	again, err := migrate.All()
	require.NoError(t, err)
	require.Equal(t, all, again, "All must return the same migrations on every call")
}

func TestUp(t *testing.T) {
	t.Parallel()

	t.Run("EmptyDatabaseGetsEveryMigrationInOrder", func(t *testing.T) {
		t.Parallel()
		conn := migrateConnect(t, emptyDatabaseURL(t))
		require.False(t, tableExists(t, conn, "bots"))

		applied, err := migrate.Up(t.Context(), conn)
		require.NoError(t, err)
		require.Equal(t, allSteps(t), applied)
		require.Equal(t, migrationNames(t), appliedNames(t, conn))
		for _, table := range []string{"users", "bots", "schema_migrations"} {
			require.True(t, tableExists(t, conn, table), "table %s is missing", table)
		}
	})

	t.Run("SecondRunAppliesNothing", func(t *testing.T) {
		t.Parallel()
		conn := migrateConnect(t, emptyDatabaseURL(t))
		_, err := migrate.Up(t.Context(), conn)
		require.NoError(t, err)
		var firstAppliedAt string
		require.NoError(t, conn.QueryRow(t.Context(),
			"SELECT string_agg(name || '@' || applied_at::text, ',' ORDER BY name) FROM schema_migrations").Scan(&firstAppliedAt))

		applied, err := migrate.Up(t.Context(), conn)
		require.NoError(t, err)
		require.Empty(t, applied)
		require.Equal(t, migrationNames(t), appliedNames(t, conn))
		var secondAppliedAt string
		require.NoError(t, conn.QueryRow(t.Context(),
			"SELECT string_agg(name || '@' || applied_at::text, ',' ORDER BY name) FROM schema_migrations").Scan(&secondAppliedAt))
		require.Equal(t, firstAppliedAt, secondAppliedAt, "a second run must not touch schema_migrations")
	})

	t.Run("MigratedTemplateDatabaseNeedsNothing", func(t *testing.T) {
		t.Parallel()
		conn := migrateConnect(t, dbtest.URL(t))
		applied, err := migrate.Up(t.Context(), conn)
		require.NoError(t, err)
		require.Empty(t, applied)
	})

	t.Run("LockIsReleasedAfterARun", func(t *testing.T) {
		t.Parallel()
		url := emptyDatabaseURL(t)
		first := migrateConnect(t, url)
		_, err := migrate.Up(t.Context(), first)
		require.NoError(t, err)

		// first stays open: had Up kept its session's advisory lock, this run would wait
		// until the test's deadline instead of returning.
		var held int
		require.NoError(t, first.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()").Scan(&held))
		require.Zero(t, held, "Up left an advisory lock held on its connection")

		applied, err := migrate.Up(t.Context(), migrateConnect(t, url), migrate.WhenWaiting(func() {
			t.Error("a run that finds the lock free has nothing to wait for")
		}))
		require.NoError(t, err)
		require.Empty(t, applied)
	})

	t.Run("ARunThatWaitsForAnotherSaysSoFirst", func(t *testing.T) {
		t.Parallel()
		url := emptyDatabaseURL(t)
		holder, waiter := migrateConnect(t, url), migrateConnect(t, url)
		_, err := holder.Exec(t.Context(), "SELECT pg_advisory_lock($1)", migrate.LockKey)
		require.NoError(t, err)
		waiting := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := migrate.Up(t.Context(), waiter, migrate.WhenWaiting(func() { close(waiting) }))
			done <- err
		}()
		select {
		case <-waiting:
		case err := <-done:
			t.Fatalf("Up returned (%v) while another session held the lock", err)
		case <-time.After(30 * time.Second):
			t.Fatal("Up waited for the lock without saying so")
		}
		_, err = holder.Exec(t.Context(), "SELECT pg_advisory_unlock($1)", migrate.LockKey)
		require.NoError(t, err)
		require.NoError(t, <-done, "the run goes on once the lock is free")
		require.Equal(t, migrationNames(t), appliedNames(t, waiter))
	})

	t.Run("ConcurrentRunsApplyEachMigrationOnce", func(t *testing.T) {
		t.Parallel()
		url := emptyDatabaseURL(t)
		const replicas = 8
		conns := make([]*pgx.Conn, replicas)
		for i := range conns {
			conns[i] = migrateConnect(t, url)
		}

		start := make(chan struct{})
		results := make([][]string, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i, conn := range conns {
			wg.Go(func() {
				<-start
				results[i], errs[i] = migrate.Up(t.Context(), conn)
			})
		}
		close(start)
		wg.Wait()

		var applied []string
		for i := range replicas {
			require.NoError(t, errs[i], "replica %d", i)
			applied = append(applied, results[i]...)
		}
		slices.Sort(applied)
		want := allSteps(t)
		slices.Sort(want)
		require.Equal(t, want, applied, "every migration must be applied by exactly one replica")

		check := migrateConnect(t, url)
		var rows, distinct int
		require.NoError(t, check.QueryRow(t.Context(),
			"SELECT count(*), count(DISTINCT name) FROM schema_migrations").Scan(&rows, &distinct))
		require.Equal(t, len(migrationNames(t)), rows)
		require.Equal(t, rows, distinct)
		require.Equal(t, migrationNames(t), appliedNames(t, check))
		require.True(t, tableExists(t, check, "bots"))
	})

	t.Run("CancelledContextFailsWithoutApplyingAnything", func(t *testing.T) {
		t.Parallel()
		url := emptyDatabaseURL(t)
		conn := migrateConnect(t, url)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		applied, err := migrate.Up(ctx, conn)
		require.Error(t, err)
		require.Empty(t, applied)

		check := migrateConnect(t, url)
		require.False(t, tableExists(t, check, "bots"))
	})
}
