package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

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
		bot := decoded[api.BotResponse](t, res)
		require.Equal(t, "/api/v1/bots/"+bot.Id.String(), res.header.Get("Location"))
		return bot
	}

	t.Run("CopiesTheConfigurationIntoAPrivateBotInTraining", func(t *testing.T) {
		t.Parallel()
		e, u, src := setupBot(t, source("Support"))
		e.authzFor(t).setStatus("active", "ready", src.Id)

		res := e.post(u, botPath(src.Id, "/duplicate"), nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		dup := decoded[api.BotResponse](t, res)
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
		e, u, src := setupBot(t, map[string]any{"name": "Private one"})
		dup := duplicate(t, e, u, src.Id, map[string]any{"is_public": true})
		require.True(t, dup.IsPublic)
		require.Equal(t, "Private one (copy)", dup.Name)
	})

	t.Run("DefaultNamesCountUp", func(t *testing.T) {
		t.Parallel()
		e, u, src := setupBot(t, map[string]any{"name": "X"})
		for _, want := range []string{"X (copy)", "X (copy 2)", "X (copy 3)"} {
			require.Equal(t, want, duplicate(t, e, u, src.Id, nil).Name)
		}
		require.Equal(t, "X (copy 4)", duplicate(t, e, u, src.Id, map[string]any{}).Name)
	})

	t.Run("CopyOfACopyGetsItsOwnSuffix", func(t *testing.T) {
		t.Parallel()
		e, u, src := setupBot(t, map[string]any{"name": "X"})
		copy1 := duplicate(t, e, u, src.Id, nil)
		require.Equal(t, "X (copy) (copy)", duplicate(t, e, u, copy1.Id, nil).Name)
	})

	t.Run("FreedDefaultNameIsReused", func(t *testing.T) {
		t.Parallel()
		e, u, src := setupBot(t, map[string]any{"name": "X"})
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
				e, u, src := setupBot(t, map[string]any{"name": long})
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
		e, u, src := setupBot(t, map[string]any{"name": "X"})
		require.Equal(t, "New", duplicate(t, e, u, src.Id, map[string]any{"name": "  New  "}).Name)
	})

	t.Run("ExplicitNameThatIsTakenConflicts", func(t *testing.T) {
		t.Parallel()
		e, u, src := setupBot(t, map[string]any{"name": "X"})
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
