package httpapi_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/httpapi"
)

// Every GET route answers HEAD with the GET's status and headers and no body (RFC 9110
// §9.3.2); Content-Length says how long the GET's body is.
func TestHeadAnswersAsGetWithoutTheBody(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})

	// The operations of openapi.yaml, through the harness that checks answers against it, and
	// the routes outside the spec: documentation and metrics.
	routes := map[string]request{
		"Health":        {path: "/healthz", as: &u},
		"Readiness":     {path: "/readyz", as: &u},
		"Models":        {path: "/api/v1/models", as: &u},
		"BotList":       {path: "/api/v1/bots?sort=name", as: &u},
		"Bot":           {path: botPath(bot.Id), as: &u},
		"StatusEvents":  {path: botPath(bot.Id, "/status-events"), as: &u},
		"Document":      {path: "/openapi.yaml"},
		"DocsPage":      {path: "/docs"},
		"SwaggerBundle": {path: "/docs/swagger-ui-bundle.js"},
	}
	for name, r := range routes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			get, head := e.authzFor(t).getAndHead(r)
			headMatchesGet(t, get, head)
		})
	}
	t.Run("Metrics", func(t *testing.T) {
		t.Parallel()
		// The metrics change with every request, so only their headers are compared.
		get, head := e.authzFor(t).getAndHead(request{path: "/metrics"})
		require.Equal(t, http.StatusOK, head.code)
		require.Empty(t, head.body)
		require.Equal(t, get.header.Get("Content-Type"), head.header.Get("Content-Type"))
		n, err := strconv.Atoi(head.header.Get("Content-Length"))
		require.NoError(t, err)
		require.Positive(t, n)
	})
}

// getAndHead sends r as a GET, then as a HEAD.
func (e *env) getAndHead(r request) (get, head *response) {
	e.t.Helper()
	r.method = http.MethodGet
	get = e.do(r)
	r.method = http.MethodHead
	return get, e.do(r)
}

// headMatchesGet checks a HEAD answer against the GET's.
func headMatchesGet(t *testing.T, get, head *response) {
	t.Helper()
	require.Equal(t, get.code, head.code, string(get.body))
	require.Empty(t, head.body)
	require.NotEmpty(t, get.body)
	for _, name := range []string{"Content-Type", "ETag", "Cache-Control", "Location", "WWW-Authenticate"} {
		require.Equal(t, get.header.Values(name), head.header.Values(name), name)
	}
	require.Equal(t, strconv.Itoa(len(get.body)), head.header.Get("Content-Length"))
}

// A HEAD of an operation is authenticated and validated exactly like its GET, and its
// refusals are the GET's problems without their body.
func TestHeadIsCheckedLikeGet(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, stranger := newUser(t), newUser(t)
	private := e.createBot(owner, map[string]any{"name": "Private"})
	cases := map[string]request{
		"NoToken":              {path: botPath(private.Id)},
		"InvalidToken":         {path: "/api/v1/models", header: map[string]string{"Authorization": "Bearer garbage"}},
		"AnotherUsersBot":      {path: botPath(private.Id), as: &stranger},
		"InvalidBotID":         {path: "/api/v1/bots/not-a-uuid", as: &owner},
		"InvalidQueryValue":    {path: "/api/v1/bots?limit=1000", as: &owner},
		"UnknownPath":          {path: "/api/v1/nowhere", as: &owner},
		"UnknownBotStatusPath": {path: botPath(private.Id, "/nowhere"), as: &owner},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			get, head := e.authzFor(t).getAndHead(r)
			require.GreaterOrEqual(t, get.code, 400)
			headMatchesGet(t, get, head)
			require.Equal(t, "application/problem+json", head.header.Get("Content-Type"))
		})
	}
}

// A HEAD reads; it must not use up the user's writes.
func TestHeadIsNotAWrite(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{limits: httpapi.Limits{WriteRate: 0.001, WriteBurst: 1}})
	u := newUser(t)
	for range 3 {
		require.Equal(t, http.StatusOK, e.do(request{method: http.MethodHead, path: "/api/v1/bots", as: &u}).code)
	}
	e.createBot(u, map[string]any{"name": "Support"})
}

// A HEAD of the status stream answers the stream's headers and ends at once, instead of
// holding the connection (and one of the user's streams) open.
func TestHeadOfTheStatusStreamEndsAtOnce(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{limits: httpapi.Limits{StreamsPerUser: 1}})
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Support"})
	path := botPath(bot.Id, "/status/stream")

	for range 2 { // the second finds the stream slot free again
		head := e.start(t, request{method: http.MethodHead, path: path, as: &u})()
		require.Equal(t, http.StatusOK, head.code)
		require.Equal(t, "text/event-stream", head.header.Get("Content-Type"))
		require.Empty(t, head.header.Get("Content-Length"), "a stream has no length")
	}
}

// Over a real connection, the HEAD's Content-Length is the length of the GET's body.
func TestHeadOverTheWire(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})
	srv := e.listen()

	call := func(method string) (*http.Response, []byte) {
		req, err := http.NewRequest(method, srv.URL+botPath(bot.Id), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+u.token)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, body
	}
	get, body := call(http.MethodGet)
	head, none := call(http.MethodHead)
	require.Equal(t, http.StatusOK, head.StatusCode)
	require.Empty(t, none)
	require.Equal(t, int64(len(body)), head.ContentLength)
	require.Equal(t, get.Header.Get("ETag"), head.Header.Get("ETag"))
	require.Equal(t, get.Header.Get("Content-Type"), head.Header.Get("Content-Type"))
}

// A 405 lists HEAD among the methods of a path that answers GET.
func TestHeadIsAnAllowedMethod(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	for _, path := range []string{"/healthz", "/api/v1/models", botPath(uuid.New())} {
		res := e.do(request{method: http.MethodPatch, path: path, as: &u})
		res.problem(t, http.StatusMethodNotAllowed)
		require.Contains(t, strings.Split(res.header.Get("Allow"), ", "), http.MethodHead, path)
	}
}
