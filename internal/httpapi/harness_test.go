package httpapi_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/dbpool"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/httpapi"
	"github.com/chatsphere/bots/internal/statusfeed"
	"github.com/chatsphere/bots/internal/training"
	"github.com/chatsphere/bots/internal/webhook"
)

var testSecret = []byte("test-secret-test-secret-test-secret!")

// env is one test's server on its own database.
type env struct {
	t       testing.TB
	handler http.Handler
	pool    *pgxpool.Pool
	svc     *bots.Service
	jobs    *training.Client
	feed    *statusfeed.Feed
}

// setup starts the real handler on a fresh database, with training jobs queued but not
// worked. Every response it returns is checked against openapi.yaml.
func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, envConfig{})
}

// setupUser is setup with a new user, the caller of most tests.
func setupUser(t *testing.T) (*env, user) {
	t.Helper()
	return setup(t), newUser(t)
}

// setupBot is setupUser with a bot of the user's made of body: where most tests of one bot
// start.
func setupBot(t *testing.T, body map[string]any) (*env, user, api.BotResponse) {
	t.Helper()
	e, u := setupUser(t)
	return e, u, e.createBot(u, body)
}

// envConfig varies the server of a test; the zero value is setup's.
type envConfig struct {
	// trainer works training jobs with training; nil queues them only.
	trainer  training.Trainer
	training training.Config
	// limits are the server's limits. Zero rates and InflightPerUser turn those limits off, so
	// that tests are not throttled unless they ask to be; a zero timeout or burst takes its
	// default (see testLimits).
	limits httpapi.Limits
	// databaseURL is the database to use; a fresh one when empty.
	databaseURL string
	// cors are the origins allowed to call the API from a browser.
	cors []string
	// webhooks, when not nil, sends webhook deliveries with this configuration, whose Policy
	// also rules the registrations; nil queues deliveries only, and registers as production
	// does (https only, no private addresses).
	webhooks *webhook.Config
}

// testTraining is a training configuration with short waits, for tests that work jobs.
var testTraining = training.Config{
	Workers:      2,
	MaxAttempts:  3,
	RetryBackoff: 10 * time.Millisecond,
	JobTimeout:   10 * time.Second,
	RescueAfter:  time.Minute,
}

// setupTraining is setup with training jobs worked by trainer.
func setupTraining(t *testing.T, trainer training.Trainer, cfg training.Config) *env {
	t.Helper()
	return setupWith(t, envConfig{trainer: trainer, training: cfg})
}

func setupWith(t testing.TB, c envConfig) *env {
	t.Helper()
	url := c.databaseURL
	if url == "" {
		url = dbtest.URL(t)
	}
	pool := dbtest.NewPool(t, url)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg := c.training
	if c.trainer == nil {
		cfg = training.Config{MaxAttempts: 1, JobTimeout: time.Second, RescueAfter: time.Minute}
	}
	var hooks webhook.Config
	if c.webhooks != nil {
		hooks = *c.webhooks
	}
	jobs, err := training.NewClient(pool, c.trainer, cfg, logger,
		training.AlsoWorks[webhook.Args](webhook.QueueName, hooks.Workers, webhook.NewWorker(pool, hooks, logger)))
	require.NoError(t, err)
	svc := bots.NewService(pool, jobs)

	ctx, cancel := context.WithCancel(context.Background())
	feed := statusfeed.New(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	}, logger, svc)
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		_ = feed.Run(ctx)
	}()
	require.NoError(t, jobs.Start(ctx, svc))
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = jobs.Stop(stopCtx)
		cancel()
		<-feedDone
	})

	handler, err := httpapi.NewServer(httpapi.Deps{
		Bots:      svc,
		Webhooks:  webhook.NewService(pool, hooks.Policy),
		Verifier:  auth.NewVerifier(testSecret),
		Logger:    logger,
		Feed:      feed,
		Heartbeat: 50 * time.Millisecond,
		Limits:    testLimits(c.limits),

		CORSAllowedOrigins: c.cors,
		Collectors: []prometheus.Collector{dbpool.NewCollector(pool), bots.NewStatusCollector(svc, logger),
			bots.NewRuntimeCacheCollector(svc)},
	})
	require.NoError(t, err)
	return &env{t: t, handler: handler, pool: pool, svc: svc, jobs: jobs, feed: feed}
}

// testLimits gives l's zero WriteBurst, StreamsPerUser and ListBurst the defaults of
// config.DefaultLimits, and a zero RequestTimeout testRequestTimeout; NewServer refuses them
// zero.
func testLimits(l httpapi.Limits) httpapi.Limits {
	d := config.DefaultLimits()
	l.RequestTimeout = cmp.Or(l.RequestTimeout, testRequestTimeout)
	l.WriteBurst = cmp.Or(l.WriteBurst, d.WriteBurst)
	l.StreamsPerUser = cmp.Or(l.StreamsPerUser, d.StreamsPerUser)
	l.ListBurst = cmp.Or(l.ListBurst, d.ListBurst)
	return l
}

// testRequestTimeout is the tests' request timeout: a minute, not production's 10 s, so that
// tests racing many writes on a loaded machine under -race are not cut short with 503; tests
// of the timeout set their own.
const testRequestTimeout = time.Minute

// user is a caller with a valid token.
type user struct {
	id    uuid.UUID
	token string
}

func newUser(t testing.TB) user {
	t.Helper()
	id := uuid.New()
	tok, err := auth.Issue(testSecret, id, time.Hour, time.Now())
	require.NoError(t, err)
	return user{id: id, token: tok}
}

// request describes one call; zero fields are left out.
type request struct {
	method string
	// path is the request target as a client sends it, query included.
	path string
	as   *user
	// body is sent as is when it is a string, []byte or io.Reader (an io.Reader that is not a
	// *strings.Reader or *bytes.Reader goes without Content-Length), anything else as JSON.
	body any
	// contentType is the body's media type, application/json when empty.
	contentType string
	// header sets headers after the harness's own; an empty value leaves a header out (a
	// body without Content-Type, a call without Authorization).
	header map[string]string
	// lines adds header lines as they are, for a name sent on several lines.
	lines http.Header
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

// build makes the request r describes. It asserts nothing, so any goroutine may call it.
func (r request) build() (*http.Request, error) {
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		if b != nil {
			body = bytes.NewReader(b)
		}
	case io.Reader:
		body = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.as != nil {
		req.Header.Set("Authorization", "Bearer "+r.as.token)
	}
	for k, v := range r.header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	for name, values := range r.lines {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	return req, nil
}

// do sends r through the handler and validates the response against the spec.
func (e *env) do(r request) *response {
	e.t.Helper()
	req, err := r.build()
	require.NoError(e.t, err)
	return e.send(req)
}

// send serves a request built by hand (a raw target, a body the harness cannot describe) and
// validates the response against the spec like every other.
func (e *env) send(req *http.Request) *response {
	e.t.Helper()
	res, err := e.exchange(req)
	require.NoError(e.t, err, "%s %s answered %d %s", req.Method, req.URL, res.code, res.body)
	return res
}

// exchange serves req and returns the response and its breach of openapi.yaml, if any. It
// asserts nothing, so that goroutines other than the test's own can send: check the error
// after they are done.
func (e *env) exchange(req *http.Request) (*response, error) {
	res := e.serve(req)
	return res, responseError(req, res)
}

// serve passes req to the handler and checks nothing: only benchmarks, which measure the
// server alone, call it directly.
func (e *env) serve(req *http.Request) *response {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// try is do for goroutines other than the test's own: it returns the response and its breach
// of openapi.yaml (or the request that could not be built), to check after they are done.
func (e *env) try(r request) (*response, error) {
	req, err := r.build()
	if err != nil {
		return nil, err
	}
	return e.exchange(req)
}

// race sends all requests at once and returns their responses in the same order, each
// checked against the spec once all have been answered.
func (e *env) race(reqs []request) []*response {
	e.t.Helper()
	out := make([]*response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			<-start
			out[i], errs[i] = e.try(r)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(e.t, err, "%s %s", reqs[i].method, reqs[i].path)
	}
	return out
}

// start sends r in the background; the answer, checked against the spec, comes from the
// returned function, which fails the test if it has not come within 30 seconds.
func (e *env) start(t *testing.T, r request) func() *response {
	t.Helper()
	req, err := r.build()
	require.NoError(t, err)
	done := make(chan *response, 1)
	go func() { done <- e.serve(req) }()
	return func() *response {
		t.Helper()
		select {
		case res := <-done:
			checkResponse(t, req, res)
			return res
		case <-time.After(30 * time.Second):
			t.Fatalf("%s %s did not finish within 30s", r.method, r.path)
			return nil
		}
	}
}

// listen serves e's handler over real HTTP until the test ends, for what a recorder cannot
// show: a stream as it comes, the bytes on the wire.
func (e *env) listen() *httptest.Server {
	srv := httptest.NewServer(e.handler)
	e.t.Cleanup(srv.Close)
	return srv
}

// waitUntil polls cond until it holds, failing the test after 20 seconds: the one way tests
// here wait for something another goroutine, process or the database does.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// authzFor returns e reporting to t, so that parallel subtests can share one server and
// database while each fails on its own.
func (e *env) authzFor(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// run runs test as a parallel subtest of t, on e's server and database but failing on its
// own, with a new user: how the subtests of one test share a server.
func (e *env) run(t *testing.T, name string, test func(t *testing.T, e *env, u user)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		test(t, e.authzFor(t), newUser(t))
	})
}

// Shorthands for the common calls.
func (e *env) get(u user, path string) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodGet, path: path, as: &u})
}

func (e *env) post(u user, path string, body any) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodPost, path: path, as: &u, body: body})
}

func (e *env) put(u user, path string, body any, header map[string]string) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodPut, path: path, as: &u, body: body, header: header})
}

func (e *env) delete(u user, path string, header map[string]string) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodDelete, path: path, as: &u, header: header})
}

// getNotFound checks that each path answers u's GET with a 404 problem: what missing, deleted
// and other users' private things all answer alike.
func (e *env) getNotFound(u user, paths ...string) {
	e.t.Helper()
	for _, p := range paths {
		e.get(u, p).problem(e.t, http.StatusNotFound)
	}
}

// createBot creates a bot and fails the test unless it gets 201.
func (e *env) createBot(u user, body map[string]any) api.BotResponse {
	e.t.Helper()
	bot, _ := e.create(u, body)
	return bot
}

// create is createBot that also returns the answer, for its ETag and Location. A body
// without a model gets gpt-4o-mini.
func (e *env) create(u user, body map[string]any) (api.BotResponse, *response) {
	e.t.Helper()
	if _, ok := body["model"]; !ok {
		body["model"] = "gpt-4o-mini"
	}
	res := e.post(u, "/api/v1/bots", body)
	require.Equal(e.t, http.StatusCreated, res.code, string(res.body))
	bot := decoded[api.BotResponse](e.t, res)
	return bot, res
}

// setStatus plays the training worker: it sets the status of bots and of their latest
// versions straight in the database, with message as their status message ("" for none)
// and, for active, a prepared configuration.
func (e *env) setStatus(status, message string, ids ...uuid.UUID) {
	e.t.Helper()
	var msg *string
	if message != "" {
		msg = &message
	}
	tag, err := e.pool.Exec(context.Background(), `
		WITH version AS (
			UPDATE bot_versions v SET status = $1::bot_status, status_message = $2,
				prepared_config = CASE WHEN $1 = 'active' THEN jsonb_build_object('model', v.model,
					'temperature', v.temperature, 'system_prompt', v.system_prompt) END
			FROM bots b
			WHERE b.id = ANY($3) AND v.bot_id = b.id AND v.number = b.config_version
			RETURNING v.*
		)
		UPDATE bots SET status = version.status, status_message = version.status_message
		FROM version WHERE bots.id = version.bot_id`, status, msg, ids)
	require.NoError(e.t, err)
	require.Equal(e.t, int64(len(ids)), tag.RowsAffected())
}

// activate makes a bot active, as a finished training would.
func (e *env) activate(id uuid.UUID) {
	e.t.Helper()
	e.setStatus("active", "", id)
}

func botPath(id uuid.UUID, suffix ...string) string {
	return "/api/v1/bots/" + id.String() + strings.Join(suffix, "")
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), string(r.body))
}

// decoded is r's JSON body as a T, failing the test if it is not one.
func decoded[T any](t testing.TB, r *response) T {
	t.Helper()
	var v T
	r.decode(t, &v)
	return v
}

// problem decodes a problem body and checks that it is one, with the expected status.
func (r *response) problem(t testing.TB, status int) api.Problem {
	t.Helper()
	require.Equal(t, status, r.code, string(r.body))
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	p := decoded[api.Problem](t, r)
	require.Equal(t, int32(status), p.Status)
	require.NotEmpty(t, p.Type)
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.Detail)
	return p
}

// fieldsOf lists the "location:field" pairs of a validation problem.
func fieldsOf(p api.Problem) []string {
	var out []string
	if p.Errors != nil {
		for _, f := range *p.Errors {
			out = append(out, string(f.Location)+":"+f.Field)
		}
	}
	return out
}

// besideContract reports whether req is for a route the server answers beside openapi.yaml:
// the document itself, its docs, the problem type pages, the metrics, and a CORS preflight.
// Their successes have no schema to check; their refusals are problems like any other.
func besideContract(req *http.Request) bool {
	p := req.URL.Path
	switch {
	case p == "/openapi.yaml", p == "/openapi.json", p == "/metrics",
		p == "/docs", strings.HasPrefix(p, "/docs/"), strings.HasPrefix(p, "/problems/"):
		return true
	case req.Method == http.MethodOptions:
		return req.Header.Get("Origin") != "" && req.Header.Get("Access-Control-Request-Method") != ""
	}
	return false
}

// camel turns a snake_case name into CamelCase, for subtest names.
func camel(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

var (
	specOnce   sync.Once
	spec       *openapi3.T
	specRouter routers.Router
)

// checkResponse fails the test when a response breaks openapi.yaml.
func checkResponse(t testing.TB, req *http.Request, res *response) {
	t.Helper()
	require.NoError(t, responseError(req, res), "%s %s answered %d %s", req.Method, req.URL, res.code, res.body)
}

// responseError validates a response against openapi.yaml: an operation's response must be
// one it documents, with the documented headers and body; anything else (unknown paths,
// other methods) must be a Problem, except the successes of the routes served beside the
// contract (see besideContract). A HEAD answer must have no body and is otherwise checked
// as its GET's.
func responseError(req *http.Request, res *response) error {
	headersOnly := req.Method == http.MethodHead
	if headersOnly {
		if len(res.body) > 0 {
			return fmt.Errorf("a HEAD answer has a body of %d bytes", len(res.body))
		}
		req = req.Clone(req.Context())
		req.Method = http.MethodGet
	}
	specOnce.Do(func() {
		var err error
		spec, err = api.GetSwagger()
		if err == nil {
			specRouter, err = legacy.NewRouter(spec)
		}
		if err != nil {
			panic(err)
		}
	})
	route, params, err := specRouter.FindRoute(req)
	if err != nil {
		if besideContract(req) && res.code < http.StatusBadRequest {
			return nil
		}
		if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
			return fmt.Errorf("an answer outside the spec has content type %q, not a problem", ct)
		}
		if headersOnly {
			return nil
		}
		var v any
		if err := json.Unmarshal(res.body, &v); err != nil {
			return err
		}
		return spec.Components.Schemas["Problem"].Value.VisitJSON(v)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  res.code,
		Header:  res.header,
		Body:    io.NopCloser(bytes.NewReader(res.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: headersOnly},
	}
	return openapi3filter.ValidateResponse(context.Background(), input)
}
