package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestCreateBot(t *testing.T) {
	t.Parallel()

	sent := lifeFull()
	sent["is_public"] = true // not the default, so that the answer can only echo it

	t.Run("AnswersCreatedWithLocationAndAStrongETag", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		bot, res := e.create(u, sent)
		lifeETag(t, res)
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
		e, u := setupUser(t)
		_, created := e.create(u, sent)

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
				e, u := setupUser(t)
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
		e, u, old := setupBot(t, map[string]any{"name": "Support"})
		require.Equal(t, http.StatusOK, e.delete(u, botPath(old.Id)+"?confirm=true", nil).code)
		fresh := e.createBot(u, map[string]any{"name": "SUPPORT"})
		require.NotEqual(t, old.Id, fresh.Id)
		require.Equal(t, "SUPPORT", fresh.Name)
	})

	t.Run("RenameToATakenNameConflictsAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
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
		e, u, bot := setupBot(t, map[string]any{"name": "Alpha"})
		res := e.put(u, botPath(bot.Id), map[string]any{"name": "ALPHA"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, []string{"ALPHA"}, lifeNames(lifeList(t, e, u)))
	})
}

func TestCreateThenGet(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})
	res := e.get(u, botPath(bot.Id))
	require.Equal(t, http.StatusOK, res.code)
	e.do(request{method: http.MethodPatch, path: "/api/v1/bots"}).problem(t, http.StatusMethodNotAllowed)
}
