package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A delivery's body is the event byte for byte as GET .../events shows it, whatever
// characters its data and request id hold: the line separators JavaScript cannot take raw,
// the characters HTML escaping would change, and any other.
func TestWebhookDeliveryBodyIsTheEventAsTheAPIShowsIt(t *testing.T) {
	t.Parallel()
	e, u, rcv, _ := setupDelivery(t)
	text := "line\u2028paragraph\u2029 <b> & é \\u003c"
	model := map[string]any{"name": "Bytes", "model": "gpt-4o-mini", "description": text, "system_prompt": text}
	res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: model,
		header: map[string]string{"X-Request-Id": `req<1>&"2"\u003c`}})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var bot struct{ ID string }
	require.NoError(t, json.Unmarshal(res.body, &bot))

	waitUntil(t, "the delivery arrives", func() bool { return len(rcv.requests()) == 1 })
	delivered := rcv.requests()[0].body

	listed := e.get(u, "/api/v1/bots/"+bot.ID+"/events")
	require.Equal(t, http.StatusOK, listed.code, string(listed.body))
	var page struct{ Items []json.RawMessage }
	require.NoError(t, json.Unmarshal(listed.body, &page))
	var shown json.RawMessage
	for _, item := range page.Items {
		var ev struct{ Type string }
		require.NoError(t, json.Unmarshal(item, &ev))
		if ev.Type == "bot.created" {
			shown = item
		}
	}
	require.Equal(t, string(shown), string(delivered))
	require.Contains(t, string(delivered), `line\u2028paragraph\u2029 <b> & é`, "the API's bytes, as they are")
	require.Contains(t, string(delivered), `"request_id":"req<1>&\"2\"\\u003c"`)
}
