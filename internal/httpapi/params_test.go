package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// A parameter the server refuses is named with what is wrong with it: the bound an integer
// too large for any integer breaks, not "must be an integer"; an empty value as such. A
// boolean takes true and false, and the other spellings clients have sent (1, t, TRUE, ...),
// but not yes.
func TestParameterMessagesSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Kept"})
	stream := botPath(bot.Id, "/status/stream")
	for _, c := range []struct {
		method, path string
		lines        http.Header
		field, says  string
	}{
		{http.MethodGet, "/api/v1/bots?limit=2147483648", nil, "query:limit", "must be at most 100"},
		{http.MethodGet, "/api/v1/bots?limit=-99999999999999999999", nil, "query:limit", "must be at least 1"},
		{http.MethodGet, "/api/v1/bots?skip=99999999999999999999", nil, "query:skip", "must be at most 1000000000"},
		{http.MethodGet, "/api/v1/bots?limit=", nil, "query:limit", "is empty; it must be an integer"},
		{http.MethodGet, stream, http.Header{"Last-Event-ID": {"99999999999999999999"}}, "header:Last-Event-ID", "must be at most 9223372036854775807"},
		{http.MethodGet, stream, http.Header{"Last-Event-ID": {""}}, "header:Last-Event-ID", "is empty; it must be an integer"},
		{http.MethodGet, "/api/v1/bots?is_public=", nil, "query:is_public", "is empty; it must be true or false"},
		{http.MethodGet, "/api/v1/bots?is_public=yes", nil, "query:is_public", "must be true or false"},
		{http.MethodDelete, botPath(bot.Id) + "?confirm=", nil, "query:confirm", "is empty; it must be true or false"},
		{http.MethodDelete, botPath(bot.Id) + "?confirm=yes", nil, "query:confirm", "must be true or false"},
	} {
		p := e.do(request{method: c.method, path: c.path, as: &u, lines: c.lines}).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, []string{c.field}, fieldsOf(p), c.path)
		require.Equal(t, c.says, (*p.Errors)[0].Message, "%s %v", c.path, c.lines)
	}
	require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code, "the bot was not deleted")
	for query, public := range map[string]bool{"true": true, "1": true, "t": true, "TRUE": true, "True": true,
		"false": false, "0": false, "f": false, "FALSE": false, "False": false} {
		page := decoded[api.BotList](t, e.get(u, "/api/v1/bots?is_public="+query))
		require.Len(t, page.Items, map[bool]int{true: 0, false: 1}[public], "is_public=%s", query)
	}
}
