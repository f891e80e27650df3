package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// The unfiltered total of a list comes from a counter kept by a trigger; whatever happens to
// the bots, it must equal a count of the live ones.
func TestTheLiveBotCounterMatchesTheBots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		var counter, live int64
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT coalesce(sum(live), 0) FROM bot_counts WHERE owner_id = $1", u.id).Scan(&counter))
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM bots WHERE owner_id = $1 AND deleted_at IS NULL", u.id).Scan(&live))
		require.Equal(t, live, counter, step)
		var page api.BotList
		e.get(u, "/api/v1/bots?limit=1").decode(t, &page)
		require.Equal(t, live, page.Total, step)
	}

	creates := make([]request, 20)
	for i := range creates {
		creates[i] = request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: fmt.Sprintf(`{"name":"Bot %d","model":"gpt-4o"}`, i)}
	}
	for i, res := range e.race(creates) {
		require.Equal(t, http.StatusCreated, res.code, "create of Bot %d", i)
	}
	check("after concurrent creates")

	first := e.createBot(u, map[string]any{"name": "First"})
	copied := e.post(u, botPath(first.Id, "/duplicate"), nil)
	require.Equal(t, http.StatusCreated, copied.code)
	check("after a duplicate")

	require.Equal(t, http.StatusOK, e.delete(u, botPath(first.Id), map[string]string{"If-Match": "*"}).code)
	check("after a delete")
	require.Equal(t, http.StatusOK, e.post(u, botPath(first.Id, "/restore"), nil).code)
	check("after a restore")

	require.Equal(t, http.StatusOK, e.delete(u, botPath(first.Id), map[string]string{"If-Match": "*"}).code)
	_, err := e.pool.Exec(ctx, "UPDATE bots SET deleted_at = now() - interval '40 days' WHERE id = $1", first.Id)
	require.NoError(t, err)
	_, err = e.svc.PurgeDeleted(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	check("after a purge")

	// A failed write changes no count.
	e.post(u, "/api/v1/bots", map[string]any{"name": "Bot 1", "model": "gpt-4o"}).problem(t, http.StatusConflict)
	check("after a refused create")
}
