package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// The life cycle of a bot: create, read, update under If-Match, delete with confirmation,
// restore, duplicate, retrain, and the model catalog they all draw on.

func TestCreateBot(t *testing.T) {
	t.Parallel()

	sent := map[string]any{
		"name":          "Café support ☕",
		"description":   "Answers questions about orders and returns.",
		"model":         "claude-3-haiku",
		"temperature":   0.7,
		"system_prompt": "You are a friendly support agent.",
		"is_public":     true,
	}

	t.Run("AnswersCreatedWithLocationAndAStrongETag", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		res := e.post(u, "/api/v1/bots", sent)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		lifeETag(t, res)
		var bot api.BotResponse
		res.decode(t, &bot)
		require.Equal(t, "/api/v1/bots/"+bot.Id.String(), res.header.Get("Location"))
		require.NotEqual(t, uuid.Nil, bot.Id)

		got := lifeJSON(t, res)
		for field, want := range sent {
			require.Equal(t, want, got[field], field)
		}
		require.Equal(t, u.id.String(), got["owner_id"])
		require.Equal(t, "training", got["status"])
		require.Nil(t, got["status_message"])
		require.True(t, bot.CreatedAt.Equal(bot.UpdatedAt), "created_at %s, updated_at %s", bot.CreatedAt, bot.UpdatedAt)
	})

	t.Run("GetAnswersTheSameETagAndBody", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		created := e.post(u, "/api/v1/bots", sent)
		require.Equal(t, http.StatusCreated, created.code, string(created.body))

		got := e.get(u, created.header.Get("Location"))
		require.Equal(t, http.StatusOK, got.code, string(got.body))
		require.Equal(t, lifeETag(t, created), lifeETag(t, got))
		require.Equal(t, lifeJSON(t, created), lifeJSON(t, got))
	})
}

func TestBotNamesAreUniquePerOwner(t *testing.T) {
	t.Parallel()

	t.Run("SameNameIgnoringCaseIsTaken", func(t *testing.T) {
		t.Parallel()
		cases := map[string]struct{ first, second string }{
			"UpperCase":            {"Support", "SUPPORT"},
			"LowerCase":            {"Support", "support"},
			"SurroundingSpace":     {"Support", "  Support  "},
			"MultibyteUpperCase":   {"Café Ärger", "CAFÉ ÄRGER"},
			"ExactlyTheSameString": {"日本語ボット", "日本語ボット"},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				u := newUser(t)
				e.createBot(u, map[string]any{"name": c.first})
				p := e.post(u, "/api/v1/bots", map[string]any{"name": c.second, "model": "gpt-4o-mini"}).problem(t, http.StatusConflict)
				require.Equal(t, "/problems/name-taken", p.Type)
				require.Equal(t, []string{c.first}, lifeNames(lifeList(t, e, u)))
			})
		}
	})

	t.Run("SameNameIsFreeForAnotherUser", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		alice, bob := newUser(t), newUser(t)
		a := e.createBot(alice, map[string]any{"name": "Support"})
		b := e.createBot(bob, map[string]any{"name": "Support"})
		require.NotEqual(t, a.Id, b.Id)
		require.Equal(t, bob.id, b.OwnerId)
	})

	t.Run("DeletedBotsNameIsFreeAgain", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		old := e.createBot(u, map[string]any{"name": "Support"})
		require.Equal(t, http.StatusOK, e.delete(u, botPath(old.Id)+"?confirm=true", nil).code)
		fresh := e.createBot(u, map[string]any{"name": "SUPPORT"})
		require.NotEqual(t, old.Id, fresh.Id)
		require.Equal(t, "SUPPORT", fresh.Name)
	})

	t.Run("RenameToATakenNameConflictsAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		e.createBot(u, map[string]any{"name": "Alpha"})
		beta := e.createBot(u, map[string]any{"name": "Beta"})
		before := e.get(u, botPath(beta.Id))

		p := e.put(u, botPath(beta.Id), map[string]any{"name": "ALPHA", "temperature": 1.5}, nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/name-taken", p.Type)

		after := e.get(u, botPath(beta.Id))
		require.Equal(t, lifeETag(t, before), lifeETag(t, after))
		require.Equal(t, lifeJSON(t, before), lifeJSON(t, after))
	})

	t.Run("RenameToAnotherCaseOfItsOwnNameWorks", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Alpha"})
		res := e.put(u, botPath(bot.Id), map[string]any{"name": "ALPHA"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, []string{"ALPHA"}, lifeNames(lifeList(t, e, u)))
	})
}

func TestUpdateBot(t *testing.T) {
	t.Parallel()

	full := func() map[string]any {
		return map[string]any{
			"name":          "Support",
			"description":   "Answers questions.",
			"model":         "gpt-4o-mini",
			"temperature":   0.3,
			"system_prompt": "Be kind.",
			"is_public":     false,
		}
	}

	t.Run("UnsentFieldsKeepTheirValues", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		before := e.post(u, "/api/v1/bots", full())
		require.Equal(t, http.StatusCreated, before.code, string(before.body))
		var bot api.BotResponse
		before.decode(t, &bot)

		res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 1.3}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))

		want := lifeJSON(t, before)
		want["temperature"] = 1.3
		got := lifeJSON(t, res)
		delete(want, "updated_at")
		delete(got, "updated_at")
		require.Equal(t, want, got)
	})

	t.Run("NullDescriptionClearsIt", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		bot := e.createBot(u, full())
		res := e.put(u, botPath(bot.Id), map[string]any{"description": nil}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		got := lifeJSON(t, e.get(u, botPath(bot.Id)))
		require.Contains(t, got, "description")
		require.Nil(t, got["description"])
		require.Equal(t, "Be kind.", got["system_prompt"])
	})

	t.Run("EveryUpdateChangesTheETagAndMovesUpdatedAtForward", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		created := e.post(u, "/api/v1/bots", full())
		require.Equal(t, http.StatusCreated, created.code, string(created.body))
		var prev api.BotResponse
		created.decode(t, &prev)
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

			var bot api.BotResponse
			res.decode(t, &bot)
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
			"SameSystemPromptKeepsItActive":            {map[string]any{"system_prompt": "Be kind."}, false},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				u := newUser(t)
				bot := e.createBot(u, full())
				lifeSetStatus(t, e, bot.Id, "active", "trained on the latest prompt")

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
			e := setup(t)
			u := newUser(t)
			created := e.post(u, "/api/v1/bots", map[string]any{"name": "Support", "model": "gpt-4o-mini"})
			require.Equal(t, http.StatusCreated, created.code, string(created.body))
			var bot api.BotResponse
			created.decode(t, &bot)
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

func TestDeleteBot(t *testing.T) {
	t.Parallel()

	t.Run("UnconfirmedDeleteIsRefusedWithHowToConfirm", func(t *testing.T) {
		t.Parallel()
		for name, query := range map[string]string{"NoConfirm": "", "ConfirmFalse": "?confirm=false"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				u := newUser(t)
				bot := e.createBot(u, map[string]any{"name": "Support"})
				p := e.delete(u, botPath(bot.Id)+query, nil).problem(t, http.StatusPreconditionRequired)
				require.Equal(t, "/problems/confirmation-required", p.Type)
				require.Contains(t, p.Detail, "If-Match")
				require.Contains(t, p.Detail, "confirm=true")

				require.Nil(t, lifeLoad(t, e, bot.Id).deletedAt)
				require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code)
				require.Equal(t, int64(1), lifeList(t, e, u).Total)
			})
		}
	})

	t.Run("ConfirmedDeleteAnswersWhatWasDeleted", func(t *testing.T) {
		t.Parallel()
		cases := map[string]struct {
			query   string
			ifMatch func(current string) string
		}{
			"ConfirmTrue":     {query: "?confirm=true"},
			"CurrentIfMatch":  {ifMatch: func(cur string) string { return cur }},
			"StarIfMatch":     {ifMatch: func(string) string { return "*" }},
			"IfMatchAndFalse": {query: "?confirm=false", ifMatch: func(cur string) string { return cur }},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				u := newUser(t)
				created := e.post(u, "/api/v1/bots", map[string]any{"name": "Support", "model": "gpt-4o-mini"})
				require.Equal(t, http.StatusCreated, created.code, string(created.body))
				var bot api.BotResponse
				created.decode(t, &bot)
				var header map[string]string
				if c.ifMatch != nil {
					header = map[string]string{"If-Match": c.ifMatch(lifeETag(t, created))}
				}

				res := e.delete(u, botPath(bot.Id)+c.query, header)
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				var del api.BotDeleted
				res.decode(t, &del)
				require.Equal(t, bot.Id, del.Id)
				require.True(t, bool(del.Deleted))
				require.True(t, del.DeletedAt.After(bot.CreatedAt), "deleted_at %s is not after created_at %s", del.DeletedAt, bot.CreatedAt)
				raw := lifeJSON(t, res)
				_, err := time.Parse(time.RFC3339Nano, raw["deleted_at"].(string))
				require.NoError(t, err)

				row := lifeLoad(t, e, bot.Id)
				require.NotNil(t, row.deletedAt, "the row must stay, marked deleted")
				require.True(t, row.deletedAt.Equal(del.DeletedAt), "stored %s, answered %s", row.deletedAt, del.DeletedAt)
			})
		}
	})

	t.Run("StaleIfMatchFailsAndKeepsTheBot", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		created := e.post(u, "/api/v1/bots", map[string]any{"name": "Support", "model": "gpt-4o-mini"})
		require.Equal(t, http.StatusCreated, created.code, string(created.body))
		var bot api.BotResponse
		created.decode(t, &bot)
		require.Equal(t, http.StatusOK, e.put(u, botPath(bot.Id), map[string]any{"temperature": 1}, nil).code)
		before := lifeLoad(t, e, bot.Id)

		for _, q := range []string{"", "?confirm=true"} {
			p := e.delete(u, botPath(bot.Id)+q, map[string]string{"If-Match": lifeETag(t, created)}).problem(t, http.StatusPreconditionFailed)
			require.Equal(t, "/problems/precondition-failed", p.Type)
		}
		require.Equal(t, before, lifeLoad(t, e, bot.Id))
		require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code)
	})

	t.Run("DeletedBotIsGoneFromEveryOperation", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		kept := e.createBot(u, map[string]any{"name": "Kept"})
		bot := e.createBot(u, map[string]any{"name": "Support"})
		current := e.get(u, botPath(bot.Id)).header.Get("ETag")
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id)+"?confirm=true", nil).code)

		calls := map[string]request{
			"Get":               {method: http.MethodGet, path: botPath(bot.Id)},
			"Put":               {method: http.MethodPut, path: botPath(bot.Id), body: map[string]any{"name": "Again"}},
			"PutWithIfMatch":    {method: http.MethodPut, path: botPath(bot.Id), body: map[string]any{"name": "Again"}, header: map[string]string{"If-Match": current}},
			"Delete":            {method: http.MethodDelete, path: botPath(bot.Id, "?confirm=true")},
			"DeleteWithStar":    {method: http.MethodDelete, path: botPath(bot.Id), header: map[string]string{"If-Match": "*"}},
			"Duplicate":         {method: http.MethodPost, path: botPath(bot.Id, "/duplicate")},
			"DuplicateNamed":    {method: http.MethodPost, path: botPath(bot.Id, "/duplicate"), body: map[string]any{"name": "Copy"}},
			"Train":             {method: http.MethodPost, path: botPath(bot.Id, "/train")},
			"DeleteWithOldETag": {method: http.MethodDelete, path: botPath(bot.Id), header: map[string]string{"If-Match": current}},
		}
		for name, r := range calls {
			r.as = &u
			res := e.do(r)
			require.Equal(t, http.StatusNotFound, res.code, "%s: %s", name, res.body)
			require.Equal(t, "/problems/not-found", res.problem(t, http.StatusNotFound).Type, name)
		}

		list := lifeList(t, e, u)
		require.Equal(t, int64(1), list.Total)
		require.Equal(t, []uuid.UUID{kept.Id}, lifeIDs(list))
		row := lifeLoad(t, e, bot.Id)
		require.NotNil(t, row.deletedAt)
		require.Equal(t, "Support", row.name)
	})
}

func TestRestoreBot(t *testing.T) {
	t.Parallel()

	t.Run("BringsTheBotBackAsItWas", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		bot := e.createBot(u, map[string]any{
			"name": "Support", "description": "Orders.", "model": "claude-3-5-sonnet",
			"temperature": 0.25, "system_prompt": "Be kind.", "is_public": true,
		})
		lifeSetStatus(t, e, bot.Id, "active", "")
		before := e.get(u, botPath(bot.Id))
		require.Equal(t, http.StatusOK, before.code)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id)+"?confirm=true", nil).code)

		res := e.post(u, botPath(bot.Id, "/restore"), nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		tag := lifeETag(t, res)
		require.NotEqual(t, lifeETag(t, before), tag)
		want, got := lifeJSON(t, before), lifeJSON(t, res)
		require.Equal(t, "active", got["status"])
		delete(want, "updated_at")
		delete(got, "updated_at")
		require.Equal(t, want, got)

		again := e.get(u, botPath(bot.Id))
		require.Equal(t, http.StatusOK, again.code)
		require.Equal(t, tag, lifeETag(t, again))
		require.Equal(t, []uuid.UUID{bot.Id}, lifeIDs(lifeList(t, e, u)))
		require.Nil(t, lifeLoad(t, e, bot.Id).deletedAt)
	})

	t.Run("BotThatWasNotActiveComesBackInTraining", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		lifeSetStatus(t, e, bot.Id, "error", "the provider refused the prompt")
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id)+"?confirm=true", nil).code)

		res := e.post(u, botPath(bot.Id, "/restore"), nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		got := lifeJSON(t, res)
		require.Equal(t, "training", got["status"])
		require.Nil(t, got["status_message"])
	})

	t.Run("NameTakenMeanwhileConflictsAndTheBotStaysDeleted", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id)+"?confirm=true", nil).code)
		taker := e.createBot(u, map[string]any{"name": "SUPPORT"})

		p := e.post(u, botPath(bot.Id, "/restore"), nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/name-taken", p.Type)

		require.NotNil(t, lifeLoad(t, e, bot.Id).deletedAt)
		e.get(u, botPath(bot.Id)).problem(t, http.StatusNotFound)
		require.Equal(t, []uuid.UUID{taker.Id}, lifeIDs(lifeList(t, e, u)))

		// Once the other bot is renamed, the restore goes through.
		require.Equal(t, http.StatusOK, e.put(u, botPath(taker.Id), map[string]any{"name": "Support 2"}, nil).code)
		require.Equal(t, http.StatusOK, e.post(u, botPath(bot.Id, "/restore"), nil).code)
	})

	t.Run("BotThatIsNotDeletedConflicts", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		before := lifeLoad(t, e, bot.Id)
		p := e.post(u, botPath(bot.Id, "/restore"), nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/conflict", p.Type)
		require.Equal(t, before, lifeLoad(t, e, bot.Id))
	})
}

func TestDuplicateBot(t *testing.T) {
	t.Parallel()

	source := func(name string) map[string]any {
		return map[string]any{
			"name": name, "description": "Orders and returns.", "model": "llama-3.1-70b-instruct",
			"temperature": 1.35, "system_prompt": "Réponds en français.", "is_public": true,
		}
	}
	duplicate := func(t *testing.T, e *env, u user, id uuid.UUID, body any) api.BotResponse {
		t.Helper()
		res := e.post(u, botPath(id, "/duplicate"), body)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		lifeETag(t, res)
		var bot api.BotResponse
		res.decode(t, &bot)
		require.Equal(t, "/api/v1/bots/"+bot.Id.String(), res.header.Get("Location"))
		return bot
	}

	t.Run("CopiesTheConfigurationIntoAPrivateBotInTraining", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, source("Support"))
		lifeSetStatus(t, e, src.Id, "active", "ready")

		res := e.post(u, botPath(src.Id, "/duplicate"), nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		var dup api.BotResponse
		res.decode(t, &dup)
		require.Equal(t, "/api/v1/bots/"+dup.Id.String(), res.header.Get("Location"))
		require.Equal(t, lifeETag(t, res), lifeETag(t, e.get(u, botPath(dup.Id))))

		got := lifeJSON(t, res)
		require.NotEqual(t, src.Id.String(), got["id"])
		require.Equal(t, u.id.String(), got["owner_id"])
		require.Equal(t, "Support (copy)", got["name"])
		for _, field := range []string{"description", "model", "temperature", "system_prompt"} {
			require.Equal(t, source("")[field], got[field], field)
		}
		require.Equal(t, false, got["is_public"])
		require.Equal(t, "training", got["status"])
		require.Nil(t, got["status_message"])
		require.True(t, dup.CreatedAt.Equal(dup.UpdatedAt))

		// The source is untouched.
		srcNow := lifeJSON(t, e.get(u, botPath(src.Id)))
		require.Equal(t, "active", srcNow["status"])
		require.Equal(t, true, srcNow["is_public"])
	})

	t.Run("IsPublicMakesTheCopyPublic", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "Private one"})
		dup := duplicate(t, e, u, src.Id, map[string]any{"is_public": true})
		require.True(t, dup.IsPublic)
		require.Equal(t, "Private one (copy)", dup.Name)
	})

	t.Run("DefaultNamesCountUp", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "X"})
		for _, want := range []string{"X (copy)", "X (copy 2)", "X (copy 3)"} {
			require.Equal(t, want, duplicate(t, e, u, src.Id, nil).Name)
		}
		require.Equal(t, "X (copy 4)", duplicate(t, e, u, src.Id, map[string]any{}).Name)
	})

	t.Run("CopyOfACopyGetsItsOwnSuffix", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "X"})
		copy1 := duplicate(t, e, u, src.Id, nil)
		require.Equal(t, "X (copy) (copy)", duplicate(t, e, u, copy1.Id, nil).Name)
	})

	t.Run("FreedDefaultNameIsReused", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "X"})
		first := duplicate(t, e, u, src.Id, nil)
		require.Equal(t, "X (copy 2)", duplicate(t, e, u, src.Id, nil).Name)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(first.Id)+"?confirm=true", nil).code)
		require.Equal(t, "X (copy)", duplicate(t, e, u, src.Id, nil).Name)
		require.Equal(t, "X (copy 3)", duplicate(t, e, u, src.Id, nil).Name)
	})

	t.Run("DefaultNameOfALongNameStaysWithinTheLimit", func(t *testing.T) {
		t.Parallel()
		cases := map[string]string{
			"Multibyte": strings.Repeat("é", 100),
			"Emoji":     strings.Repeat("🤖", 100),
			"CJK":       strings.Repeat("日", 95),
		}
		for name, long := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				u := newUser(t)
				src := e.createBot(u, map[string]any{"name": long})
				runes := []rune(long)
				for _, suffix := range []string{" (copy)", " (copy 2)", " (copy 3)"} {
					got := duplicate(t, e, u, src.Id, nil).Name
					require.True(t, utf8.ValidString(got))
					require.Equal(t, 100, utf8.RuneCountInString(got), got)
					require.True(t, strings.HasSuffix(got, suffix), got)
					require.Equal(t, string(runes[:100-utf8.RuneCountInString(suffix)])+suffix, got)
				}
			})
		}
	})

	t.Run("ExplicitNameIsUsed", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "X"})
		require.Equal(t, "New", duplicate(t, e, u, src.Id, map[string]any{"name": "  New  "}).Name)
	})

	t.Run("ExplicitNameThatIsTakenConflicts", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "X"})
		e.createBot(u, map[string]any{"name": "Taken"})
		p := e.post(u, botPath(src.Id, "/duplicate"), map[string]any{"name": "TAKEN"}).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/name-taken", p.Type)
		require.Equal(t, int64(2), lifeList(t, e, u).Total)
		lifeCountRows(t, e, 2)
	})

	t.Run("OtherUsersPublicBotIsCopiedForTheCaller", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, caller := newUser(t), newUser(t)
		src := e.createBot(owner, source("Shared"))
		// The owner's own names do not constrain the caller's copy.
		e.createBot(owner, map[string]any{"name": "Shared (copy)"})

		dup := duplicate(t, e, caller, src.Id, nil)
		require.Equal(t, caller.id, dup.OwnerId)
		require.Equal(t, "Shared (copy)", dup.Name)
		require.False(t, dup.IsPublic)
		require.Equal(t, api.BotStatus("training"), dup.Status)
		require.Equal(t, src.Model, dup.Model)
		require.Equal(t, src.Temperature, dup.Temperature)
		require.Equal(t, src.SystemPrompt, dup.SystemPrompt)
		require.Equal(t, src.Description, dup.Description)
		require.Equal(t, "Shared (copy 2)", duplicate(t, e, caller, src.Id, nil).Name)

		require.Equal(t, int64(2), lifeList(t, e, caller).Total)
		require.Equal(t, int64(2), lifeList(t, e, owner).Total)
		require.Equal(t, http.StatusOK, e.get(caller, botPath(dup.Id)).code)
	})
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
			e := setup(t)
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Support", "temperature": 1.1})
			lifeSetStatus(t, e, bot.Id, status, "x")
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

func TestListModels(t *testing.T) {
	t.Parallel()

	models := func(t *testing.T, e *env) []api.Model {
		t.Helper()
		res := e.get(newUser(t), "/api/v1/models")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		var list api.ModelList
		res.decode(t, &list)
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
		e := setup(t)
		u := newUser(t)
		for _, m := range models(t, e) {
			bot := e.createBot(u, map[string]any{"name": "On " + m.Id, "model": m.Id})
			require.Equal(t, m.Id, bot.Model)
		}
	})
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()

	t.Run("OnlyOneOfManyUpdatesWithTheSameIfMatchWins", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		u := newUser(t)
		created := e.post(u, "/api/v1/bots", map[string]any{"name": "Contested", "model": "gpt-4o-mini"})
		require.Equal(t, http.StatusCreated, created.code, string(created.body))
		var bot api.BotResponse
		created.decode(t, &bot)
		tag := lifeETag(t, created)
		before := lifeLoad(t, e, bot.Id)

		const n = 20
		results := make([]*response, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				results[i], errs[i] = e.try(request{
					method: http.MethodPut, path: botPath(bot.Id), as: &u,
					body:   map[string]any{"name": fmt.Sprintf("Writer %d", i)},
					header: map[string]string{"If-Match": tag},
				})
			})
		}
		wg.Wait()

		winner := -1
		for i, res := range results {
			require.NoError(t, errs[i])
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
		e := setup(t)
		u := newUser(t)
		src := e.createBot(u, map[string]any{"name": "X"})

		const n = 10
		results := make([]*response, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				results[i], errs[i] = e.try(request{method: http.MethodPost, path: botPath(src.Id, "/duplicate"), as: &u})
			})
		}
		wg.Wait()

		var got []string
		for i, res := range results {
			require.NoError(t, errs[i])
			require.Equal(t, http.StatusCreated, res.code, "duplicate %d: %s", i, res.body)
			var bot api.BotResponse
			res.decode(t, &bot)
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

// lifeSetStatus plays the training worker, which does not exist yet.
func lifeSetStatus(t *testing.T, e *env, id uuid.UUID, status, message string) {
	t.Helper()
	tag, err := e.pool.Exec(context.Background(),
		`UPDATE bots SET status = $2::bot_status, status_message = $3 WHERE id = $1`, id, status, message)
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected())
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
	res := e.get(u, "/api/v1/bots?limit=100&sort=name")
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	var list api.BotList
	res.decode(t, &list)
	return list
}

func lifeNames(list api.BotList) []string {
	names := make([]string, len(list.Items))
	for i, b := range list.Items {
		names[i] = b.Name
	}
	return names
}

func lifeIDs(list api.BotList) []uuid.UUID {
	ids := make([]uuid.UUID, len(list.Items))
	for i, b := range list.Items {
		ids[i] = b.Id
	}
	return ids
}
