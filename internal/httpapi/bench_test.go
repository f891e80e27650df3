package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Benchmarks of the request path through the real handler and database, one request at a
// time: run with `go test -run='^$' -bench=. -benchmem ./internal/httpapi/`.

// benchRequest sends one request over and over. The first answer is checked against the
// spec; the loop measures the server alone.
func benchRequest(b *testing.B, e *env, u user, method, path, body string, want int) {
	b.Helper()
	r := request{method: method, path: path, as: &u}
	if body != "" {
		r.body = body
	}
	b.ReportAllocs()
	first := true
	for b.Loop() {
		benchSend(b, e, r, want, first)
		first = false
	}
}

// benchSend sends r and fails unless it gets want; checked says to check the answer against
// the spec too.
func benchSend(b *testing.B, e *env, r request, want int, checked bool) {
	req, err := r.build()
	if err != nil {
		b.Fatal(err)
	}
	res := e.serve(req)
	if checked {
		checkResponse(b, req, res)
	}
	if res.code != want {
		b.Fatalf("%s %s: %d %s", r.method, r.path, res.code, res.body)
	}
}

func BenchmarkGetBot(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	bot := e.createBot(u, map[string]any{"name": "Benchmarked", "description": "A bot to read", "system_prompt": strings.Repeat("Be kind. ", 50)})
	benchRequest(b, e, u, http.MethodGet, botPath(bot.Id), "", http.StatusOK)
}

func BenchmarkListBots(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	for i := range 50 {
		e.createBot(u, map[string]any{"name": fmt.Sprintf("Listed %d", i), "description": "support bot"})
	}
	benchRequest(b, e, u, http.MethodGet, "/api/v1/bots?limit=20", "", http.StatusOK)
}

func BenchmarkCreateBot(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		body := fmt.Sprintf(`{"name":"Created %d","model":"gpt-4o-mini","description":"made in a benchmark"}`, i)
		benchSend(b, e, request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: body}, http.StatusCreated, i == 1)
	}
}

// BenchmarkCreateBotLargestBody creates bots whose every text field is at its longest, in
// characters of four UTF-8 bytes: the most a valid create asks of the body checks.
func BenchmarkCreateBotLargestBody(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	description, prompt := strings.Repeat("😀", 500), strings.Repeat("😀", 1000)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		name := fmt.Sprintf("%d %s", i, strings.Repeat("😀", 90))
		body := fmt.Sprintf(`{"name":%q,"model":"gpt-4o-mini","description":%q,"system_prompt":%q,"temperature":0.5,"is_public":false}`,
			name, description, prompt)
		benchSend(b, e, request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: body}, http.StatusCreated, i == 1)
	}
}

// BenchmarkRefusedManyMembers sends a body of almost 64 KiB made of thousands of unknown
// members, which the body checks walk one by one before the validator refuses them.
func BenchmarkRefusedManyMembers(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	var body strings.Builder
	body.WriteString(`{"name":"x","model":"gpt-4o-mini"`)
	for i := 0; body.Len() < 60<<10; i++ {
		fmt.Fprintf(&body, `,"m%d":[%d,"v"]`, i, i)
	}
	body.WriteString(`}`)
	benchRequest(b, e, u, http.MethodPost, "/api/v1/bots", body.String(), http.StatusUnprocessableEntity)
}

func BenchmarkUpdateBot(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	bot := e.createBot(u, map[string]any{"name": "Updated", "description": "A bot to change"})
	e.activate(bot.Id)
	benchRequest(b, e, u, http.MethodPut, botPath(bot.Id), `{"temperature":0.4,"description":"changed in a benchmark"}`, http.StatusOK)
}

func BenchmarkValidationFailure(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	benchRequest(b, e, u, http.MethodPost, "/api/v1/bots", `{"name":"","model":"gpt-4o","temperature":3}`, http.StatusUnprocessableEntity)
}

// BenchmarkGetBotParallel reads one bot from many goroutines at once, as under load.
func BenchmarkGetBotParallel(b *testing.B) {
	e := setupWith(b, envConfig{})
	u := newUser(b)
	bot := e.createBot(u, map[string]any{"name": "Benchmarked", "description": "A bot to read", "system_prompt": strings.Repeat("Be kind. ", 50)})
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := request{method: http.MethodGet, path: botPath(bot.Id), as: &u}.build()
			if err != nil {
				b.Error(err)
				return
			}
			if res := e.serve(req); res.code != http.StatusOK {
				b.Errorf("%d", res.code)
				return
			}
		}
	})
}
