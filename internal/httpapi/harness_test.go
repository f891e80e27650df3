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
	jobs, err := training.NewClient(pool, c.trainer, cfg, logger)
	require.NoError(t, err)
	svc := bots.NewService(pool, jobs)

	ctx, cancel := context.WithCancel(context.Background())
	feed := statusfeed.New(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	}, logger)
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
		Verifier:  auth.NewVerifier(testSecret),
		Logger:    logger,
		Feed:      feed,
		Heartbeat: 50 * time.Millisecond,
		Limits:    testLimits(c.limits),

		CORSAllowedOrigins: c.cors,
		Collectors:         []prometheus.Collector{dbpool.NewCollector(pool), bots.NewStatusCollector(svc, logger)},
	})
	require.NoError(t, err)
	return &env{t: t, handler: handler, pool: pool, svc: svc, jobs: jobs, feed: feed}
}

// testLimits gives l's zero RequestTimeout, WriteBurst, StreamsPerUser and ListBurst the
// defaults of config.DefaultLimits; NewServer refuses them zero.
func testLimits(l httpapi.Limits) httpapi.Limits {
	d := config.DefaultLimits()
	l.RequestTimeout = cmp.Or(l.RequestTimeout, d.RequestTimeout)
	l.WriteBurst = cmp.Or(l.WriteBurst, d.WriteBurst)
	l.StreamsPerUser = cmp.Or(l.StreamsPerUser, d.StreamsPerUser)
	l.ListBurst = cmp.Or(l.ListBurst, d.ListBurst)
	return l
}

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
	method, path string
	as           *user
	body         any // a string or []byte is sent as is, anything else as JSON
	contentType  string
	header       map[string]string
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends r through the handler and validates the response against the spec.
func (e *env) do(r request) *response {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.body != nil {
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
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	res := &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	checkResponse(e.t, req, res)
	return res
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

// createBot creates a bot and fails the test unless it gets 201.
func (e *env) createBot(u user, body map[string]any) api.BotResponse {
	e.t.Helper()
	if _, ok := body["model"]; !ok {
		body["model"] = "gpt-4o-mini"
	}
	res := e.post(u, "/api/v1/bots", body)
	require.Equal(e.t, http.StatusCreated, res.code, string(res.body))
	var bot api.BotResponse
	res.decode(e.t, &bot)
	return bot
}

func botPath(id uuid.UUID, suffix ...string) string {
	return "/api/v1/bots/" + id.String() + strings.Join(suffix, "")
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), string(r.body))
}

// problem decodes a problem body and checks that it is one, with the expected status.
func (r *response) problem(t testing.TB, status int) api.Problem {
	t.Helper()
	require.Equal(t, status, r.code, string(r.body))
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	var p api.Problem
	r.decode(t, &p)
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
// other methods) must be a Problem. A HEAD answer must have no body and is otherwise checked
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
