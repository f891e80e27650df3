package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// fuzzSend sends one request through the harness, with its target as the fuzzer wrote it,
// and fails on a 5xx. It returns the URL as sent (the validator rewrites the request's query
// with the defaults) and the answer, or nil for a target no client can send.
func fuzzSend(t *testing.T, e *env, u user, method, target, contentType string, body []byte) (*url.URL, *response) {
	t.Helper()
	req, err := request{method: method, path: "/", as: &u, body: body, contentType: contentType}.build()
	require.NoError(t, err)
	// The target goes in raw, so that the fuzzer also reaches the query parser.
	req.RequestURI = target
	u2, err := req.URL.Parse(target)
	if err != nil {
		return nil, nil // not something a client can send
	}
	req.URL = u2
	sent := *u2
	res := e.authzFor(t).send(req)
	require.Less(t, res.code, 500, "%s %s %q answered %d: %s", method, target, body, res.code, res.body)
	return &sent, res
}

// fuzzDuplicateName returns a member name that appears twice in one object of a JSON value,
// at any depth.
func fuzzDuplicateName(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	var inner []json.RawMessage
	switch tok {
	case json.Delim('{'):
		seen := make(map[string]bool)
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return "", false
			}
			if seen[name.(string)] {
				return name.(string), true
			}
			seen[name.(string)] = true
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				return "", false
			}
			inner = append(inner, v)
		}
	case json.Delim('['):
		for dec.More() {
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				return "", false
			}
			inner = append(inner, v)
		}
	}
	for _, v := range inner {
		if name, ok := fuzzDuplicateName(v); ok {
			return name, true
		}
	}
	return "", false
}

// fuzzNoncharacter reports whether a string or member name of a JSON value holds a Unicode
// noncharacter.
func fuzzNoncharacter(raw []byte) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var walk func(any) bool
	isNon := func(s string) bool {
		for _, r := range s {
			if r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFF == 0xFFFE || r&0xFFFF == 0xFFFF {
				return true
			}
		}
		return false
	}
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return isNon(v)
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		case map[string]any:
			for k, x := range v {
				if isNon(k) || walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// FuzzBotBodies sends arbitrary bodies to every operation that decodes one, and fails when
// one that is not I-JSON (a member name twice, a noncharacter) is accepted. The seed corpus
// (testdata/fuzz/FuzzBotBodies) holds the classic troublemakers: NUL, lone surrogates,
// invalid UTF-8, deep nesting, huge numbers, read-only fields, duplicate member names at any
// depth and noncharacters raw or escaped. Run longer with
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
		_, res := fuzzSend(t, e, u, op.method, op.path, "application/json", body)
		if res == nil || res.code >= 300 {
			return
		}
		// An accepted body is I-JSON: which of two values of one name wins is up to the
		// parser, and noncharacters are not text.
		if name, dup := fuzzDuplicateName(body); dup {
			t.Fatalf("%s %s accepted %q, which has the member %q twice", op.method, op.path, body, name)
		}
		if fuzzNoncharacter(body) {
			t.Fatalf("%s %s accepted %q, which holds a Unicode noncharacter", op.method, op.path, body)
		}
	})
}

// FuzzListQuery sends arbitrary query strings to the list and a bot's status history, and
// fails when a parameter is silently ignored: a pair Go's parser drops (";", a malformed
// escape) in an accepted query, or a single-valued parameter given twice that is not a 422
// naming it. Run longer with `go test -run=^$ -fuzz=FuzzListQuery ./internal/httpapi/`.
func FuzzListQuery(f *testing.F) {
	e := setupWith(f, envConfig{})
	u := newUser(f)
	bot := e.createBot(u, map[string]any{"name": "Listed"})
	f.Add(false, "limit=10&skip=0&sort=-name&q=a_b%25")
	single := map[string]bool{"limit": true, "skip": true, "q": true, "status": true, "model": true, "is_public": true, "sort": true}
	f.Fuzz(func(t *testing.T, history bool, query string) {
		path := "/api/v1/bots"
		if history {
			path = botPath(bot.Id, "/status-events")
		}
		sent, res := fuzzSend(t, e, u, http.MethodGet, path+"?"+query, "", nil)
		if res == nil {
			return
		}
		raw := sent.RawQuery
		var p api.Problem
		if res.code >= 400 {
			res.decode(t, &p)
		}
		if p.Detail == "the query string must be UTF-8 text without NUL characters" {
			return // unreadable as a whole
		}
		// Every parameter the client sent is read or named: none is dropped as Go's parser
		// drops a pair with ";" or a malformed escape, and a single-valued one given twice
		// is a 422 that names it.
		if _, err := url.ParseQuery(raw); err != nil && res.code < 300 {
			t.Fatalf("GET %s?%s answered %d although a parameter cannot be read: %v", path, raw, res.code, err)
		}
		count := make(map[string]int)
		for pair := range strings.SplitSeq(raw, "&") {
			name, _, _ := strings.Cut(pair, "=")
			if name, err := url.QueryUnescape(name); err == nil && pair != "" {
				count[name]++
			}
		}
		for name, n := range count {
			if n < 2 || !single[name] || history && name != "limit" && name != "skip" {
				continue
			}
			if res.code != http.StatusUnprocessableEntity || !slices.Contains(fieldsOf(p), "query:"+name) {
				t.Fatalf("GET %s?%s answered %d %s although %q is given twice", path, raw, res.code, res.body, name)
			}
		}
	})
}
