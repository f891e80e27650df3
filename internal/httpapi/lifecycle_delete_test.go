package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

func TestDeleteBot(t *testing.T) {
	t.Parallel()
	e := setup(t)

	t.Run("UnconfirmedDeleteIsRefusedWithHowToConfirm", func(t *testing.T) {
		t.Parallel()
		for name, query := range map[string]string{"NoConfirm": "", "ConfirmFalse": "?confirm=false"} {
			e.run(t, name, func(t *testing.T, e *env, u user) {
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
			e.run(t, name, func(t *testing.T, e *env, u user) {
				bot, created := e.create(u, map[string]any{"name": "Support", "model": "gpt-4o-mini"})
				var header map[string]string
				if c.ifMatch != nil {
					header = map[string]string{"If-Match": c.ifMatch(lifeETag(t, created))}
				}

				res := e.delete(u, botPath(bot.Id)+c.query, header)
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				del := decoded[api.BotDeleted](t, res)
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

	e.run(t, "StaleIfMatchFailsAndKeepsTheBot", func(t *testing.T, e *env, u user) {
		bot, created := e.create(u, map[string]any{"name": "Support", "model": "gpt-4o-mini"})
		require.Equal(t, http.StatusOK, e.put(u, botPath(bot.Id), map[string]any{"temperature": 1}, nil).code)
		before := lifeLoad(t, e, bot.Id)

		for _, q := range []string{"", "?confirm=true"} {
			p := e.delete(u, botPath(bot.Id)+q, map[string]string{"If-Match": lifeETag(t, created)}).problem(t, http.StatusPreconditionFailed)
			require.Equal(t, "/problems/precondition-failed", p.Type)
		}
		require.Equal(t, before, lifeLoad(t, e, bot.Id))
		require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code)
	})

	e.run(t, "DeletedBotIsGoneFromEveryOperation", func(t *testing.T, e *env, u user) {
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
		require.Equal(t, []uuid.UUID{kept.Id}, lstIDs(list.Items))
		row := lifeLoad(t, e, bot.Id)
		require.NotNil(t, row.deletedAt)
		require.Equal(t, "Support", row.name)
	})
}

func TestRestoreBot(t *testing.T) {
	t.Parallel()
	e := setup(t)

	e.run(t, "BringsTheBotBackAsItWas", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{
			"name": "Support", "description": "Orders.", "model": "claude-3-5-sonnet",
			"temperature": 0.25, "system_prompt": "Be kind.", "is_public": true,
		})
		e.setStatus("active", "", bot.Id)
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
		require.Equal(t, []uuid.UUID{bot.Id}, lstIDs(lifeList(t, e, u).Items))
		require.Nil(t, lifeLoad(t, e, bot.Id).deletedAt)
	})

	e.run(t, "BotThatWasNotActiveComesBackInTraining", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{"name": "Support"})
		e.setStatus("error", "the provider refused the prompt", bot.Id)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id)+"?confirm=true", nil).code)

		res := e.post(u, botPath(bot.Id, "/restore"), nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		got := lifeJSON(t, res)
		require.Equal(t, "training", got["status"])
		require.Nil(t, got["status_message"])
	})

	e.run(t, "NameTakenMeanwhileConflictsAndTheBotStaysDeleted", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{"name": "Support"})
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id)+"?confirm=true", nil).code)
		taker := e.createBot(u, map[string]any{"name": "SUPPORT"})

		p := e.post(u, botPath(bot.Id, "/restore"), nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/name-taken", p.Type)

		require.NotNil(t, lifeLoad(t, e, bot.Id).deletedAt)
		e.get(u, botPath(bot.Id)).problem(t, http.StatusNotFound)
		require.Equal(t, []uuid.UUID{taker.Id}, lstIDs(lifeList(t, e, u).Items))

		// Once the other bot is renamed, the restore goes through.
		require.Equal(t, http.StatusOK, e.put(u, botPath(taker.Id), map[string]any{"name": "Support 2"}, nil).code)
		require.Equal(t, http.StatusOK, e.post(u, botPath(bot.Id, "/restore"), nil).code)
	})

	e.run(t, "BotThatIsNotDeletedConflicts", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{"name": "Support"})
		before := lifeLoad(t, e, bot.Id)
		p := e.post(u, botPath(bot.Id, "/restore"), nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/conflict", p.Type)
		require.Equal(t, before, lifeLoad(t, e, bot.Id))
	})
}
