package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A port no connection can use is refused at registration and on PUT, like any other URL
// that can never be reached.
func TestWebhookURLPortMustBeUsable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	for _, url := range []string{
		"https://hooks.example.com:0/hook",
		"https://hooks.example.com:65536/hook",
		"https://hooks.example.com:99999/hook",
		"https://hooks.example.com:99999999999999999999/hook",
	} {
		t.Run(url, func(t *testing.T) {
			res := e.authzFor(t).post(u, "/api/v1/webhooks", map[string]any{"url": url, "events": []string{"*"}})
			p := res.problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body:url"}, fieldsOf(p))
			require.Contains(t, (*p.Errors)[0].Message, "port from 1 to 65535")
		})
	}
	require.Zero(t, e.count(`SELECT 1 FROM webhooks`), "nothing refused was stored")

	for _, url := range []string{"https://hooks.example.com:1/hook", "https://hooks.example.com:65535/hook", "https://hooks.example.com:/hook"} {
		e.register(u, url, "*")
	}
	hook := e.register(u, "https://hooks.example.com/hook", "*")
	res := e.put(u, webhookPath(hook.Id), map[string]any{"url": "https://hooks.example.com:0/hook"}, nil)
	p := res.problem(t, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body:url"}, fieldsOf(p))
}
