package httpapi_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	allowedOrigin = "https://app.example.com"
	refusedOrigin = "https://evil.example.net"
)

// preflight sends the OPTIONS request a browser sends before a cross-origin call, through
// the harness (its answer belongs to the CORS protocol, beside the contract).
func (e *env) preflight(path, origin, method, headers string) *httptest.ResponseRecorder {
	e.t.Helper()
	res := e.do(request{method: http.MethodOptions, path: path, header: map[string]string{
		"Origin":                         origin,
		"Access-Control-Request-Method":  method,
		"Access-Control-Request-Headers": headers,
	}})
	rec := httptest.NewRecorder()
	maps.Copy(rec.Header(), res.header)
	rec.WriteHeader(res.code)
	_, _ = rec.Write(res.body)
	return rec
}

// listed reports whether a comma-separated header value lists name, in any case.
func listed(value, name string) bool {
	for _, v := range strings.Split(value, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return true
		}
	}
	return false
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{cors: []string{allowedOrigin, "http://localhost:3000"}})
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Cross origin", "model": "gpt-4o-mini"})

	t.Run("PreflightFromAnAllowedOriginIsAnsweredWithoutAToken", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ path, method, headers string }{
			{"/api/v1/bots", http.MethodPost, "authorization, content-type, idempotency-key"},
			{botPath(bot.Id), http.MethodPut, "authorization, content-type, if-match"},
			{botPath(bot.Id), http.MethodDelete, "authorization, if-match"},
			{botPath(bot.Id), http.MethodGet, "authorization, if-none-match, x-request-id"},
			{botPath(bot.Id, "/status/stream"), http.MethodGet, "authorization, last-event-id"},
		} {
			rec := e.preflight(tt.path, allowedOrigin, tt.method, tt.headers)
			require.Equal(t, http.StatusNoContent, rec.Code, "%s %s: %s", tt.method, tt.path, rec.Body)
			h := rec.Header()
			require.Equal(t, allowedOrigin, h.Get("Access-Control-Allow-Origin"))
			require.True(t, listed(h.Get("Access-Control-Allow-Methods"), tt.method), "%s %s: %s", tt.method, tt.path, h)
			for _, name := range strings.Split(tt.headers, ",") {
				require.True(t, listed(h.Get("Access-Control-Allow-Headers"), strings.TrimSpace(name)), "%s: %s", name, h)
			}
			require.Equal(t, "3600", h.Get("Access-Control-Max-Age"))
			require.Empty(t, h.Get("Access-Control-Allow-Credentials"), "tokens are not cookies")
			require.True(t, listed(strings.Join(h.Values("Vary"), ","), "Origin"))
		}
	})

	t.Run("PreflightOnlyAllowsTheRoutesMethods", func(t *testing.T) {
		t.Parallel()
		rec := e.preflight("/api/v1/models", allowedOrigin, http.MethodGet, "authorization")
		require.Equal(t, http.StatusNoContent, rec.Code)
		require.False(t, listed(rec.Header().Get("Access-Control-Allow-Methods"), http.MethodPost))
	})

	t.Run("APreflightToAPathWithoutARouteAllowsNothing", func(t *testing.T) {
		t.Parallel()
		rec := e.preflight("/api/v1/nothing-here", allowedOrigin, http.MethodGet, "authorization")
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Methods"), "no route, no methods: not even PATCH, which none takes")
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	})

	t.Run("RequestFromAnAllowedOriginCanReadTheAnswer", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u,
			body:   map[string]any{"name": "Made from a page", "model": "gpt-4o-mini"},
			header: map[string]string{"Origin": allowedOrigin, "Idempotency-Key": "cors-test-key"}})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, allowedOrigin, res.header.Get("Access-Control-Allow-Origin"))
		exposed := res.header.Get("Access-Control-Expose-Headers")
		for _, name := range []string{"ETag", "Location", "Retry-After", "Idempotent-Replayed", "X-Request-Id"} {
			require.True(t, listed(exposed, name), "%s is not exposed: %q", name, exposed)
		}
	})

	t.Run("RefusalFromAnAllowedOriginCanBeRead", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/api/v1/bots", header: map[string]string{"Origin": "http://localhost:3000"}})
		require.Equal(t, http.StatusUnauthorized, res.code)
		require.Equal(t, "http://localhost:3000", res.header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("PreflightFromARefusedOriginAllowsNothing", func(t *testing.T) {
		t.Parallel()
		rec := e.preflight("/api/v1/bots", refusedOrigin, http.MethodPost, "authorization, content-type")
		for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			require.Empty(t, rec.Header().Get(name), name)
		}
	})

	t.Run("RequestFromARefusedOriginCannotBeRead", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/api/v1/bots", as: &u, header: map[string]string{"Origin": refusedOrigin}})
		require.Equal(t, http.StatusOK, res.code)
		require.Empty(t, res.header.Get("Access-Control-Allow-Origin"))
		require.Empty(t, res.header.Get("Access-Control-Expose-Headers"))
	})

	t.Run("OriginsDifferingOnlyInSchemeOrPortAreRefused", func(t *testing.T) {
		t.Parallel()
		for _, origin := range []string{"http://app.example.com", "https://app.example.com:8443", "https://app.example.com.evil.net"} {
			rec := e.preflight("/api/v1/bots", origin, http.MethodGet, "authorization")
			require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), origin)
		}
	})

	t.Run("OnlyTheAPIHasCORS", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/healthz", header: map[string]string{"Origin": allowedOrigin}})
		require.Empty(t, res.header.Get("Access-Control-Allow-Origin"))
	})
}

func TestCORSIsOffByDefault(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	rec := e.preflight("/api/v1/bots", allowedOrigin, http.MethodPost, "authorization, content-type")
	require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	res := e.do(request{method: http.MethodGet, path: "/api/v1/bots", as: &u, header: map[string]string{"Origin": allowedOrigin}})
	require.Equal(t, http.StatusOK, res.code)
	require.Empty(t, res.header.Get("Access-Control-Allow-Origin"))
}
