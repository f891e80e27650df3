package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

func (e *env) countWebhooks(u user) int {
	e.t.Helper()
	return e.count(`SELECT 1 FROM webhooks WHERE owner_id = $1`, u.id)
}

func TestIdempotentWebhookCreate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := map[string]any{"url": "https://hooks.example.com/once", "events": []string{"*"}, "description": "Once <&>"}

	t.Run("ARetryGetsTheFirstAnswerWithItsSecretAndCreatesNothing", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		first := e.postWithKey(u, "/api/v1/webhooks", key, body)
		require.Equal(t, http.StatusCreated, first.code, string(first.body))
		require.Empty(t, first.header.Get("Idempotent-Replayed"))
		for _, sent := range []string{key, `"` + key + `"`} {
			requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", sent, body))
		}
		require.Equal(t, 1, e.countWebhooks(u))
	})

	t.Run("AReplayIsTheFirstAnswerAfterARotationOrADelete", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		first := e.postWithKey(u, "/api/v1/webhooks", key, body)
		require.Equal(t, http.StatusCreated, first.code, string(first.body))
		var hook api.WebhookCreated
		first.decode(t, &hook)

		rotated := e.post(u, webhookPath(hook.Id)+"/rotate-secret", nil)
		require.Equal(t, http.StatusOK, rotated.code, string(rotated.body))
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, body))

		require.Equal(t, http.StatusNoContent, e.delete(u, webhookPath(hook.Id), nil).code)
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, body))
		require.Zero(t, e.countWebhooks(u), "the replay brings nothing back")
	})

	t.Run("TheSameKeyWithAnotherBodyIsRefused", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/webhooks", key, body).code)
		other := map[string]any{"url": "https://hooks.example.com/twice", "events": []string{"*"}}
		p := e.postWithKey(u, "/api/v1/webhooks", key, other).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, "/problems/idempotency-key-reused", p.Type)
		require.Equal(t, 1, e.countWebhooks(u))
	})

	t.Run("BotsAndWebhooksHaveKeysOfTheirOwn", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		bot := e.postWithKey(u, "/api/v1/bots", key, map[string]any{"name": "Keyed", "model": "gpt-4o"})
		require.Equal(t, http.StatusCreated, bot.code, string(bot.body))
		hook := e.postWithKey(u, "/api/v1/webhooks", key, body)
		require.Equal(t, http.StatusCreated, hook.code, string(hook.body))
		require.Empty(t, hook.header.Get("Idempotent-Replayed"), "the bot's key does not replay as a webhook")
		var created api.WebhookCreated
		hook.decode(t, &created)
		require.Equal(t, webhookPath(created.Id), hook.header.Get("Location"))
		require.Equal(t, 1, e.countWebhooks(u))

		// And each keeps replaying its own.
		requireReplay(t, bot, e.postWithKey(u, "/api/v1/bots", key, map[string]any{"name": "Keyed", "model": "gpt-4o"}))
		requireReplay(t, hook, e.postWithKey(u, "/api/v1/webhooks", key, body))
		require.Equal(t, 1, e.countBots(u))
	})

	t.Run("ARetryWhileTheFirstRunsConflicts", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		release := e.holdKey(u, "webhook", key)
		p := e.postWithKey(u, "/api/v1/webhooks", key, body).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/idempotency-key-in-use", p.Type)
		release()
		require.Zero(t, e.countWebhooks(u))
		require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/webhooks", key, body).code)
	})

	t.Run("AFailedRequestStoresNothing", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		refused := map[string]any{"url": "https://10.0.0.1/hook", "events": []string{"*"}}
		e.postWithKey(u, "/api/v1/webhooks", key, refused).problem(t, http.StatusUnprocessableEntity)
		require.Zero(t, e.countWebhooks(u))
		require.Zero(t, e.count(`SELECT 1 FROM idempotency_keys WHERE user_id = $1`, u.id))
		res := e.postWithKey(u, "/api/v1/webhooks", key, body)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
	})

	t.Run("ConcurrentRetriesCreateOneWebhook", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		key := uuid.NewString()
		e.raceRetries(u, "/api/v1/webhooks", `{"url":"https://hooks.example.com/race","events":["*"]}`, key, 10)
		require.Equal(t, 1, e.countWebhooks(u))
	})
}
