package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// twoActiveVersions creates a bot of u whose versions 1 and 2 are both active.
func (e *env) twoActiveVersions(u user, body map[string]any) api.BotResponse {
	e.t.Helper()
	bot := e.createBot(u, body)
	e.activate(bot.Id)
	res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 1.5}, nil)
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	for n := 1; n <= 2; n++ {
		v, _ := e.version(u, bot, n)
		require.Equal(e.t, api.BotStatusActive, v.Status, "version %d", n)
	}
	return bot
}

func aliasPath(bot api.BotResponse, name string, suffix ...string) string {
	return botPath(bot.Id, append([]string{"/aliases/" + name}, suffix...)...)
}

func TestBotAliases(t *testing.T) {
	t.Parallel()

	t.Run("PutCreatesThenMoves", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})

		res := e.put(u, aliasPath(bot, "production"), map[string]any{"version": 1}, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, aliasPath(bot, "production"), res.header.Get("Location"))
		a := decoded[api.BotAlias](t, res)
		require.Equal(t, "production", a.Name)
		require.Equal(t, int32(1), a.Version)
		first := res.header.Get("ETag")
		require.NotEmpty(t, first)

		res = e.put(u, aliasPath(bot, "production"), map[string]any{"version": 2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		res.decode(t, &a)
		require.Equal(t, int32(2), a.Version)
		require.NotEqual(t, first, res.header.Get("ETag"))
		moved := res.header.Get("ETag")

		res = e.put(u, aliasPath(bot, "production"), map[string]any{"version": 2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, moved, res.header.Get("ETag"), "setting the same version moves nothing")

		res = e.get(u, aliasPath(bot, "production"))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, moved, res.header.Get("ETag"))
		res.decode(t, &a)
		require.Equal(t, int32(2), a.Version)

		res = e.do(request{method: http.MethodGet, path: aliasPath(bot, "production"), as: &u, header: map[string]string{"If-None-Match": moved}})
		require.Equal(t, http.StatusNotModified, res.code)
		require.Equal(t, moved, res.header.Get("ETag"))
		require.Empty(t, res.body)
	})

	t.Run("AVersionThatIsNotActiveCannotBeAliased", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"}) // version 1 is training
		p := e.put(u, aliasPath(bot, "production"), map[string]any{"version": 1}, nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/version-not-ready", p.Type)
		e.setStatus("error", "training failed", bot.Id)
		p = e.put(u, aliasPath(bot, "production"), map[string]any{"version": 1}, nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/version-not-ready", p.Type)
		e.get(u, aliasPath(bot, "production")).problem(t, http.StatusNotFound)
	})

	t.Run("AVersionThatDoesNotExistIsNotFound", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		e.activate(bot.Id)
		p := e.put(u, aliasPath(bot, "production"), map[string]any{"version": 7}, nil).problem(t, http.StatusNotFound)
		require.Contains(t, p.Detail, "version 7")
	})

	t.Run("BadNamesAreRefused", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		e.activate(bot.Id)
		for _, name := range []string{"Production", "1st", "-x", "a_b", "a%20b", "a" + fmt.Sprintf("%040d", 0)} {
			e.put(u, aliasPath(bot, name), map[string]any{"version": 1}, nil).problem(t, http.StatusUnprocessableEntity)
		}
		e.put(u, aliasPath(bot, "a"+fmt.Sprintf("%039d", 0)), map[string]any{"version": 1}, nil)
		e.put(u, aliasPath(bot, "x"), map[string]any{"version": 0}, nil).problem(t, http.StatusUnprocessableEntity)
	})

	t.Run("IfMatchAndIfNoneMatch", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		path := aliasPath(bot, "production")

		res := e.put(u, path, map[string]any{"version": 1}, map[string]string{"If-Match": `"1"`})
		res.problem(t, http.StatusPreconditionFailed) // If-Match on an alias that does not exist
		require.Empty(t, res.header.Get("ETag"))

		res = e.put(u, path, map[string]any{"version": 1}, map[string]string{"If-None-Match": "*"})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		tag := res.header.Get("ETag")

		res = e.put(u, path, map[string]any{"version": 2}, map[string]string{"If-None-Match": "*"})
		res.problem(t, http.StatusPreconditionFailed)
		require.Equal(t, tag, res.header.Get("ETag"))

		res = e.put(u, path, map[string]any{"version": 2}, map[string]string{"If-Match": tag})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		current := res.header.Get("ETag")

		res = e.put(u, path, map[string]any{"version": 1}, map[string]string{"If-Match": tag})
		res.problem(t, http.StatusPreconditionFailed)
		require.Equal(t, current, res.header.Get("ETag"))

		res = e.delete(u, path, map[string]string{"If-Match": tag})
		res.problem(t, http.StatusPreconditionFailed)
		require.Equal(t, current, res.header.Get("ETag"))

		res = e.delete(u, path, map[string]string{"If-Match": current})
		require.Equal(t, http.StatusNoContent, res.code, string(res.body))
		e.get(u, path).problem(t, http.StatusNotFound)
		e.delete(u, path, nil).problem(t, http.StatusNotFound)
	})

	t.Run("ConcurrentMovesWithTheSameIfMatchMoveOnce", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.1}, nil) // version 3, active
		require.Equal(t, http.StatusOK, res.code, string(res.body))

		for round := range 5 {
			path := aliasPath(bot, fmt.Sprintf("round-%d", round))
			res := e.put(u, path, map[string]any{"version": 1}, nil)
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
			tag := res.header.Get("ETag")
			answers := e.race([]request{
				{method: http.MethodPut, path: path, as: &u, body: map[string]any{"version": 2}, header: map[string]string{"If-Match": tag}},
				{method: http.MethodPut, path: path, as: &u, body: map[string]any{"version": 3}, header: map[string]string{"If-Match": tag}},
			})
			codes := []int{answers[0].code, answers[1].code}
			require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, codes)
			won, lost := answers[0], answers[1]
			if won.code != http.StatusOK {
				won, lost = lost, won
			}
			require.Equal(t, won.header.Get("ETag"), lost.header.Get("ETag"), "the loser is told the winner's ETag")
			var h api.BotAliasHistory
			e.get(u, path+"/history").decode(t, &h)
			require.Equal(t, int64(2), h.Total, "the creation and one move")
		}
	})

	t.Run("ListAndHistory", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		for _, put := range []struct {
			name    string
			version int
		}{{"staging", 2}, {"production", 1}, {"production", 2}, {"canary", 1}} {
			res := e.put(u, aliasPath(bot, put.name), map[string]any{"version": put.version}, nil)
			require.Contains(t, []int{http.StatusOK, http.StatusCreated}, res.code, string(res.body))
		}
		require.Equal(t, http.StatusNoContent, e.delete(u, aliasPath(bot, "canary"), nil).code)

		res := e.get(u, botPath(bot.Id, "/aliases"))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		list := decoded[api.BotAliasList](t, res)
		require.Len(t, list.Items, 2)
		require.Equal(t, "production", list.Items[0].Name)
		require.Equal(t, int32(2), list.Items[0].Version)
		require.Equal(t, "staging", list.Items[1].Name)

		var h api.BotAliasHistory
		res = e.get(u, aliasPath(bot, "production", "/history?limit=1"))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		res.decode(t, &h)
		require.Equal(t, int64(2), h.Total)
		require.Len(t, h.Items, 1)
		require.Equal(t, int32(1), h.Items[0].FromVersion.MustGet())
		require.Equal(t, int32(2), h.Items[0].ToVersion.MustGet())
		require.Equal(t, u.id, h.Items[0].ChangedBy)
		e.get(u, aliasPath(bot, "production", "/history?skip=1&limit=1")).decode(t, &h)
		require.Len(t, h.Items, 1)
		require.True(t, h.Items[0].FromVersion.IsNull(), "the creation comes last")
		require.Equal(t, int32(1), h.Items[0].ToVersion.MustGet())

		e.get(u, aliasPath(bot, "canary", "/history")).decode(t, &h)
		require.Equal(t, int64(2), h.Total)
		require.True(t, h.Items[0].ToVersion.IsNull(), "the deletion comes first")
		require.Equal(t, int32(1), h.Items[0].FromVersion.MustGet())

		e.get(u, aliasPath(bot, "never", "/history")).problem(t, http.StatusNotFound)
	})

	t.Run("AViewerOfAPublicBotReadsButCannotWrite", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, viewer := newUser(t), newUser(t)
		bot := e.twoActiveVersions(owner, map[string]any{"name": "Shared", "is_public": true})
		res := e.put(owner, aliasPath(bot, "production"), map[string]any{"version": 1}, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		tag := res.header.Get("ETag")

		require.Equal(t, http.StatusOK, e.get(viewer, botPath(bot.Id, "/aliases")).code)
		require.Equal(t, http.StatusOK, e.get(viewer, aliasPath(bot, "production")).code)
		require.Equal(t, http.StatusOK, e.get(viewer, aliasPath(bot, "production", "/history")).code)

		// As for a PUT of the bot itself: 403.
		e.put(viewer, botPath(bot.Id), map[string]any{"temperature": 1}, nil).problem(t, http.StatusForbidden)
		e.put(viewer, aliasPath(bot, "production"), map[string]any{"version": 2}, nil).problem(t, http.StatusForbidden)
		e.put(viewer, aliasPath(bot, "staging"), map[string]any{"version": 2}, nil).problem(t, http.StatusForbidden)
		e.delete(viewer, aliasPath(bot, "production"), nil).problem(t, http.StatusForbidden)

		res = e.get(owner, aliasPath(bot, "production"))
		require.Equal(t, tag, res.header.Get("ETag"), "nothing moved")
	})

	t.Run("AStrangerSeesNothing", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, stranger := newUser(t), newUser(t)
		bot := e.twoActiveVersions(owner, map[string]any{"name": "Private"})
		require.Equal(t, http.StatusCreated, e.put(owner, aliasPath(bot, "production"), map[string]any{"version": 1}, nil).code)

		e.getNotFound(stranger, botPath(bot.Id, "/aliases"), aliasPath(bot, "production"), aliasPath(bot, "production", "/history"))
		e.put(stranger, aliasPath(bot, "production"), map[string]any{"version": 2}, nil).problem(t, http.StatusNotFound)
		e.put(stranger, aliasPath(bot, "production"), map[string]any{"version": 2}, map[string]string{"If-Match": `"1"`}).problem(t, http.StatusNotFound)
		e.delete(stranger, aliasPath(bot, "production"), nil).problem(t, http.StatusNotFound)
	})

	t.Run("ADeletedBotsAliasesAreKeptForItsRestore", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		require.Equal(t, http.StatusCreated, e.put(u, aliasPath(bot, "production"), map[string]any{"version": 1}, nil).code)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id, "?confirm=true"), nil).code)

		e.put(u, aliasPath(bot, "production"), map[string]any{"version": 2}, nil).problem(t, http.StatusNotFound)
		e.put(u, aliasPath(bot, "staging"), map[string]any{"version": 2}, nil).problem(t, http.StatusNotFound)
		e.delete(u, aliasPath(bot, "production"), nil).problem(t, http.StatusNotFound)
		e.getNotFound(u, aliasPath(bot, "production"), botPath(bot.Id, "/aliases"))

		require.Equal(t, http.StatusOK, e.post(u, botPath(bot.Id, "/restore"), nil).code)
		var a api.BotAlias
		res := e.get(u, aliasPath(bot, "production"))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		res.decode(t, &a)
		require.Equal(t, int32(1), a.Version)

		// The purge removes them with the bot.
		_, err := e.pool.Exec(context.Background(), `DELETE FROM bots WHERE id = $1`, bot.Id)
		require.NoError(t, err)
		var n int
		require.NoError(t, e.pool.QueryRow(context.Background(),
			`SELECT (SELECT count(*) FROM bot_aliases WHERE bot_id = $1) + (SELECT count(*) FROM bot_alias_moves WHERE bot_id = $1)`, bot.Id).Scan(&n))
		require.Zero(t, n)
	})
}
