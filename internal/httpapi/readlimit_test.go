package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/httpapi"
)

// startGet sends a GET as u in the background; the answer, checked against the spec, comes
// from the returned function.
func (e *env) startGet(t *testing.T, u user, path string) func() *response {
	t.Helper()
	return e.start(t, request{method: http.MethodGet, path: path, as: &u})
}

// lockBots takes an exclusive lock on the bots table on a connection of its own, so that every
// request that reads a bot waits in PostgreSQL, in progress, until unlock is called. waiting
// reports how many queries wait for the lock.
func (e *env) lockBots(t *testing.T) (waiting func() int, unlock func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, e.pool.Config().ConnConfig.Copy())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "LOCK TABLE bots IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	waiting = func() int {
		t.Helper()
		var n int
		require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE relation = 'bots'::regclass AND NOT granted").Scan(&n))
		return n
	}
	return waiting, func() { require.NoError(t, tx.Rollback(ctx)) }
}

func TestRequestsInProgressAreLimitedPerUser(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{limits: httpapi.Limits{InflightPerUser: 2}})
	heavy, other := newUser(t), newUser(t)
	bot := e.createBot(heavy, map[string]any{"name": "Busy"})
	theirs := e.createBot(other, map[string]any{"name": "Quiet"})
	waiting, unlock := e.lockBots(t)

	// One below the limit, then at it: both are let in and wait in the database.
	first := e.startGet(t, heavy, botPath(bot.Id))
	waitUntil(t, "the first request waits in the database", func() bool { return waiting() == 1 })
	second := e.startGet(t, heavy, botPath(bot.Id))
	waitUntil(t, "the second request waits in the database", func() bool { return waiting() == 2 })

	// One above: refused at once, without touching the database.
	res := e.get(heavy, botPath(bot.Id))
	p := res.problem(t, http.StatusTooManyRequests)
	require.Equal(t, "/problems/rate-limited", p.Type)
	require.Equal(t, "too many requests at once: at most 2 of yours may be in progress; retry in 1 second", p.Detail)
	require.Equal(t, "1", res.header.Get("Retry-After"))
	require.Equal(t, 2, waiting())

	// Another user is let in while the first is at the limit.
	theirRequest := e.startGet(t, other, botPath(theirs.Id))
	waitUntil(t, "the other user's request waits in the database", func() bool { return waiting() == 3 })

	unlock()
	for _, finish := range []func() *response{first, second, theirRequest} {
		require.Equal(t, http.StatusOK, finish().code)
	}
	// The slots came back.
	for range 3 {
		require.Equal(t, http.StatusOK, e.get(heavy, botPath(bot.Id)).code)
	}
}

func TestListsAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()

	t.Run("TheBurstIsAllowedAndOneMoreIsRefused", func(t *testing.T) {
		t.Parallel()
		// One list every 100 seconds after a burst of 3: no token comes back during the test.
		e := setupWith(t, envConfig{limits: httpapi.Limits{ListRate: 0.01, ListBurst: 3}})
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Searched"})
		for i := range 3 {
			require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots?q=search").code, "list %d of the burst", i+1)
		}
		res := e.get(u, "/api/v1/bots")
		p := res.problem(t, http.StatusTooManyRequests)
		require.Equal(t, "/problems/rate-limited", p.Type)
		require.Regexp(t, `^too many lists and searches; retry in \d+ seconds$`, p.Detail)
		wait, err := strconv.Atoi(res.header.Get("Retry-After"))
		require.NoError(t, err)
		require.Greater(t, wait, 90, "the next token is 100 seconds away")
		require.LessOrEqual(t, wait, 100)

		// Other reads of the same user, and other users' lists, are not held back.
		require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code)
		require.Equal(t, http.StatusOK, e.get(u, "/api/v1/models").code)
		require.Equal(t, http.StatusOK, e.get(newUser(t), "/api/v1/bots?q=search").code)
	})

	t.Run("ARequestJustOverTheRateWaitsForItsTurn", func(t *testing.T) {
		t.Parallel()
		// The second list's token is due within half a second, sooner than a request waits.
		e := setupWith(t, envConfig{limits: httpapi.Limits{ListRate: 2, ListBurst: 1}})
		u := newUser(t)
		require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots").code)
		require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots").code)
	})

	t.Run("TokensComeBack", func(t *testing.T) {
		t.Parallel()
		// One list every two seconds: the second is refused, and a later one is let in.
		e := setupWith(t, envConfig{limits: httpapi.Limits{ListRate: 0.5, ListBurst: 1}})
		u := newUser(t)
		require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots").code)
		res := e.get(u, "/api/v1/bots")
		res.problem(t, http.StatusTooManyRequests)
		require.Equal(t, "1", res.header.Get("Retry-After"))
		waitUntil(t, "a list is allowed again", func() bool { return e.get(u, "/api/v1/bots").code == http.StatusOK })
	})

	t.Run("AUsersListsRunOneAtATime", func(t *testing.T) {
		t.Parallel()
		e := setupWith(t, envConfig{limits: httpapi.Limits{ListRate: 100, ListBurst: 100}})
		heavy, other := newUser(t), newUser(t)
		waiting, unlock := e.lockBots(t)

		first := e.startGet(t, heavy, "/api/v1/bots?q=a")
		waitUntil(t, "the first list waits in the database", func() bool { return waiting() == 1 })
		// The second waits for the first, which does not end in time.
		res := e.get(heavy, "/api/v1/bots?q=b")
		p := res.problem(t, http.StatusTooManyRequests)
		require.Equal(t, "/problems/rate-limited", p.Type)
		require.Equal(t, "your lists and searches run one at a time, and those before this one are still running; retry in 1 second", p.Detail)
		require.Equal(t, "1", res.header.Get("Retry-After"))
		require.Equal(t, 1, waiting())

		// Another user's list runs meanwhile, and so do the user's other reads.
		theirs := e.startGet(t, other, "/api/v1/bots?q=a")
		waitUntil(t, "the other user's list waits in the database", func() bool { return waiting() == 2 })
		models := e.get(heavy, "/api/v1/models")
		require.Equal(t, http.StatusOK, models.code)

		unlock()
		require.Equal(t, http.StatusOK, first().code)
		require.Equal(t, http.StatusOK, theirs().code)
		require.Equal(t, http.StatusOK, e.get(heavy, "/api/v1/bots?q=b").code, "the slot came back")
	})

	t.Run("ZeroTurnsTheLimitsOff", func(t *testing.T) {
		t.Parallel()
		e := setupWith(t, envConfig{limits: httpapi.Limits{ListRate: 0, ListBurst: 1}})
		u := newUser(t)
		for range 5 {
			require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots").code)
		}
	})
}
