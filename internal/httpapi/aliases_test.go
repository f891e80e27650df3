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

	t.Run("ARecreatedAliasHasANewETag", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		path := aliasPath(bot, "production")

		// Each life of the alias: at version 1, at another version, at the same again.
		var old []string
		for _, version := range []int{1, 2, 2, 1} {
			res := e.put(u, path, map[string]any{"version": version}, nil)
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
			tag := res.header.Get("ETag")
			require.NotContains(t, old, tag, "a recreated alias repeats no ETag of its earlier lives")

			for _, stale := range old {
				res := e.do(request{method: http.MethodGet, path: path, as: &u, header: map[string]string{"If-None-Match": stale}})
				require.Equal(t, http.StatusOK, res.code, "If-None-Match: %s, an ETag of an earlier life", stale)
				require.Equal(t, tag, res.header.Get("ETag"))
				require.Equal(t, int32(version), decoded[api.BotAlias](t, res).Version)

				res = e.put(u, path, map[string]any{"version": 3 - version}, map[string]string{"If-Match": stale})
				res.problem(t, http.StatusPreconditionFailed)
				require.Equal(t, tag, res.header.Get("ETag"), "If-Match: %s, an ETag of an earlier life", stale)

				res = e.delete(u, path, map[string]string{"If-Match": stale})
				res.problem(t, http.StatusPreconditionFailed)
				require.Equal(t, tag, res.header.Get("ETag"))
			}
			res = e.do(request{method: http.MethodGet, path: path, as: &u, header: map[string]string{"If-None-Match": tag}})
			require.Equal(t, http.StatusNotModified, res.code, "the current ETag still answers 304")

			res = e.delete(u, path, map[string]string{"If-Match": tag})
			require.Equal(t, http.StatusNoContent, res.code, string(res.body))
			old = append(old, tag)
		}
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

	t.Run("EachBotCountsItsOwnETags", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		mine := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		other := newUser(t)
		theirs := e.twoActiveVersions(other, map[string]any{"name": "Sales"})

		res := e.put(other, aliasPath(theirs, "production"), map[string]any{"version": 1}, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, `"1"`, res.header.Get("ETag"), "a new bot's first alias")

		// Another user's alias writes, creations and moves, tell nothing through ours.
		for i := range 50 {
			path := aliasPath(mine, fmt.Sprintf("alias-%d", i%5))
			res := e.put(u, path, map[string]any{"version": 1 + i/5%2}, nil)
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, res.code, string(res.body))
		}
		res = e.put(other, aliasPath(theirs, "production"), map[string]any{"version": 2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, `"2"`, res.header.Get("ETag"), "the bot's second etag, whatever other bots wrote")
		res = e.put(other, aliasPath(theirs, "staging"), map[string]any{"version": 1}, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, `"3"`, res.header.Get("ETag"))
	})

	t.Run("ConcurrentWritesOfOneBotGetDistinctETags", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
		const n = 8
		seen := map[string]string{} // ETag: the alias that has it
		var reqs []request
		for i := range n {
			path := aliasPath(bot, fmt.Sprintf("moved-%d", i))
			res := e.put(u, path, map[string]any{"version": 1}, nil)
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
			seen[res.header.Get("ETag")] = path
			// Moves of the alias with and without If-Match, and a creation, race with the
			// others of the same bot. Whichever move comes second keeps the first's ETag.
			reqs = append(reqs,
				request{method: http.MethodPut, path: path, as: &u, body: map[string]any{"version": 2}, header: map[string]string{"If-Match": res.header.Get("ETag")}},
				request{method: http.MethodPut, path: path, as: &u, body: map[string]any{"version": 2}},
				request{method: http.MethodPut, path: aliasPath(bot, fmt.Sprintf("created-%d", i)), as: &u, body: map[string]any{"version": 1}})
		}
		moves := map[string]string{} // alias: the ETag its move gave
		for i, res := range e.race(reqs) {
			path := reqs[i].path
			if res.code == http.StatusPreconditionFailed { // the If-Match move came second
				continue
			}
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, res.code, string(res.body))
			tag := res.header.Get("ETag")
			if moves[path] == tag {
				continue
			}
			require.NotContains(t, seen, tag, "%s and %s got the same ETag", seen[tag], path)
			seen[tag], moves[path] = path, tag
		}
		require.Len(t, seen, 3*n)
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

// movedAlias creates the alias at path at version 1 and moves it to version 2, returning its
// ETag before the move and its current one.
func (e *env) movedAlias(u user, path string) (stale, current string) {
	e.t.Helper()
	res := e.put(u, path, map[string]any{"version": 1}, nil)
	require.Equal(e.t, http.StatusCreated, res.code, string(res.body))
	stale = res.header.Get("ETag")
	res = e.put(u, path, map[string]any{"version": 2}, nil)
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	return stale, res.header.Get("ETag")
}

// TestAliasPreconditionsComeFirst checks that an alias write evaluates If-Match and
// If-None-Match before its body's version (RFC 9110 §13.2.1), and only on a bot the caller
// may change.
func TestAliasPreconditionsComeFirst(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
	path := aliasPath(bot, "production")
	stale, current := e.movedAlias(u, path)
	res := e.put(u, botPath(bot.Id), map[string]any{"model": "gpt-4o"}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	v, _ := e.version(u, bot, 3)
	require.Equal(t, api.BotStatusTraining, v.Status)

	const training, missing = 3, 77
	for _, c := range []struct {
		name    string
		alias   string
		header  map[string]string
		version int
		etag    string // the 412's ETag
	}{
		{"StaleIfMatchAndAVersionInTraining", "production", map[string]string{"If-Match": stale}, training, current},
		{"StaleIfMatchAndAMissingVersion", "production", map[string]string{"If-Match": stale}, missing, current},
		{"IfNoneMatchOnAnAliasThatExistsAndAVersionInTraining", "production", map[string]string{"If-None-Match": "*"}, training, current},
		{"IfNoneMatchOnAnAliasThatExistsAndAMissingVersion", "production", map[string]string{"If-None-Match": "*"}, missing, current},
		{"IfMatchOnAMissingAliasAndAVersionInTraining", "staging", map[string]string{"If-Match": "*"}, training, ""},
		{"IfMatchOnAMissingAliasAndAMissingVersion", "staging", map[string]string{"If-Match": current}, missing, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := e.put(u, aliasPath(bot, c.alias), map[string]any{"version": c.version}, c.header)
			p := res.problem(t, http.StatusPreconditionFailed)
			require.Equal(t, "/problems/precondition-failed", p.Type)
			require.Equal(t, c.etag, res.header.Get("ETag"))
		})
	}

	t.Run("TheVersionIsCheckedWhenThePreconditionsHold", func(t *testing.T) {
		for _, header := range []map[string]string{nil, {"If-Match": current}} {
			p := e.put(u, path, map[string]any{"version": training}, header).problem(t, http.StatusConflict)
			require.Equal(t, "/problems/version-not-ready", p.Type)
			require.Equal(t, "version 3 of the bot is not active (it is training); only an active version can be aliased", p.Detail)
			e.put(u, path, map[string]any{"version": missing}, header).problem(t, http.StatusNotFound)
		}
		p := e.put(u, aliasPath(bot, "staging"), map[string]any{"version": training}, map[string]string{"If-None-Match": "*"}).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/version-not-ready", p.Type)
	})

	t.Run("ABotTheCallerMayNotSeeIsNotFoundWhateverTheConditions", func(t *testing.T) {
		stranger := newUser(t)
		for _, header := range []map[string]string{{"If-Match": stale}, {"If-None-Match": "*"}} {
			res := e.put(stranger, path, map[string]any{"version": training}, header)
			res.problem(t, http.StatusNotFound)
			require.Empty(t, res.header.Get("ETag"))
		}
	})
}

// TestAliasDeletePreconditionFailedSpeaksOfIfMatch checks that the 412 of an alias delete
// names only the header a delete takes.
func TestAliasDeletePreconditionFailedSpeaksOfIfMatch(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
	path := aliasPath(bot, "production")
	stale, _ := e.movedAlias(u, path)

	res := e.delete(u, path, map[string]string{"If-Match": stale})
	p := res.problem(t, http.StatusPreconditionFailed)
	require.Contains(t, p.Detail, "If-Match")
	require.NotContains(t, p.Detail, "If-None-Match")
}

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
