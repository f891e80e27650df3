package statusfeed_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/statusfeed"
)

// setup returns a pool on a fresh database and a feed on the same database, not yet running.
func setup(t *testing.T) (*pgxpool.Pool, *statusfeed.Feed) {
	t.Helper()
	pool := dbtest.Pool(t)
	feed := statusfeed.New(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	}, slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	return pool, feed
}

// run starts feed and returns once it listens: after its first connection, it wakes every
// subscriber once, so subscribe before running it.
func run(t *testing.T, feed *statusfeed.Feed, subscribed ...<-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = feed.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for _, wake := range subscribed {
		requireWoken(t, wake)
	}
}

func requireWoken(t *testing.T, wake <-chan struct{}) {
	t.Helper()
	select {
	case <-wake:
	case <-time.After(15 * time.Second):
		t.Fatal("the subscriber was not woken")
	}
}

// newBot inserts a bot of owner as the service would, and returns its id.
func newBot(t *testing.T, pool *pgxpool.Pool, owner uuid.UUID, public bool) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	_, err := pool.Exec(ctx, "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING", owner)
	require.NoError(t, err)
	name := "Bot " + id.String()
	_, err = pool.Exec(ctx, `INSERT INTO bots (id, owner_id, name, name_fold, model, temperature, system_prompt, is_public)
		VALUES ($1, $2, $3, $4, 'gpt-4o-mini', 0.7, '', $5)`, id, owner, name, bots.Fold(name), public)
	require.NoError(t, err)
	return id
}

// Every change that can take a caller's access to a bot away wakes the bot's subscribers, in
// every process, so that their streams look again and end.
func TestFeedWakesSubscribersWhenAccessMayEnd(t *testing.T) {
	t.Parallel()
	pool, feed := setup(t)
	owner, heir := uuid.New(), uuid.New()
	newBot(t, pool, heir, false) // makes the heir a user
	changes := []struct {
		name, sql string
	}{
		{"Deleted", "UPDATE bots SET deleted_at = now() WHERE id = $1"},
		{"MadePrivate", "UPDATE bots SET is_public = false WHERE id = $1"},
		{"GivenToAnotherOwner", "UPDATE bots SET owner_id = '" + heir.String() + "' WHERE id = $1"},
		{"RemovedForGood", "DELETE FROM bots WHERE id = $1"},
	}
	bots := make([]uuid.UUID, len(changes))
	wakes := make([]<-chan struct{}, len(changes))
	for i := range changes {
		bots[i] = newBot(t, pool, owner, true)
		var unsubscribe func()
		wakes[i], unsubscribe = feed.Subscribe(bots[i])
		t.Cleanup(unsubscribe)
	}
	run(t, feed, wakes...)

	for i, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			_, err := pool.Exec(context.Background(), c.sql, bots[i])
			require.NoError(t, err)
			requireWoken(t, wakes[i])
		})
	}
}

// Changes that take no access away wake nobody: each wake-up costs every stream of the bot a
// query.
func TestFeedDoesNotWakeSubscribersForChangesThatKeepAccess(t *testing.T) {
	t.Parallel()
	pool, feed := setup(t)
	owner := uuid.New()
	kept, marker := newBot(t, pool, owner, false), newBot(t, pool, owner, true)
	keptWake, unsubscribe := feed.Subscribe(kept)
	t.Cleanup(unsubscribe)
	markerWake, unsubscribe := feed.Subscribe(marker)
	t.Cleanup(unsubscribe)
	run(t, feed, keptWake, markerWake)

	ctx := context.Background()
	for _, sql := range []string{
		"UPDATE bots SET name = 'Renamed', version = version + 1 WHERE id = $1",
		"UPDATE bots SET is_public = true WHERE id = $1",
		"UPDATE bots SET is_public = true WHERE id = $1", // public already
	} {
		_, err := pool.Exec(ctx, sql, kept)
		require.NoError(t, err)
	}
	// Notifications arrive in the order of their commits: once the marker's has come, any
	// for the changes above would have come before it.
	_, err := pool.Exec(ctx, "UPDATE bots SET deleted_at = now() WHERE id = $1", marker)
	require.NoError(t, err)
	requireWoken(t, markerWake)
	select {
	case <-keptWake:
		t.Fatal("a change that keeps access woke the subscriber")
	default:
	}
}
