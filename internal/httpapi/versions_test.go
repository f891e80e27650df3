package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// versions reads every version of a bot, newest first, as u.
func (e *env) versions(u user, bot api.BotResponse) api.BotVersionList {
	e.t.Helper()
	res := e.get(u, botPath(bot.Id, "/versions?limit=100"))
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	list := decoded[api.BotVersionList](e.t, res)
	return list
}

// version reads one version of a bot as u.
func (e *env) version(u user, bot api.BotResponse, number int) (api.BotVersion, *response) {
	e.t.Helper()
	res := e.get(u, botPath(bot.Id, fmt.Sprintf("/versions/%d", number)))
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	v := decoded[api.BotVersion](e.t, res)
	return v, res
}

func TestBotVersions(t *testing.T) {
	t.Parallel()

	t.Run("ACreatedBotHasVersionOne", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "model": "gpt-4o", "temperature": 0.3, "system_prompt": "Be kind."})
		require.Equal(t, int32(1), bot.ConfigVersion)

		list := e.versions(u, bot)
		require.Equal(t, int64(1), list.Total)
		require.Len(t, list.Items, 1)
		v := list.Items[0]
		require.Equal(t, int32(1), v.Number)
		require.Equal(t, "gpt-4o", v.Model)
		require.Equal(t, 0.3, v.Temperature)
		require.Equal(t, "Be kind.", v.SystemPrompt)
		require.Equal(t, api.BotStatusTraining, v.Status)
		require.Equal(t, api.Create, v.Source)
		require.Equal(t, u.id, v.CreatedBy)
		require.True(t, v.RevertedFrom.IsNull())
		require.Equal(t, bot.CreatedAt, v.CreatedAt)

		one, _ := e.version(u, bot, 1)
		require.Equal(t, v, one)
	})

	t.Run("EachChangeOfTheConfigurationRecordsTheNextVersion", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 0.3, "system_prompt": "Be kind."})
		edits := []map[string]any{
			{"temperature": 0.9},
			{"model": "gpt-4o"},
			{"system_prompt": "Be brief."},
			{"temperature": 1.1, "name": "Renamed"},
		}
		for i, edit := range edits {
			res := e.put(u, botPath(bot.Id), edit, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			got := decoded[api.BotResponse](t, res)
			require.Equal(t, int32(i+2), got.ConfigVersion, "after %v", edit)
		}

		list := e.versions(u, bot)
		require.Equal(t, int64(5), list.Total)
		numbers := make([]int32, len(list.Items))
		for i, v := range list.Items {
			numbers[i] = v.Number
		}
		require.Equal(t, []int32{5, 4, 3, 2, 1}, numbers, "newest first")
		latest := list.Items[0]
		require.Equal(t, api.Update, latest.Source)
		require.Equal(t, "gpt-4o", latest.Model)
		require.Equal(t, 1.1, latest.Temperature)
		require.Equal(t, "Be brief.", latest.SystemPrompt)
		third := list.Items[2]
		require.Equal(t, "gpt-4o", third.Model)
		require.Equal(t, 0.9, third.Temperature)
		require.Equal(t, "Be kind.", third.SystemPrompt, "a version keeps the configuration it was recorded with")
	})

	t.Run("OtherEditsRecordNoVersion", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 0.3, "system_prompt": "Be kind."})
		for _, edit := range []map[string]any{
			{"name": "Renamed"},
			{"description": "Now described."},
			{"is_public": true},
			{"temperature": 0.3, "system_prompt": "Be kind.", "model": "gpt-4o-mini"}, // the same configuration
		} {
			res := e.put(u, botPath(bot.Id), edit, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			got := decoded[api.BotResponse](t, res)
			require.Equal(t, int32(1), got.ConfigVersion, "after %v", edit)
		}
		require.Equal(t, int64(1), e.versions(u, bot).Total)
	})

	t.Run("ACopyStartsAtVersionOneWithTheSourcesLatestConfiguration", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, copier := newUser(t), newUser(t)
		src := e.createBot(owner, map[string]any{"name": "Support", "is_public": true, "temperature": 0.3})
		res := e.put(owner, botPath(src.Id), map[string]any{"system_prompt": "Be brief.", "temperature": 1.5}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))

		res = e.post(copier, botPath(src.Id, "/duplicate"), nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		cp := decoded[api.BotResponse](t, res)
		require.Equal(t, int32(1), cp.ConfigVersion)

		list := e.versions(copier, cp)
		require.Equal(t, int64(1), list.Total, "history is not copied")
		v := list.Items[0]
		require.Equal(t, int32(1), v.Number)
		require.Equal(t, api.Duplicate, v.Source)
		require.Equal(t, copier.id, v.CreatedBy)
		require.Equal(t, "Be brief.", v.SystemPrompt)
		require.Equal(t, 1.5, v.Temperature)
	})

	t.Run("PagesAreNewestFirstWithTheTotal", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		for i := range 4 {
			res := e.put(u, botPath(bot.Id), map[string]any{"temperature": float64(i+1) / 10}, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
		}
		var seen []int32
		for skip := 0; skip < 6; skip += 2 {
			res := e.get(u, botPath(bot.Id, fmt.Sprintf("/versions?skip=%d&limit=2", skip)))
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			page := decoded[api.BotVersionList](t, res)
			require.Equal(t, int64(5), page.Total)
			require.Equal(t, int32(skip), page.Skip)
			require.Equal(t, int32(2), page.Limit)
			for _, v := range page.Items {
				seen = append(seen, v.Number)
			}
		}
		require.Equal(t, []int32{5, 4, 3, 2, 1}, seen)

		res := e.get(u, botPath(bot.Id, "/versions?skip=10"))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		past := decoded[api.BotVersionList](t, res)
		require.Empty(t, past.Items)
		require.Equal(t, int64(5), past.Total)
	})

	t.Run("AnyoneMayReadAPublicBotsVersions", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, viewer := newUser(t), newUser(t)
		bot := e.createBot(owner, map[string]any{"name": "Shared", "is_public": true})
		require.Equal(t, int64(1), e.versions(viewer, bot).Total)
		v, _ := e.version(viewer, bot, 1)
		require.Equal(t, owner.id, v.CreatedBy)
	})

	t.Run("OtherUsersPrivateBotsVersionsAreNotFound", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, stranger := newUser(t), newUser(t)
		bot := e.createBot(owner, map[string]any{"name": "Private"})
		e.getNotFound(stranger, botPath(bot.Id, "/versions"), botPath(bot.Id, "/versions/1"))
	})

	t.Run("ADeletedBotsVersionsAreNotFoundAndComeBackWithIt", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 1.2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		res = e.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		e.getNotFound(u, botPath(bot.Id, "/versions"), botPath(bot.Id, "/versions/1"))

		res = e.post(u, botPath(bot.Id, "/restore"), nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, int64(2), e.versions(u, bot).Total, "a delete keeps the versions")
	})

	t.Run("AMissingNumberIsNotFound", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		p := e.get(u, botPath(bot.Id, "/versions/2")).problem(t, http.StatusNotFound)
		require.Contains(t, p.Detail, "no version with this number")
		e.get(u, botPath(bot.Id, "/versions/0")).problem(t, http.StatusUnprocessableEntity)
	})

	t.Run("AVersionAnswersIfNoneMatchWith304", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		_, first := e.version(u, bot, 1)
		tag := first.header.Get("ETag")
		require.Regexp(t, `^"[^"]+"$`, tag, "a strong ETag")

		for _, sent := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			res := e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/versions/1"), as: &u, header: map[string]string{"If-None-Match": sent}})
			require.Equal(t, http.StatusNotModified, res.code, sent)
			require.Empty(t, res.body)
			require.Equal(t, tag, res.header.Get("ETag"))
		}
		res := e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/versions/1"), as: &u, header: map[string]string{"If-None-Match": `"other"`}})
		require.Equal(t, http.StatusOK, res.code)

		// Training finishes: the version's status, and so its ETag, changes.
		e.activate(bot.Id)
		v, after := e.version(u, bot, 1)
		require.Equal(t, api.BotStatusActive, v.Status)
		require.NotEqual(t, tag, after.header.Get("ETag"))
		res = e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/versions/1"), as: &u, header: map[string]string{"If-None-Match": tag}})
		require.Equal(t, http.StatusOK, res.code, "the old ETag no longer matches")
	})

	t.Run("OnlyAnActiveVersionMayBeCachedForever", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		_, res := e.version(u, bot, 1)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"), "a version in training still changes")

		e.activate(bot.Id)
		_, res = e.version(u, bot, 1)
		require.Equal(t, "private, max-age=31536000, immutable", res.header.Get("Cache-Control"))
		notModified := e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/versions/1"), as: &u, header: map[string]string{"If-None-Match": res.header.Get("ETag")}})
		require.Equal(t, http.StatusNotModified, notModified.code)
		require.Equal(t, "private, max-age=31536000, immutable", notModified.header.Get("Cache-Control"))

		failed := e.createBot(u, map[string]any{"name": "Failed"})
		e.setStatus("error", "the model refused the prompt", failed.Id)
		v, res := e.version(u, failed, 1)
		require.Equal(t, api.BotStatusError, v.Status)
		require.Equal(t, "the model refused the prompt", v.StatusMessage.MustGet())
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
	})

	t.Run("ASupersededVersionKeepsItsStatus", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		e.activate(bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be brief."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		list := e.versions(u, bot)
		require.Equal(t, api.BotStatusTraining, list.Items[0].Status, "a new prompt trains")
		require.Equal(t, api.BotStatusActive, list.Items[1].Status)

		e.setStatus("error", "out of quota", bot.Id)
		list = e.versions(u, bot)
		require.Equal(t, api.BotStatusError, list.Items[0].Status)
		require.Equal(t, api.BotStatusActive, list.Items[1].Status, "only the latest version follows the bot")
	})

	t.Run("ConcurrentEditsNumberTheirVersionsWithoutGaps", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 0})
		reqs := make([]request, 10)
		for i := range reqs {
			reqs[i] = request{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: map[string]any{"temperature": float64(i+1) / 10}}
		}
		seen := map[int32]bool{}
		for _, res := range e.race(reqs) {
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			got := decoded[api.BotResponse](t, res)
			require.False(t, seen[got.ConfigVersion], "version %d answered twice", got.ConfigVersion)
			seen[got.ConfigVersion] = true
		}
		list := e.versions(u, bot)
		require.Equal(t, int64(11), list.Total)
		temperatures := map[float64]bool{}
		for i, v := range list.Items {
			require.Equal(t, int32(11-i), v.Number)
			temperatures[v.Temperature] = true
		}
		require.Len(t, temperatures, 11, "each edit recorded its own configuration")
	})
}

// TestBotVersionsAreImmutable checks the database itself: no writer, whatever its path, can
// change a recorded configuration.
func TestBotVersionsAreImmutable(t *testing.T) {
	t.Parallel()
	e, _, bot := setupBot(t, map[string]any{"name": "Support", "system_prompt": "Be kind."})
	_, err := e.pool.Exec(context.Background(), `UPDATE bot_versions SET system_prompt = 'Be rude.' WHERE bot_id = $1`, bot.Id)
	require.ErrorContains(t, err, "immutable")
	_, err = e.pool.Exec(context.Background(), `UPDATE bot_versions SET status = 'active' WHERE bot_id = $1`, bot.Id)
	require.ErrorContains(t, err, "bot_versions_prepared", "an active version has its prepared configuration")
	_, err = e.pool.Exec(context.Background(), `UPDATE bot_versions SET status = 'active', prepared_config = '{}' WHERE bot_id = $1`, bot.Id)
	require.NoError(t, err, "a version in training may become active")
	for _, change := range []string{"status = 'training', prepared_config = NULL", "prepared_config = '{\"model\": \"x\"}'", "status_message = 'x'"} {
		_, err = e.pool.Exec(context.Background(), `UPDATE bot_versions SET `+change+` WHERE bot_id = $1`, bot.Id)
		require.ErrorContains(t, err, "is active: it no longer changes", change)
	}
}

// A version is immutable: no method changes it.
func TestAVersionCannotBeChanged(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
		res := e.do(request{method: method, path: botPath(bot.Id, "/versions/1"), as: &u, body: map[string]any{"temperature": 1}})
		res.problem(t, http.StatusMethodNotAllowed)
		require.Equal(t, "OPTIONS, GET, HEAD", res.header.Get("Allow"), method)
	}
	v, _ := e.version(u, bot, 1)
	require.Equal(t, 0.7, v.Temperature, "nothing changed")
}

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
