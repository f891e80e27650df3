package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A write that sends If-Match or If-None-Match its operation does not declare is refused
// with 400 naming the header, and nothing is written: performed as if the header were absent,
// it would do what the client sent the header to guard against (RFC 9110 §13.1.1, §13.1.2).
// A declared precondition is evaluated as before, and a GET keeps ignoring an undeclared one.
func TestAPreconditionAWriteDoesNotEvaluateIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)

	// refused sends r as u and checks that it is answered 400 with detail.
	refused := func(t *testing.T, e *env, u user, r request, detail string) {
		t.Helper()
		r.as = &u
		p := e.do(r).problem(t, http.StatusBadRequest)
		require.Equal(t, "/problems/bad-request", p.Type)
		require.Equal(t, detail, p.Detail)
	}

	e.run(t, "RotateSecretWithIfMatchKeepsTheSecret", func(t *testing.T, e *env, u user) {
		hook := e.register(u, "https://hooks.example.com/rotate", "*")
		secret := func() []byte {
			var s []byte
			require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT secret FROM webhooks WHERE id = $1", hook.Id).Scan(&s))
			return s
		}
		before := secret()
		refused(t, e, u, request{method: http.MethodPost, path: webhookPath(hook.Id) + "/rotate-secret",
			header: map[string]string{"If-Match": `"zz"`}},
			"POST /api/v1/webhooks/{webhook_id}/rotate-secret does not evaluate If-Match; send the request without it")
		require.Equal(t, before, secret(), "the secret did not change")
		require.Equal(t, hook.etag, e.get(u, webhookPath(hook.Id)).header.Get("ETag"))
	})

	e.run(t, "WebhookDeleteWithIfNoneMatchKeepsTheWebhook", func(t *testing.T, e *env, u user) {
		hook := e.register(u, "https://hooks.example.com/kept", "*")
		refused(t, e, u, request{method: http.MethodDelete, path: webhookPath(hook.Id),
			header: map[string]string{"If-None-Match": "*"}},
			"DELETE /api/v1/webhooks/{webhook_id} does not evaluate If-None-Match (it evaluates If-Match only); send the request without it")
		require.Equal(t, http.StatusOK, e.get(u, webhookPath(hook.Id)).code, "the webhook is still there")
	})

	e.run(t, "RevertWithIfNoneMatchMakesNoVersion", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{"name": "Kept", "system_prompt": "Be kind."})
		e.activate(bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be brief."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		refused(t, e, u, request{method: http.MethodPost, path: botPath(bot.Id, "/versions/1/revert"),
			header: map[string]string{"If-None-Match": "*"}},
			"POST /api/v1/bots/{bot_id}/versions/{number}/revert does not evaluate If-None-Match (it evaluates If-Match only); send the request without it")
		require.EqualValues(t, 2, e.versions(u, bot).Total, "no new version")
	})

	e.run(t, "DuplicateWithIfNoneMatchMakesNoBot", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{"name": "Source"})
		refused(t, e, u, request{method: http.MethodPost, path: botPath(bot.Id, "/duplicate"),
			header: map[string]string{"If-None-Match": "*"}},
			"POST /api/v1/bots/{bot_id}/duplicate does not evaluate If-None-Match (it evaluates If-Match only); send the request without it")
		require.Equal(t, 1, e.countBots(u), "no copy")
	})

	e.run(t, "ADeclaredPreconditionIsEvaluatedAsBefore", func(t *testing.T, e *env, u user) {
		hook := e.register(u, "https://hooks.example.com/gone", "*")
		res := e.delete(u, webhookPath(hook.Id), map[string]string{"If-Match": hook.etag})
		require.Equal(t, http.StatusNoContent, res.code, string(res.body))
		e.get(u, webhookPath(hook.Id)).problem(t, http.StatusNotFound)
	})

	e.run(t, "AGetIgnoresAnUndeclaredPrecondition", func(t *testing.T, e *env, u user) {
		hook := e.register(u, "https://hooks.example.com/read", "*")
		res := e.do(request{method: http.MethodGet, path: webhookPath(hook.Id), as: &u,
			header: map[string]string{"If-Match": `"zz"`}})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
}
