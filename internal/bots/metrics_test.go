package bots_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// waitLimit bounds the tests' waits on a scrape, so that one that hangs fails the test with a
// message; it is a safety net, not an assertion on speed.
const waitLimit = 30 * time.Second

// noTraining queues nothing: these tests count bots, they do not train them.
type noTraining struct{}

func (noTraining) QueueTraining(context.Context, pgx.Tx, uuid.UUID, int32) error { return nil }

// The bots metric counts the bots that are not deleted, by status, with every status present,
// and reuses a count for statusCountTTL.
func TestStatusCollector(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, noTraining{})
	ctx := t.Context()
	user := uuid.New()
	require.NoError(t, s.EnsureUser(ctx, user))
	create := func(name string) {
		t.Helper()
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := s.CreateTx(ctx, tx, user, bots.CreateParams{Name: name, Model: "gpt-4o"})
			return err
		}))
	}
	for _, name := range []string{"One", "Two", "Gone"} {
		create(name)
	}
	_, err := pool.Exec(ctx, "UPDATE bots SET deleted_at = now() WHERE name = 'Gone'")
	require.NoError(t, err)

	c := bots.NewStatusCollector(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	want := `
# HELP bots Bots that are not deleted, by status.
# TYPE bots gauge
bots{status="active"} 0
bots{status="error"} 0
bots{status="training"} 2
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "bots"))

	// A bot created since is counted only once the count is older than statusCountTTL.
	create("Three")
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "bots"), "the count is reused")
	bots.AgeStatusCount(c)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(strings.Replace(want, "2\n", "3\n", 1)), "bots"))
}

// lineCounter counts the lines written to it that contain a text; scrapes log from their own
// goroutines.
type lineCounter struct {
	text string
	mu   sync.Mutex
	n    int
}

func (w *lineCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += strings.Count(string(p), w.text)
	return len(p), nil
}

func (w *lineCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// statusCollectorUnderLock returns a collector that has counted the bots once and whose count
// is too old to reuse, with the bots table then locked by a test transaction, so that the
// next count waits on the database as it does when the database hangs. The count logs its
// failures to failures.
func statusCollectorUnderLock(t *testing.T, timeout, retryAfter time.Duration) (prometheus.Collector, pgx.Tx, *lineCounter, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.Pool(t)
	failures := &lineCounter{text: "count bots by status for metrics"}
	c := bots.NewStatusCollector(bots.NewService(pool, noTraining{}), slog.New(slog.NewTextHandler(failures, nil)))
	require.Equal(t, 3, testutil.CollectAndCount(c, "bots"))
	bots.AgeStatusCount(c)
	bots.SetStatusCountTimes(c, timeout, retryAfter)
	lock, err := pool.Begin(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { _ = lock.Rollback(context.WithoutCancel(t.Context())) })
	_, err = lock.Exec(t.Context(), "LOCK TABLE bots IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	return c, lock, failures, pool
}

// While one scrape's count waits on the database, another scrape does not queue behind it:
// it is served at once, with the last count.
func TestStatusCollectorScrapesDoNotQueue(t *testing.T) {
	t.Parallel()
	// The count waits as long as the test holds the lock.
	c, lock, _, pool := statusCollectorUnderLock(t, time.Minute, time.Minute)

	first := make(chan int, 1)
	go func() { first <- testutil.CollectAndCount(c, "bots") }()
	waiting := 0
	for deadline := time.Now().Add(waitLimit); waiting == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		require.NoError(t, pool.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting))
	}
	require.Equal(t, 1, waiting, "the first scrape's count never waited on the lock")

	second := make(chan int, 1)
	go func() { second <- testutil.CollectAndCount(c, "bots") }()
	select {
	case n := <-second:
		require.Equal(t, 3, n, "the second scrape serves the last count")
	case <-time.After(waitLimit):
		t.Fatal("the second scrape waited for the first one's count")
	}
	require.NoError(t, lock.Rollback(t.Context()))
	require.Equal(t, 3, <-first)
}

// A count that fails is remembered: the scrapes that follow are served at once without the
// counts, rather than each waiting on the database again.
func TestStatusCollectorRemembersAFailure(t *testing.T) {
	t.Parallel()
	c, _, failures, _ := statusCollectorUnderLock(t, time.Millisecond, time.Hour)

	require.Zero(t, testutil.CollectAndCount(c, "bots"), "a failed count serves no counts")
	require.Equal(t, 1, failures.count())
	require.Zero(t, testutil.CollectAndCount(c, "bots"))
	require.Equal(t, 1, failures.count(), "the second scrape counted again")
}
