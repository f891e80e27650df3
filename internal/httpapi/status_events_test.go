package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

func TestStatusHistoryIsScopedToTheCaller(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, viewer := newUser(t), newUser(t)
	private := e.createBot(owner, map[string]any{"name": "Private"})
	public := e.createBot(owner, map[string]any{"name": "Public", "is_public": true})
	deleted := e.createBot(owner, map[string]any{"name": "Deleted", "is_public": true})
	e.activate(public.Id)
	require.Equal(t, http.StatusOK, e.delete(owner, botPath(deleted.Id), map[string]string{"If-Match": "*"}).code)

	for _, c := range []struct {
		name  string
		as    user
		bot   uuid.UUID
		query string
		total int64 // -1: not found
		// want is the page's events as transitions, oldest first.
		want []string
	}{
		{"OwnerSeesTheHistoryOfAPrivateBot", owner, private.Id, "", 1, []string{"none>training"}},
		{"OwnerSeesTheHistoryOfAPublicBot", owner, public.Id, "", 2, []string{"none>training", "training>active"}},
		{"ViewerSeesTheHistoryOfAPublicBot", viewer, public.Id, "", 2, []string{"none>training", "training>active"}},
		{"PagesAreNewestFirst", owner, public.Id, "?limit=1&skip=1", 2, []string{"none>training"}},
		{"APageBeyondTheEndIsEmptyButCounted", viewer, public.Id, "?skip=10", 2, []string{}},
		{"OtherUsersPrivateBotIsNotFound", viewer, private.Id, "", -1, nil},
		{"DeletedBotIsNotFoundForItsOwner", owner, deleted.Id, "", -1, nil},
		{"DeletedBotIsNotFoundForViewers", viewer, deleted.Id, "", -1, nil},
		{"MissingBotIsNotFound", owner, uuid.New(), "", -1, nil},
		{"MissingBotIsNotFoundForViewers", viewer, uuid.New(), "", -1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := e.get(c.as, botPath(c.bot, "/status-events"+c.query))
			if c.total < 0 {
				res.problem(t, http.StatusNotFound)
				return
			}
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			page := decoded[api.StatusEventList](t, res)
			require.Equal(t, c.total, page.Total)
			require.Equal(t, c.want, transitions(page.Items))
		})
	}
}

// A bot made private while a viewer's request reads its history is not found: the history and
// its count are read scoped to the caller, never by the bot's id alone after a visibility check.
func TestStatusHistoryOfABotMadePrivateDuringTheRequestIsNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	owner, viewer := newUser(t), newUser(t)
	bot := e.createBot(owner, map[string]any{"name": "Soon private", "is_public": true})

	// Hold the history, so that the request stops at its first read of it. The history is a
	// view of the events, which the write below records into: only the view is held (a
	// change of its options locks it alone, where LOCK TABLE would lock the events too).
	hold, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = hold.Rollback(ctx) })
	_, err = hold.Exec(ctx, "ALTER VIEW bot_status_events SET (security_barrier = false)")
	require.NoError(t, err)

	answered := make(chan *response, 1)
	go func() { answered <- e.get(viewer, botPath(bot.Id, "/status-events")) }()
	waitUntil(t, "the request reads the history", func() bool {
		var waiting bool
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE relation = 'bot_status_events'::regclass AND NOT granted)`).Scan(&waiting))
		return waiting
	})
	_, err = e.pool.Exec(ctx, "UPDATE bots SET is_public = false WHERE id = $1", bot.Id)
	require.NoError(t, err)
	require.NoError(t, hold.Rollback(ctx))

	select {
	case res := <-answered:
		res.problem(t, http.StatusNotFound)
	case <-time.After(15 * time.Second):
		t.Fatal("the request did not finish")
	}
}
