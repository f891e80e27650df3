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
