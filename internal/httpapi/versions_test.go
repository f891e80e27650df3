package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
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

// revert asks for a revert of bot to version number as u.
func (e *env) revert(u user, bot api.BotResponse, number int, header map[string]string) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodPost, path: botPath(bot.Id, fmt.Sprintf("/versions/%d/revert", number)), as: &u, header: header})
}

// preparedConfig reads the prepared configuration of a version straight from the database.
func (e *env) preparedConfig(bot uuid.UUID, number int) map[string]any {
	e.t.Helper()
	var raw []byte
	require.NoError(e.t, e.pool.QueryRow(context.Background(),
		`SELECT prepared_config FROM bot_versions WHERE bot_id = $1 AND number = $2`, bot, number).Scan(&raw))
	if raw == nil {
		return nil
	}
	var out map[string]any
	require.NoError(e.t, json.Unmarshal(raw, &out))
	return out
}

func TestRevertBotVersion(t *testing.T) {
	t.Parallel()

	t.Run("ToAnActiveVersionIsAnInstantRollback", func(t *testing.T) {
		t.Parallel()
		e := setup(t) // jobs are queued, not worked
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support", "model": "gpt-4o", "temperature": 0.3, "system_prompt": "Be kind."})
		e.activate(bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be rude."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, api.BotStatusTraining, decodeBot(t, res).Status)

		res = e.revert(u, bot, 1, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, botPath(bot.Id, "/versions/3"), res.header.Get("Location"))
		require.Equal(t, `"3-active"`, res.header.Get("ETag"))
		require.Equal(t, "private, max-age=31536000, immutable", res.header.Get("Cache-Control"))
		v := decoded[api.BotVersion](t, res)
		require.Equal(t, int32(3), v.Number)
		require.Equal(t, api.Revert, v.Source)
		require.Equal(t, int32(1), v.RevertedFrom.MustGet())
		require.Equal(t, api.BotStatusActive, v.Status)
		require.Equal(t, "Be kind.", v.SystemPrompt)
		require.Equal(t, 0.3, v.Temperature)
		require.Equal(t, u.id, v.CreatedBy)
		got, _ := e.version(u, bot, 3)
		require.Equal(t, v, got)

		res = e.get(u, botPath(bot.Id))
		current := decodeBot(t, res)
		require.Equal(t, api.BotStatusActive, current.Status, "the bot is its latest version")
		require.Equal(t, int32(3), current.ConfigVersion)
		require.Equal(t, "Be kind.", current.SystemPrompt)
		require.Equal(t, e.preparedConfig(bot.Id, 1), e.preparedConfig(bot.Id, 3), "the rollback reuses what training prepared")
		require.Equal(t, []int32{1, 2}, e.jobsFor(bot.Id), "nothing to train")
		require.Equal(t, []string{"none>training", "training>active", "active>training", "training>active"},
			transitions(e.history(u, bot.Id)))

		// The version being replaced keeps training on its own.
		two, _ := e.version(u, bot, 2)
		require.Equal(t, api.BotStatusTraining, two.Status)
	})

	t.Run("ABotInErrorComesBackActive", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "system_prompt": "Be kind."})
		e.activate(bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"model": "gpt-4o"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		e.setStatus("error", "the model refused the prompt", bot.Id)

		res = e.revert(u, bot, 1, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		current := decodeBot(t, e.get(u, botPath(bot.Id)))
		require.Equal(t, api.BotStatusActive, current.Status)
		require.False(t, current.StatusMessage.IsSpecified() && !current.StatusMessage.IsNull(), "an active bot has no status message")
		require.Equal(t, "gpt-4o-mini", current.Model)
	})

	t.Run("ToAVersionThatIsNotActiveTrains", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "system_prompt": "Be kind."})
		e.setStatus("error", "the provider was down", bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be brief."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		e.activate(bot.Id)

		res = e.revert(u, bot, 1, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		v := decoded[api.BotVersion](t, res)
		require.Equal(t, api.BotStatusTraining, v.Status)
		require.Equal(t, "Be kind.", v.SystemPrompt)
		require.Nil(t, e.preparedConfig(bot.Id, 3))
		require.Equal(t, []int32{1, 2, 3}, e.jobsFor(bot.Id), "the new version has its job")
		current := decodeBot(t, e.get(u, botPath(bot.Id)))
		require.Equal(t, api.BotStatusTraining, current.Status)
		two, _ := e.version(u, bot, 2)
		require.Equal(t, api.BotStatusActive, two.Status, "the active version stays as it is")
	})

	t.Run("ARevertCanBeReverted", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 0.1})
		e.activate(bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.2}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, http.StatusCreated, e.revert(u, bot, 1, nil).code)
		res = e.revert(u, bot, 2, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		v := decoded[api.BotVersion](t, res)
		require.Equal(t, int32(4), v.Number)
		require.Equal(t, 0.2, v.Temperature)
		require.Equal(t, api.BotStatusActive, v.Status)
		list := e.versions(u, bot)
		require.Equal(t, int64(4), list.Total)
	})

	t.Run("IfMatchMakesItConditional", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support"})
		e.activate(bot.Id)
		tag := e.get(u, botPath(bot.Id)).header.Get("ETag")
		res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 1.1}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		current := res.header.Get("ETag")

		res = e.revert(u, bot, 1, map[string]string{"If-Match": tag})
		require.Equal(t, http.StatusPreconditionFailed, res.code, string(res.body))
		require.Equal(t, current, res.header.Get("ETag"))
		require.Equal(t, int64(2), e.versions(u, bot).Total, "a refused revert records nothing")

		res = e.revert(u, bot, 1, map[string]string{"If-Match": current})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.NotEqual(t, current, e.get(u, botPath(bot.Id)).header.Get("ETag"), "a revert changes the bot")
	})

	t.Run("WhoMayRevert", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, viewer := newUser(t), newUser(t)
		public := e.createBot(owner, map[string]any{"name": "Public", "is_public": true})
		private := e.createBot(owner, map[string]any{"name": "Private"})
		e.revert(viewer, public, 1, nil).problem(t, http.StatusForbidden)
		e.revert(viewer, private, 1, nil).problem(t, http.StatusNotFound)
		e.revert(owner, public, 2, nil).problem(t, http.StatusNotFound)
		require.Equal(t, http.StatusOK, e.delete(owner, botPath(private.Id), map[string]string{"If-Match": "*"}).code)
		e.revert(owner, private, 1, nil).problem(t, http.StatusNotFound)
		require.Equal(t, int64(1), e.versions(owner, public).Total, "nothing was recorded")
		res := e.do(request{method: http.MethodPost, path: botPath(public.Id, "/versions/0/revert"), as: &owner})
		res.problem(t, http.StatusUnprocessableEntity)
	})

	t.Run("ARevertRacingEditsLeavesConsecutiveNumbers", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 0})
		e.activate(bot.Id)
		reqs := make([]request, 12)
		for i := range reqs {
			if i%2 == 0 {
				reqs[i] = request{method: http.MethodPost, path: botPath(bot.Id, "/versions/1/revert"), as: &u}
			} else {
				reqs[i] = request{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: map[string]any{"temperature": float64(i) / 10}}
			}
		}
		for _, res := range e.race(reqs) {
			require.Contains(t, []int{http.StatusOK, http.StatusCreated}, res.code, string(res.body))
		}
		list := e.versions(u, bot)
		require.Equal(t, int64(13), list.Total)
		reverts := 0
		for i, v := range list.Items {
			require.Equal(t, int32(13-i), v.Number, "no gaps, no duplicates")
			if v.Source == api.Revert {
				reverts++
				require.Equal(t, 0.0, v.Temperature)
			}
		}
		require.Equal(t, 6, reverts)
		current := decodeBot(t, e.get(u, botPath(bot.Id)))
		require.Equal(t, int32(13), current.ConfigVersion)
		require.Equal(t, list.Items[0].Temperature, current.Temperature, "the bot holds its latest version")
	})
}

// A new version whose model and system prompt are its active predecessor's needs no
// training when its model allows its temperature: it is active at once, with its
// predecessor's prepared configuration at the new temperature. Anything else trains.
func TestATemperatureOnlyChangeOfAnActiveVersionNeedsNoTraining(t *testing.T) {
	t.Parallel()
	e := setup(t) // jobs are queued, not worked
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Support", "model": "claude-3-haiku", "temperature": 0.2})
	e.activate(bot.Id)

	res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 1, "model": "claude-3-haiku"}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, api.BotStatusActive, decodeBot(t, res).Status, "1 is Claude 3 Haiku's highest temperature")
	two, _ := e.version(u, bot, 2)
	require.Equal(t, api.BotStatusActive, two.Status)
	prepared := e.preparedConfig(bot.Id, 1)
	prepared["temperature"] = 1.0
	require.Equal(t, prepared, e.preparedConfig(bot.Id, 2), "the predecessor's, at the new temperature")

	res = e.put(u, botPath(bot.Id), map[string]any{"temperature": 1.5}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, api.BotStatusTraining, decodeBot(t, res).Status, "above the model's range: training says why")
	require.Equal(t, []int32{1, 3}, e.jobsFor(bot.Id))

	// The predecessor must be active: version 3 is in training.
	res = e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.5}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, api.BotStatusTraining, decodeBot(t, res).Status)
	require.Equal(t, []int32{1, 3, 4}, e.jobsFor(bot.Id))

	e.activate(bot.Id)
	res = e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.6, "system_prompt": "Be brief."}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, api.BotStatusTraining, decodeBot(t, res).Status, "a new prompt trains")
	require.Equal(t, []int32{1, 3, 4, 5}, e.jobsFor(bot.Id))
}
