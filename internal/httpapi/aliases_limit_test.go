package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
)

// addAliases gives bot n aliases named alias-<from>, alias-<from+1>, … straight in the
// database, all at version 1: how a bot gets many aliases quickly, or more than the limit,
// as bots that had them before it do.
func (e *env) addAliases(bot api.BotResponse, from, n int) {
	e.t.Helper()
	_, err := e.pool.Exec(context.Background(),
		`INSERT INTO bot_aliases (bot_id, name, version) SELECT $1, 'alias-' || i, 1 FROM generate_series($2::int, $2::int + $3::int - 1) i`,
		bot.Id, from, n)
	require.NoError(e.t, err)
}

func (e *env) aliasCount(bot api.BotResponse) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM bot_aliases WHERE bot_id = $1`, bot.Id).Scan(&n))
	return n
}

// requireTooManyAliases checks that res is the 409 of a new alias beyond the limit, and that
// it says the limit and how to free one.
func requireTooManyAliases(t *testing.T, res *response) {
	t.Helper()
	p := res.problem(t, http.StatusConflict)
	require.Equal(t, "/problems/too-many-aliases", p.Type)
	require.Contains(t, p.Detail, fmt.Sprint(bots.MaxAliases))
	require.Contains(t, p.Detail, "DELETE")
}

func TestAliasLimit(t *testing.T) {
	t.Parallel()

	t.Run("TheAliasBeyondTheLimitIsRefused", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		for i := range bots.MaxAliases {
			res := e.put(u, aliasPath(bot, fmt.Sprintf("alias-%d", i)), map[string]any{"version": 1}, nil)
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
		}
		requireTooManyAliases(t, e.put(u, aliasPath(bot, "one-more"), map[string]any{"version": 1}, nil))
		requireTooManyAliases(t, e.put(u, aliasPath(bot, "one-more"), map[string]any{"version": 2}, map[string]string{"If-None-Match": "*"}))
		e.get(u, aliasPath(bot, "one-more")).problem(t, http.StatusNotFound)

		// A move is always allowed, and a condition that fails is still a 412.
		res := e.put(u, aliasPath(bot, "alias-0"), map[string]any{"version": 2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		e.put(u, aliasPath(bot, "alias-1"), map[string]any{"version": 2}, map[string]string{"If-None-Match": "*"}).problem(t, http.StatusPreconditionFailed)
		e.put(u, aliasPath(bot, "one-more"), map[string]any{"version": 2}, map[string]string{"If-Match": "*"}).problem(t, http.StatusPreconditionFailed)

		// The list is one page of them all.
		list := decoded[api.BotAliasList](t, e.get(u, botPath(bot.Id, "/aliases")))
		require.Len(t, list.Items, bots.MaxAliases)

		// Deleting one frees a place.
		require.Equal(t, http.StatusNoContent, e.delete(u, aliasPath(bot, "alias-5"), nil).code)
		res = e.put(u, aliasPath(bot, "one-more"), map[string]any{"version": 1}, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		requireTooManyAliases(t, e.put(u, aliasPath(bot, "alias-5"), map[string]any{"version": 1}, nil))
		require.Equal(t, bots.MaxAliases, e.aliasCount(bot))
	})

	t.Run("ConcurrentCreationsStopAtTheLimit", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		e.activate(bot.Id)
		const free, racers = 3, 12
		e.addAliases(bot, 0, bots.MaxAliases-free)
		reqs := make([]request, racers)
		for i := range reqs {
			reqs[i] = request{method: http.MethodPut, path: aliasPath(bot, fmt.Sprintf("racer-%d", i)), as: &u, body: map[string]any{"version": 1}}
		}
		created := 0
		for _, res := range e.race(reqs) {
			if res.code == http.StatusCreated {
				created++
				continue
			}
			requireTooManyAliases(t, res)
		}
		require.Equal(t, free, created)
		require.Equal(t, bots.MaxAliases, e.aliasCount(bot))
	})

	t.Run("ABotWithMoreKeepsThemButCreatesNoMore", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		e.addAliases(bot, 0, bots.MaxAliases+20)

		list := decoded[api.BotAliasList](t, e.get(u, botPath(bot.Id, "/aliases")))
		require.Len(t, list.Items, bots.MaxAliases+20)
		res := e.put(u, aliasPath(bot, "alias-7"), map[string]any{"version": 2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, http.StatusNoContent, e.delete(u, aliasPath(bot, "alias-8"), nil).code)
		requireTooManyAliases(t, e.put(u, aliasPath(bot, "alias-8"), map[string]any{"version": 1}, nil))
		require.Equal(t, bots.MaxAliases+19, e.aliasCount(bot))
	})
}
