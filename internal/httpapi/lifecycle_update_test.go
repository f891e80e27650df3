package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

func TestUpdateBot(t *testing.T) {
	t.Parallel()
	e := setup(t)

	e.run(t, "UnsentFieldsKeepTheirValues", func(t *testing.T, e *env, u user) {
		bot, before := e.create(u, lifeFull())

		res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 1.3}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))

		want := lifeJSON(t, before)
		want["temperature"] = 1.3
		want["config_version"] = 2.0 // a new temperature is a new configuration
		got := lifeJSON(t, res)
		delete(want, "updated_at")
		delete(got, "updated_at")
		require.Equal(t, want, got)
	})

	e.run(t, "NullDescriptionClearsIt", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, lifeFull())
		res := e.put(u, botPath(bot.Id), map[string]any{"description": nil}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		got := lifeJSON(t, e.get(u, botPath(bot.Id)))
		require.Contains(t, got, "description")
		require.Nil(t, got["description"])
		require.Equal(t, "You are a friendly support agent.", got["system_prompt"])
	})

	e.run(t, "EveryUpdateChangesTheETagAndMovesUpdatedAtForward", func(t *testing.T, e *env, u user) {
		prev, created := e.create(u, lifeFull())
		tags := []string{lifeETag(t, created)}

		// The last update sets the name it already has: still an update, so still a new ETag.
		for _, body := range []map[string]any{
			{"name": "Renamed"},
			{"description": nil},
			{"is_public": true, "temperature": 2},
			{"name": "Renamed"},
		} {
			res := e.put(u, botPath(prev.Id), body, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			tag := lifeETag(t, res)
			require.NotContains(t, tags, tag, "after %v", body)
			tags = append(tags, tag)

			bot := decoded[api.BotResponse](t, res)
			require.False(t, bot.UpdatedAt.Before(prev.UpdatedAt), "updated_at went from %s back to %s", prev.UpdatedAt, bot.UpdatedAt)
			require.True(t, bot.CreatedAt.Equal(prev.CreatedAt), "created_at changed")
			require.Equal(t, tag, lifeETag(t, e.get(u, botPath(bot.Id))))
			prev = bot
		}
	})

	t.Run("ActiveBot", func(t *testing.T) {
		t.Parallel()
		cases := map[string]struct {
			body     map[string]any
			retrains bool
		}{
			"NewModelSendsItBackToTraining":            {map[string]any{"model": "gpt-4o"}, true},
			"NewSystemPromptSendsItBackToTraining":     {map[string]any{"system_prompt": "Be brief."}, true},
			"EmptiedSystemPromptSendsItBackToTraining": {map[string]any{"system_prompt": ""}, true},
			"NewModelAndNameSendItBackToTraining":      {map[string]any{"model": "mistral-small", "name": "Other"}, true},
			"NewNameKeepsItActive":                     {map[string]any{"name": "Renamed"}, false},
			"NewTemperatureKeepsItActive":              {map[string]any{"temperature": 1.1}, false},
			"PublishingKeepsItActive":                  {map[string]any{"is_public": true}, false},
			"NewDescriptionKeepsItActive":              {map[string]any{"description": "Other."}, false},
			"ClearedDescriptionKeepsItActive":          {map[string]any{"description": nil}, false},
			"SameModelKeepsItActive":                   {map[string]any{"model": "gpt-4o-mini"}, false},
			"SameSystemPromptKeepsItActive":            {map[string]any{"system_prompt": "You are a friendly support agent."}, false},
		}
		for name, c := range cases {
			e.run(t, name, func(t *testing.T, e *env, u user) {
				bot := e.createBot(u, lifeFull())
				e.authzFor(t).setStatus("active", "trained on the latest prompt", bot.Id)

				res := e.put(u, botPath(bot.Id), c.body, nil)
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				for _, got := range []map[string]any{lifeJSON(t, res), lifeJSON(t, e.get(u, botPath(bot.Id)))} {
					if c.retrains {
						require.Equal(t, "training", got["status"])
						require.Nil(t, got["status_message"])
					} else {
						require.Equal(t, "active", got["status"])
						require.Equal(t, "trained on the latest prompt", got["status_message"])
					}
				}
			})
		}
	})
}

func TestUpdateBotIfMatch(t *testing.T) {
	t.Parallel()
	// Each bot has been updated once, so that it has a current ETag and a stale one.
	cases := map[string]struct {
		ifMatch func(current, stale string) string
		matches bool
	}{
		"CurrentETagMatches":            {func(cur, _ string) string { return cur }, true},
		"StaleETagFails":                {func(_, stale string) string { return stale }, false},
		"WeakCurrentETagFails":          {func(cur, _ string) string { return "W/" + cur }, false},
		"WeakStaleETagFails":            {func(_, stale string) string { return "W/" + stale }, false},
		"ListWithTheCurrentETagMatches": {func(cur, _ string) string { return `"7", ` + cur }, true},
		"ListOfOtherETagsFails":         {func(_, stale string) string { return `"7", ` + stale + `, "99"` }, false},
		"StarMatches":                   {func(string, string) string { return "*" }, true},
		"UnquotedCurrentVersionFails":   {func(cur, _ string) string { return strings.Trim(cur, `"`) }, false},
		"GarbageFails":                  {func(string, string) string { return "garbage" }, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, u := setupUser(t)
			bot, created := e.create(u, map[string]any{"name": "Support", "model": "gpt-4o-mini"})
			stale := lifeETag(t, created)
			first := e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.9}, nil)
			require.Equal(t, http.StatusOK, first.code, string(first.body))
			current := lifeETag(t, first)
			require.NotEqual(t, stale, current)
			before := lifeLoad(t, e, bot.Id)

			res := e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed"}, map[string]string{"If-Match": c.ifMatch(current, stale)})
			after := lifeLoad(t, e, bot.Id)
			if c.matches {
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				require.Equal(t, "Renamed", after.name)
				require.Equal(t, before.version+1, after.version)
				require.NotEqual(t, current, lifeETag(t, res))
				return
			}
			p := res.problem(t, http.StatusPreconditionFailed)
			require.Equal(t, "/problems/precondition-failed", p.Type)
			require.Equal(t, before, after, "a failed precondition changed the bot")
			require.Equal(t, current, lifeETag(t, e.get(u, botPath(bot.Id))))
		})
	}
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()

	t.Run("OnlyOneOfManyUpdatesWithTheSameIfMatchWins", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot, created := e.create(u, map[string]any{"name": "Contested", "model": "gpt-4o-mini"})
		tag := lifeETag(t, created)
		before := lifeLoad(t, e, bot.Id)

		updates := make([]request, 20)
		for i := range updates {
			updates[i] = request{
				method: http.MethodPut, path: botPath(bot.Id), as: &u,
				body:   map[string]any{"name": fmt.Sprintf("Writer %d", i)},
				header: map[string]string{"If-Match": tag},
			}
		}
		results := e.race(updates)

		winner := -1
		for i, res := range results {
			switch res.code {
			case http.StatusOK:
				require.Equal(t, -1, winner, "two updates with the same If-Match both won")
				winner = i
			case http.StatusPreconditionFailed:
				require.Equal(t, "/problems/precondition-failed", res.problem(t, http.StatusPreconditionFailed).Type)
			default:
				t.Fatalf("update %d answered %d: %s", i, res.code, res.body)
			}
		}
		require.NotEqual(t, -1, winner, "no update won")

		after := lifeLoad(t, e, bot.Id)
		require.Equal(t, before.version+1, after.version)
		require.Equal(t, fmt.Sprintf("Writer %d", winner), after.name)
		require.Equal(t, lifeETag(t, results[winner]), lifeETag(t, e.get(u, botPath(bot.Id))))
	})

	t.Run("ConcurrentDuplicatesGetDistinctDefaultNames", func(t *testing.T) {
		t.Parallel()
		e, u, src := setupBot(t, map[string]any{"name": "X"})

		const n = 10
		duplicates := make([]request, n)
		for i := range duplicates {
			duplicates[i] = request{method: http.MethodPost, path: botPath(src.Id, "/duplicate"), as: &u}
		}

		var got []string
		for i, res := range e.race(duplicates) {
			require.Equal(t, http.StatusCreated, res.code, "duplicate %d: %s", i, res.body)
			bot := decoded[api.BotResponse](t, res)
			got = append(got, bot.Name)
		}
		want := []string{"X (copy)"}
		for i := 2; i <= n; i++ {
			want = append(want, fmt.Sprintf("X (copy %d)", i))
		}
		require.ElementsMatch(t, want, got)
		require.Equal(t, int64(n+1), lifeList(t, e, u).Total)
	})
}
