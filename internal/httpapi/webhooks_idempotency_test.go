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
	// each runs test as a parallel subtest on e, with a user of its own and a fresh key.
	each := func(name string, test func(t *testing.T, e *env, u user, key string)) {
		e.run(t, name, func(t *testing.T, e *env, u user) { test(t, e, u, uuid.NewString()) })
	}
	// first sends a create with key that the key has not seen: a 201 that is no replay.
	first := func(t *testing.T, e *env, u user, path, key string, body any) *response {
		t.Helper()
		res := e.postWithKey(u, path, key, body)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
		return res
	}

	each("ARetryGetsTheFirstAnswerWithItsSecretAndCreatesNothing", func(t *testing.T, e *env, u user, key string) {
		first := first(t, e, u, "/api/v1/webhooks", key, body)
		for _, sent := range []string{key, `"` + key + `"`} {
			requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", sent, body))
		}
		require.Equal(t, 1, e.countWebhooks(u))
	})

	each("AReplayIsTheFirstAnswerAfterARotationOrADelete", func(t *testing.T, e *env, u user, key string) {
		first := first(t, e, u, "/api/v1/webhooks", key, body)
		var hook api.WebhookCreated
		first.decode(t, &hook)

		rotated := e.post(u, webhookPath(hook.Id)+"/rotate-secret", nil)
		require.Equal(t, http.StatusOK, rotated.code, string(rotated.body))
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, body))

		require.Equal(t, http.StatusNoContent, e.delete(u, webhookPath(hook.Id), nil).code)
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, body))
		require.Zero(t, e.countWebhooks(u), "the replay brings nothing back")
	})

	each("TheSameKeyWithAnotherBodyIsRefused", func(t *testing.T, e *env, u user, key string) {
		first(t, e, u, "/api/v1/webhooks", key, body)
		other := map[string]any{"url": "https://hooks.example.com/twice", "events": []string{"*"}}
		p := e.postWithKey(u, "/api/v1/webhooks", key, other).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, "/problems/idempotency-key-reused", p.Type)
		require.Equal(t, 1, e.countWebhooks(u))
	})

	each("BotsAndWebhooksHaveKeysOfTheirOwn", func(t *testing.T, e *env, u user, key string) {
		bot := first(t, e, u, "/api/v1/bots", key, map[string]any{"name": "Keyed", "model": "gpt-4o"})
		// The bot's key does not replay as a webhook.
		hook := first(t, e, u, "/api/v1/webhooks", key, body)
		var created api.WebhookCreated
		hook.decode(t, &created)
		require.Equal(t, webhookPath(created.Id), hook.header.Get("Location"))
		require.Equal(t, 1, e.countWebhooks(u))

		// And each keeps replaying its own.
		requireReplay(t, bot, e.postWithKey(u, "/api/v1/bots", key, map[string]any{"name": "Keyed", "model": "gpt-4o"}))
		requireReplay(t, hook, e.postWithKey(u, "/api/v1/webhooks", key, body))
		require.Equal(t, 1, e.countBots(u))
	})

	each("ARetryWhileTheFirstRunsConflicts", func(t *testing.T, e *env, u user, key string) {
		release := e.holdKey(u, "webhook", key)
		p := e.postWithKey(u, "/api/v1/webhooks", key, body).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/idempotency-key-in-use", p.Type)
		release()
		require.Zero(t, e.countWebhooks(u))
		require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/webhooks", key, body).code)
	})

	each("AFailedRequestStoresNothing", func(t *testing.T, e *env, u user, key string) {
		refused := map[string]any{"url": "https://10.0.0.1/hook", "events": []string{"*"}}
		e.postWithKey(u, "/api/v1/webhooks", key, refused).problem(t, http.StatusUnprocessableEntity)
		require.Zero(t, e.countWebhooks(u))
		require.Zero(t, e.count(`SELECT 1 FROM idempotency_keys WHERE user_id = $1`, u.id))
		first(t, e, u, "/api/v1/webhooks", key, body)
	})

	each("ConcurrentRetriesCreateOneWebhook", func(t *testing.T, e *env, u user, key string) {
		e.raceRetries(u, "/api/v1/webhooks", `{"url":"https://hooks.example.com/race","events":["*"]}`, key, 10)
		require.Equal(t, 1, e.countWebhooks(u))
	})
}
