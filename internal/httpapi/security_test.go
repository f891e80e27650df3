package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

// internals are the marks of SQL, Go internals and file paths that no answer may carry.
var internals = regexp.MustCompile(`(?i)\b(select|insert|update|delete)\b.+\b(from|into|set)\b|pgx|pgconn|sqlstate|\.go:\d+|goroutine|panic|runtime\.|/work/|/root/|/usr/|constraint "|dial tcp|127\.0\.0\.1`)

func TestErrorBodiesRevealNothingInternal(t *testing.T) {
	t.Parallel()
	// The check itself recognises what it looks for.
	for _, leak := range []string{
		`ERROR: duplicate key value violates unique constraint "bots_owner_name_key" (SQLSTATE 23505)`,
		"update bots: SELECT * FROM bots WHERE id = $1",
		"/work/main/internal/bots/service.go:120",
		"failed to connect to `user=postgres database=chatsphere`: dial tcp 127.0.0.1:5432: connect: connection refused",
	} {
		require.Regexp(t, internals, leak)
	}

	e := setup(t)
	u, other := newUser(t), newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Target"})
	e.createBot(u, map[string]any{"name": "Taken"})
	long := strings.Repeat("x", 8000)
	requests := []request{
		{method: http.MethodGet, path: "/api/v1/bots?limit=999999999999999999999&skip=-1&sort=" + long, as: &u},
		{method: http.MethodGet, path: "/api/v1/bots?q=%00", as: &u},
		{method: http.MethodGet, path: "/api/v1/bots/" + long, as: &u},
		{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"Taken","model":"gpt-4o"}`},
		{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"x","model":"gpt-4o","owner_id":"` + other.id.String() + `","status":"active","id":"` + uuid.NewString() + `","created_at":"2020-01-01T00:00:00Z"}`},
		{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"a\u0000","model":"gpt-4o"}`},
		{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: strings.Repeat("[", 20000)},
		{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"` + strings.Repeat("é", 40000) + `"}`},
		{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: `{"name":"TAKEN"}`},
		{method: http.MethodPut, path: botPath(bot.Id), as: &other, body: `{"name":"mine now"}`},
		{method: http.MethodDelete, path: botPath(bot.Id), as: &u, header: map[string]string{"If-Match": `"999"`}},
		{method: http.MethodGet, path: "/api/v1/bots", header: map[string]string{"Authorization": "Bearer " + long}},
		{method: http.MethodPatch, path: "/api/v1/bots", as: &u},
		{method: http.MethodGet, path: "/nowhere/" + long},
	}
	for _, r := range requests {
		res := e.do(r)
		require.GreaterOrEqual(t, res.code, 400, "%s %.60s", r.method, r.path)
		require.Less(t, res.code, 500, "%s %.60s: %s", r.method, r.path, res.body)
		require.NotRegexp(t, internals, string(res.body), "%s %.60s", r.method, r.path)
	}

	// Nor does the answer when the database is gone.
	dead, err := url.Parse(dbtest.URL(t))
	require.NoError(t, err)
	dead.Host = "127.0.0.1:1"
	gone := setupWith(t, envConfig{databaseURL: dead.String()})
	res := gone.get(u, botPath(bot.Id))
	require.Equal(t, http.StatusServiceUnavailable, res.code)
	require.NotRegexp(t, internals, string(res.body))
}
