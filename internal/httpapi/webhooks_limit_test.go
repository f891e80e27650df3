package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/webhook"
)

// createWebhook posts a webhook to url and returns the answer's status.
func (e *env) createWebhook(u user, url string) *response {
	return e.post(u, "/api/v1/webhooks", map[string]any{"url": url, "events": []string{"*"}})
}

func TestWebhooksPerUserAreLimited(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	var first registered
	for i := range webhook.MaxPerUser {
		w := e.register(u, fmt.Sprintf("https://hooks.example.com/%d", i), "*")
		if i == 0 {
			first = w
		}
	}
	p := e.createWebhook(u, "https://hooks.example.com/one-too-many").problem(t, http.StatusConflict)
	require.Equal(t, "/problems/too-many-webhooks", p.Type)
	require.Contains(t, p.Detail, "20 webhooks")
	require.Contains(t, p.Detail, "delete one")
	require.Equal(t, webhook.MaxPerUser, e.count(`SELECT 1 FROM webhooks WHERE owner_id = $1`, u.id))

	// Another user is not held back by this one.
	e.register(newUser(t), "https://hooks.example.com/other", "*")

	// A delete makes room for one: a create that runs while another holds the last place,
	// not committed yet, waits for it and then finds no room.
	res := e.delete(u, webhookPath(first.Id), map[string]string{"If-Match": first.etag})
	require.Equal(t, http.StatusNoContent, res.code, string(res.body))
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	_, err = tx.Exec(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, u.id)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO webhooks (id, owner_id, url, events, secret)
		VALUES (gen_random_uuid(), $1, 'https://hooks.example.com/last', '{*}', decode(repeat('ab', 32), 'hex'))`, u.id)
	require.NoError(t, err)
	answered := make(chan *response, 1)
	go func() { answered <- e.createWebhook(u, "https://hooks.example.com/concurrent") }()
	waitUntil(t, "the create waits for the other one", func() bool {
		return e.count(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UserLock%'`) == 1
	})
	require.NoError(t, tx.Commit(ctx))
	p = (<-answered).problem(t, http.StatusConflict)
	require.Equal(t, "/problems/too-many-webhooks", p.Type)
	require.Equal(t, webhook.MaxPerUser, e.count(`SELECT 1 FROM webhooks WHERE owner_id = $1`, u.id))
}

// A user who had more webhooks than the limit before it keeps them, and creates again once
// fewer than the limit are left.
func TestWebhooksAboveTheLimitAreKept(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	first := e.register(u, "https://hooks.example.com/first", "*")
	_, err := e.pool.Exec(context.Background(), `
		INSERT INTO webhooks (id, owner_id, url, events, secret)
		SELECT gen_random_uuid(), $1, 'https://hooks.example.com/old/' || i, '{*}', decode(repeat('ab', 32), 'hex')
		FROM generate_series(1, $2::int) i`, u.id, webhook.MaxPerUser+1)
	require.NoError(t, err)
	require.Equal(t, webhook.MaxPerUser+2, e.count(`SELECT 1 FROM webhooks WHERE owner_id = $1`, u.id))
	e.createWebhook(u, "https://hooks.example.com/more").problem(t, http.StatusConflict)

	var ids []uuid.UUID
	rows, err := e.pool.Query(context.Background(), `SELECT id FROM webhooks WHERE owner_id = $1 AND id <> $2 LIMIT 2`, u.id, first.Id)
	require.NoError(t, err)
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	for _, id := range ids {
		res := e.delete(u, webhookPath(id)+"?confirm=true", nil)
		require.Equal(t, http.StatusNoContent, res.code, string(res.body))
	}
	e.createWebhook(u, "https://hooks.example.com/still-full").problem(t, http.StatusConflict)
	res := e.delete(u, webhookPath(first.Id), map[string]string{"If-Match": first.etag})
	require.Equal(t, http.StatusNoContent, res.code, string(res.body))
	e.register(u, "https://hooks.example.com/room-again", "*")
}
