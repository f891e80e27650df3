package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fuzzSend sends one request straight to the handler and fails on a 5xx, a panic, or an
// answer that breaks openapi.yaml.
func fuzzSend(t *testing.T, e *env, u user, method, target, contentType string, body []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	// The target goes in raw, so that the fuzzer also reaches the query parser.
	req.RequestURI = target
	u2, err := req.URL.Parse(target)
	if err != nil {
		return // not something a client can send
	}
	req.URL = u2
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+u.token)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s %q answered %d: %s", method, target, body, rec.Code, rec.Body.Bytes())
	}
	res := &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if err := responseError(req, res); err != nil {
		t.Fatalf("%s %s %q answered outside the spec: %v", method, target, body, err)
	}
}

// FuzzBotBodies sends arbitrary bodies to every operation that decodes one. The seed corpus
// (testdata/fuzz/FuzzBotBodies) holds the classic troublemakers: NUL, lone surrogates,
// invalid UTF-8, deep nesting, huge numbers, read-only fields. Run longer with
// `go test -run=^$ -fuzz=FuzzBotBodies ./internal/httpapi/`.
func FuzzBotBodies(f *testing.F) {
	e := setupWith(f, envConfig{})
	u := newUser(f)
	bot := e.createBot(u, map[string]any{"name": "Fuzzed"})
	targets := []struct{ method, path string }{
		{http.MethodPost, "/api/v1/bots"},
		{http.MethodPut, botPath(bot.Id)},
		{http.MethodPost, botPath(bot.Id, "/duplicate")},
	}
	f.Add(uint8(0), []byte(`{"name":"ok","model":"gpt-4o"}`))
	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		op := targets[int(target)%len(targets)]
		fuzzSend(t, e, u, op.method, op.path, "application/json", body)
	})
}

// FuzzListQuery sends arbitrary query strings to the list and a bot's status history.
// Run longer with `go test -run=^$ -fuzz=FuzzListQuery ./internal/httpapi/`.
func FuzzListQuery(f *testing.F) {
	e := setupWith(f, envConfig{})
	u := newUser(f)
	bot := e.createBot(u, map[string]any{"name": "Listed"})
	f.Add(false, "limit=10&skip=0&sort=-name&q=a_b%25")
	f.Fuzz(func(t *testing.T, history bool, query string) {
		path := "/api/v1/bots"
		if history {
			path = botPath(bot.Id, "/status-events")
		}
		fuzzSend(t, e, u, http.MethodGet, path+"?"+query, "", nil)
	})
}
