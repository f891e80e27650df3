package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// The life cycle of a bot: create, read, update under If-Match, delete with confirmation,
// restore, duplicate, retrain, and the model catalog they all draw on.

func TestListModels(t *testing.T) {
	t.Parallel()

	models := func(t *testing.T, e *env) []api.Model {
		t.Helper()
		res := e.get(newUser(t), "/api/v1/models")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		list := decoded[api.ModelList](t, res)
		require.NotEmpty(t, list.Items)
		return list.Items
	}

	t.Run("EveryModelIsDescribed", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		for _, m := range models(t, setup(t)) {
			require.NotEmpty(t, m.Id)
			require.False(t, seen[m.Id], "%s is listed twice", m.Id)
			seen[m.Id] = true
			require.NotEmpty(t, m.DisplayName, m.Id)
			require.NotEmpty(t, m.Provider, m.Id)
			require.Positive(t, m.ContextWindow, m.Id)
		}
	})

	t.Run("RetiredModelIsListedAsRetired", func(t *testing.T) {
		t.Parallel()
		all := models(t, setup(t))
		i := slices.IndexFunc(all, func(m api.Model) bool { return m.Id == "gpt-3.5-turbo" })
		require.NotEqual(t, -1, i, "gpt-3.5-turbo is not listed")
		require.True(t, all[i].Retired)
		require.True(t, slices.ContainsFunc(all, func(m api.Model) bool { return !m.Retired }), "no model is usable")
	})

	t.Run("EveryListedModelIsAcceptedOnCreate", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		for _, m := range models(t, e) {
			bot := e.createBot(u, map[string]any{"name": "On " + m.Id, "model": m.Id})
			require.Equal(t, m.Id, bot.Model)
		}
	})
}

// lifeETag returns the response's ETag after checking that it is a strong one.
func lifeETag(t *testing.T, res *response) string {
	t.Helper()
	tag := res.header.Get("ETag")
	require.Regexp(t, `^"[\x21\x23-\x7e]+"$`, tag, "want a strong ETag")
	return tag
}

// lifeJSON decodes a body as JSON values, so that bodies compare field by field exactly as
// sent, whatever time zone the timestamps are written in.
func lifeJSON(t *testing.T, res *response) map[string]any {
	t.Helper()
	var m map[string]any
	res.decode(t, &m)
	return m
}

// lifeFull is a new bot's body with every field set, a new map each time.
func lifeFull() map[string]any {
	return map[string]any{
		"name":          "Café support ☕",
		"description":   "Answers questions about orders and returns.",
		"model":         "gpt-4o-mini",
		"temperature":   0.7,
		"system_prompt": "You are a friendly support agent.",
		"is_public":     false,
	}
}

// lifeRow is what the bots table holds about a bot, deleted or not.
type lifeRow struct {
	name, status  string
	statusMessage *string
	version       int64
	updatedAt     time.Time
	deletedAt     *time.Time
}

func lifeLoad(t *testing.T, e *env, id uuid.UUID) lifeRow {
	t.Helper()
	var r lifeRow
	err := e.pool.QueryRow(context.Background(),
		`SELECT name, status::text, status_message, version, updated_at, deleted_at FROM bots WHERE id = $1`, id,
	).Scan(&r.name, &r.status, &r.statusMessage, &r.version, &r.updatedAt, &r.deletedAt)
	require.NoError(t, err)
	return r
}

// lifeCountRows checks how many rows the bots table holds, deleted ones included.
func lifeCountRows(t *testing.T, e *env, want int64) {
	t.Helper()
	var n int64
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM bots`).Scan(&n))
	require.Equal(t, want, n)
}

// lifeList returns the first page (up to 100) of the user's bots, by name.
func lifeList(t *testing.T, e *env, u user) api.BotList {
	t.Helper()
	return lstList(e.authzFor(t), u, url.Values{"limit": {"100"}, "sort": {"name"}})
}

func lifeNames(list api.BotList) []string {
	names := make([]string, len(list.Items))
	for i, b := range list.Items {
		names[i] = b.Name
	}
	return names
}

func TestTrainBot(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"FailedBotGoesBackToTraining": "error",
		"ActiveBotGoesBackToTraining": "active",
		"TrainingBotStartsOver":       "training",
	}
	for name, status := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 1.1})
			e.authzFor(t).setStatus(status, "x", bot.Id)
			before := e.get(u, botPath(bot.Id))

			res := e.post(u, botPath(bot.Id, "/train"), nil)
			require.Equal(t, http.StatusAccepted, res.code, string(res.body))
			tag := lifeETag(t, res)
			require.NotEqual(t, lifeETag(t, before), tag)
			got := lifeJSON(t, res)
			require.Equal(t, "training", got["status"])
			require.Nil(t, got["status_message"])
			require.Equal(t, 1.1, got["temperature"])

			after := e.get(u, botPath(bot.Id))
			require.Equal(t, tag, lifeETag(t, after))
			require.Equal(t, "training", lifeJSON(t, after)["status"])
		})
	}
}
