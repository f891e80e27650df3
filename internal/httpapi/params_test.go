package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A parameter the server refuses is named with what is wrong with it: the bound an integer
// too large for any integer breaks, not "must be an integer"; an empty value as such; and a
// boolean spelled other than true or false, which the spec's boolean does not allow.
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
		{http.MethodGet, "/api/v1/bots?is_public=", nil, "query:is_public", "must be true or false"},
		{http.MethodGet, "/api/v1/bots?is_public=1", nil, "query:is_public", "must be true or false"},
		{http.MethodGet, "/api/v1/bots?is_public=TRUE", nil, "query:is_public", "must be true or false"},
		{http.MethodGet, "/api/v1/bots?is_public=f", nil, "query:is_public", "must be true or false"},
		{http.MethodDelete, botPath(bot.Id) + "?confirm=", nil, "query:confirm", "must be true or false"},
		{http.MethodDelete, botPath(bot.Id) + "?confirm=1", nil, "query:confirm", "must be true or false"},
	} {
		p := e.do(request{method: c.method, path: c.path, as: &u, lines: c.lines}).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, []string{c.field}, fieldsOf(p), c.path)
		require.Equal(t, c.says, (*p.Errors)[0].Message, "%s %v", c.path, c.lines)
	}
	require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code, "the bot was not deleted")
	for _, query := range []string{"is_public=true", "is_public=false"} {
		require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots?"+query).code, query)
	}
}
