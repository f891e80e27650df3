package statusfeed_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/statusfeed"
)

// recorder is a Forgetter that writes down what it is told, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) ForgetConfig(bot uuid.UUID) { r.add("forget " + bot.String()) }
func (r *recorder) ConfigFeedLost()            { r.add("lost") }
func (r *recorder) ConfigFeedListening()       { r.add("listening") }

// waitFor waits until the recorder was told e, and returns what it was told by then.
func (r *recorder) waitFor(t *testing.T, e string) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for i, got := range r.events {
			if got == e {
				out := append([]string(nil), r.events[:i+1]...)
				r.events = r.events[i+1:]
				r.mu.Unlock()
				return out
			}
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("never told %q", e)
	return nil
}

// The runtime read path's cache hears of every change it caches, from any process, and of
// every time the feed's connection drops and comes back.
func TestFeedTellsTheConfigCache(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	rec := &recorder{}
	var (
		mu       sync.Mutex
		listener *pgx.Conn
	)
	feed := statusfeed.New(func(ctx context.Context) (*pgx.Conn, error) {
		conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
		mu.Lock()
		listener = conn
		mu.Unlock()
		return conn, err
	}, slog.New(slog.NewJSONHandler(io.Discard, nil)), rec)
	run(t, feed)
	require.Equal(t, []string{"listening"}, rec.waitFor(t, "listening"))

	ctx := context.Background()
	owner := uuid.New()
	bot := newBot(t, pool, owner, false)
	other := newBot(t, pool, owner, false)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, created_by, source)
		SELECT id, 1, model, temperature, system_prompt, 'training', owner_id, 'create' FROM bots WHERE id = ANY($1)`, []uuid.UUID{bot, other})
	forget := "forget " + bot.String()
	exec(`UPDATE bot_versions SET status = 'active', prepared_config = '{}' WHERE bot_id = $1`, bot)
	for _, c := range []struct{ name, sql string }{
		{"AliasCreated", `INSERT INTO bot_aliases (bot_id, name, version) VALUES ($1, 'production', 1)`},
		{"AliasMoved", `UPDATE bot_aliases SET etag = etag + 1 WHERE bot_id = $1`},
		{"AliasDeleted", `DELETE FROM bot_aliases WHERE bot_id = $1`},
		{"MadePublic", `UPDATE bots SET is_public = true WHERE id = $1`},
		{"Deleted", `UPDATE bots SET deleted_at = now() WHERE id = $1`},
		{"Restored", `UPDATE bots SET deleted_at = NULL WHERE id = $1`},
		{"Purged", `DELETE FROM bots WHERE id = $1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			exec(c.sql, bot)
			require.Equal(t, []string{forget}, rec.waitFor(t, forget))
		})
	}

	t.Run("ChangesItDoesNotCacheAreNotAnnounced", func(t *testing.T) {
		exec(`UPDATE bots SET name = 'Renamed', version = version + 1 WHERE id = $1`, other)
		// Versions: reads of the latest active version do not use the cache.
		exec(`INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, created_by, source)
			SELECT id, 2, model, temperature, system_prompt, 'training', owner_id, 'update' FROM bots WHERE id = $1`, other)
		exec(`UPDATE bot_versions SET status = 'error', status_message = 'x' WHERE bot_id = $1 AND number = 2`, other)
		exec(`UPDATE bot_versions SET status = 'active', prepared_config = '{}' WHERE bot_id = $1 AND number = 1`, other)
		exec(`INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, prepared_config, created_by, source)
			SELECT id, 3, model, temperature, system_prompt, 'active', '{}', owner_id, 'update' FROM bots WHERE id = $1`, other)
		// Notifications come in the order of their commits: the marker's comes after any of
		// the changes above.
		exec(`UPDATE bots SET is_public = true WHERE id = $1`, other)
		marker := "forget " + other.String()
		require.Equal(t, []string{marker}, rec.waitFor(t, marker))
	})

	t.Run("ALostConnectionIsToldAndSoIsItsReturn", func(t *testing.T) {
		mu.Lock()
		pid := listener.PgConn().PID()
		mu.Unlock()
		exec(`SELECT pg_terminate_backend($1)`, pid)
		require.Equal(t, []string{"lost"}, rec.waitFor(t, "lost"))
		require.Equal(t, []string{"listening"}, rec.waitFor(t, "listening"))
	})
}
