package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// A header that takes one value (RFC 9110 §5.3) sent on several lines is refused with 400
// naming it, instead of the first line silently winning: two Authorization lines must not
// authenticate as either user.
func TestAHeaderThatTakesOneValueIsSentOnce(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	other := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Mine"})
	for _, c := range []struct {
		name   string
		method string
		path   string
		body   any
		lines  http.Header
	}{
		{"Authorization", http.MethodGet, botPath(bot.Id), nil,
			http.Header{"Authorization": {"Bearer " + u.token, "Bearer garbage"}}},
		{"Authorization", http.MethodGet, botPath(bot.Id), nil,
			http.Header{"Authorization": {"Bearer " + other.token, "Bearer " + u.token}}},
		{"Content-Type", http.MethodPut, botPath(bot.Id), map[string]any{"name": "Renamed"},
			http.Header{"Content-Type": {"text/plain"}}},
		{"Idempotency-Key", http.MethodPost, "/api/v1/bots", map[string]any{"name": "Twice", "model": "gpt-4o"},
			http.Header{"Idempotency-Key": {"a", "b"}}},
		{"Last-Event-ID", http.MethodGet, botPath(bot.Id, "/status/stream"), nil,
			http.Header{"Last-Event-Id": {"1", "2"}}},
	} {
		r := request{method: c.method, path: c.path, body: c.body, lines: c.lines}
		if c.name != "Authorization" {
			r.as = &u
		}
		p := e.do(r).problem(t, http.StatusBadRequest)
		require.Equal(t, "/problems/bad-request", p.Type, c.name)
		require.Equal(t, "the "+c.name+" header must be sent once", p.Detail)
	}
	require.Equal(t, 1, e.countBots(u))
	var got api.BotResponse
	e.get(u, botPath(bot.Id)).decode(t, &got)
	require.Equal(t, "Mine", got.Name, "nothing was changed")
}
