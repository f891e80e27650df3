package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// The contract's middlewares, each tested on its own: a server runs match and the middlewares
// under test only, in front of a handler that answers 204 or does what the test asks.
// End-to-end tests of the whole pipeline are in the other test files.

var stepSecret = []byte("step-secret-step-secret-step-secret!")

type stepServer struct {
	ct *contract
	e  *echo.Echo
	// handle answers in place of the operation's handler; nil answers 204.
	handle echo.HandlerFunc
}

// newStepServer serves every operation of openapi.yaml, and POST /elsewhere outside it,
// through match and the middlewares that steps picks from the contract.
func newStepServer(t *testing.T, limits Limits, users userEnsurer, steps func(ct *contract) []echo.MiddlewareFunc) *stepServer {
	t.Helper()
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	// Each test sets the limits its step is about; the others are out of the way.
	if limits.RequestTimeout == 0 {
		limits.RequestTimeout = time.Minute
	}
	if limits.WriteBurst == 0 {
		limits.WriteBurst = 1000
	}
	if limits.ListBurst == 0 {
		limits.ListBurst = 1000
	}
	if limits.StreamsPerUser == 0 {
		limits.StreamsPerUser = 1000
	}
	ct, err := newContract(spec, auth.NewVerifier(stepSecret), users, limits)
	require.NoError(t, err)
	s := &stepServer{ct: ct, e: echo.New()}
	s.e.HTTPErrorHandler = (&server{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).handleError
	s.e.Use(ct.match)
	s.e.Use(steps(ct)...)
	handler := func(c echo.Context) error {
		if s.handle != nil {
			return s.handle(c)
		}
		return c.NoContent(http.StatusNoContent)
	}
	for key := range ct.ops {
		method, path, _ := strings.Cut(key, " ")
		s.e.Add(method, path, handler)
	}
	s.e.POST("/elsewhere", handler)
	return s
}

type stepUser struct {
	id    uuid.UUID
	token string
}

func newStepUser(t *testing.T) stepUser {
	t.Helper()
	id := uuid.New()
	tok, err := auth.Issue(stepSecret, id, time.Hour, time.Now())
	require.NoError(t, err)
	return stepUser{id: id, token: tok}
}

// serve sends a request; as may be nil for an anonymous one, body may be empty.
func (s *stepServer) serve(method, target string, as *stepUser, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if as != nil {
		req.Header.Set("Authorization", "Bearer "+as.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return rec
}

// problemOf decodes a problem answer with the given status.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder, status int) api.Problem {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p api.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	return p
}

// all is the whole contract, in NewServer's order (its match runs again, to no effect).
func all(ct *contract) []echo.MiddlewareFunc { return ct.pipeline() }

const somePath = "/api/v1/bots/3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"

// ---- match

func TestMatch(t *testing.T) {
	t.Parallel()

	t.Run("ARequestOfNoOperationPassesTheWholeContractUntouched", func(t *testing.T) {
		t.Parallel()
		s := newStepServer(t, Limits{}, nil, all)
		const sent = "\x1f\x8b not JSON"
		s.handle = func(c echo.Context) error {
			require.Nil(t, matchOf(c))
			got, err := io.ReadAll(c.Request().Body)
			require.NoError(t, err)
			require.Equal(t, sent, string(got), "the body was not read before the handler")
			_, hasDeadline := c.Request().Context().Deadline()
			require.False(t, hasDeadline)
			return c.NoContent(http.StatusNoContent)
		}
		rec := s.serve(http.MethodPost, "/elsewhere?a=%ff&a=%00", nil, sent, "Content-Encoding", "gzip")
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	})

	t.Run("AHeadIsMatchedToItsGet", func(t *testing.T) {
		t.Parallel()
		s := newStepServer(t, Limits{}, nil, func(*contract) []echo.MiddlewareFunc { return nil })
		var ops []string
		s.handle = func(c echo.Context) error {
			ops = append(ops, matchOf(c).op.route.Operation.OperationID)
			return c.NoContent(http.StatusNoContent)
		}
		s.serve(http.MethodGet, somePath, nil, "")
		s.serve(http.MethodHead, somePath, nil, "")
		s.serve(http.MethodDelete, somePath, nil, "")
		require.Equal(t, []string{"GetBot", "GetBot", "DeleteBot"}, ops)
	})
}

// ---- authenticate

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.authenticate}
	})
	s.handle = func(c echo.Context) error {
		return c.String(http.StatusOK, auth.User(c.Request().Context()).String())
	}

	t.Run("NoTokenIsAChallenge", func(t *testing.T) {
		t.Parallel()
		rec := s.serve(http.MethodGet, "/api/v1/bots", nil, "")
		require.Equal(t, "/problems/unauthorized", problemOf(t, rec, http.StatusUnauthorized).Type)
		require.Equal(t, `Bearer realm="chatsphere"`, rec.Header().Get("WWW-Authenticate"))
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})

	t.Run("ARefusedTokenIsAnInvalidToken", func(t *testing.T) {
		t.Parallel()
		rec := s.serve(http.MethodGet, "/api/v1/bots", nil, "", "Authorization", "Bearer not-a-token")
		problemOf(t, rec, http.StatusUnauthorized)
		require.Equal(t, `Bearer realm="chatsphere", error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	})

	// RFC 6750 §3.1: a request that presents no bearer token gets the challenge without an
	// error code, whatever else its Authorization header holds.
	t.Run("AnotherSchemeOrABareBearerIsAChallenge", func(t *testing.T) {
		t.Parallel()
		for _, header := range []string{"Basic dXNlcjpwYXNz", "Bearer ", "Bearer", "bearer   "} {
			rec := s.serve(http.MethodGet, "/api/v1/bots", nil, "", "Authorization", header)
			p := problemOf(t, rec, http.StatusUnauthorized)
			require.Equal(t, `invalid bearer token: the Authorization header must be "Bearer <token>"`, p.Detail, header)
			require.Equal(t, `Bearer realm="chatsphere"`, rec.Header().Get("WWW-Authenticate"), header)
		}
	})

	t.Run("TheTokensUserIsInTheRequestsContext", func(t *testing.T) {
		t.Parallel()
		u := newStepUser(t)
		rec := s.serve(http.MethodGet, "/api/v1/bots", &u, "")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, u.id.String(), rec.Body.String())
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})

	t.Run("AnOperationWithoutSecurityNeedsNoToken", func(t *testing.T) {
		t.Parallel()
		rec := s.serve(http.MethodGet, "/healthz", nil, "")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, uuid.Nil.String(), rec.Body.String())
		require.Empty(t, rec.Header().Get("Cache-Control"))
	})
}

// ---- limitWrites

func TestLimitWrites(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{WriteRate: 0.001, WriteBurst: 1}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.authenticate, ct.limitWrites}
	})
	u := newStepUser(t)
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodPost, "/api/v1/bots", &u, "").Code)

	rec := s.serve(http.MethodDelete, somePath, &u, "")
	p := problemOf(t, rec, http.StatusTooManyRequests)
	require.Equal(t, "/problems/rate-limited", p.Type)
	require.Contains(t, p.Detail, "too many writes; retry in")
	require.NotEmpty(t, rec.Header().Get("Retry-After"))

	require.Equal(t, http.StatusNoContent, s.serve(http.MethodGet, "/api/v1/bots", &u, "").Code, "reads are not writes")
	other := newStepUser(t)
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodPost, "/api/v1/bots", &other, "").Code, "each user has a bucket")
}

// ---- limitReads

func TestLimitReads(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{InflightPerUser: 1}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.authenticate, ct.limitReads}
	})
	u := newStepUser(t)
	entered, leave := make(chan struct{}), make(chan struct{})
	s.handle = func(c echo.Context) error {
		if c.Request().Header.Get("X-Hold") != "" {
			close(entered)
			<-leave
		}
		return c.NoContent(http.StatusNoContent)
	}
	held := make(chan int)
	go func() { held <- s.serve(http.MethodGet, somePath, &u, "", "X-Hold", "1").Code }()
	<-entered

	p := problemOf(t, s.serve(http.MethodGet, somePath, &u, ""), http.StatusTooManyRequests)
	require.Contains(t, p.Detail, "at most 1 of yours may be in progress")
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodGet, somePath+"/status/stream", &u, "").Code,
		"a status stream holds no database connection and is not counted")
	other := newStepUser(t)
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodGet, somePath, &other, "").Code, "other users are not held back")

	close(leave)
	require.Equal(t, http.StatusNoContent, <-held)
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodGet, somePath, &u, "").Code, "the slot is given back when the request ends")
}

// ---- timeout

func TestTimeout(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{RequestTimeout: time.Hour}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.timeout}
	})
	s.handle = func(c echo.Context) error {
		if deadline, ok := c.Request().Context().Deadline(); ok {
			return c.String(http.StatusOK, deadline.Format(time.RFC3339Nano))
		}
		return c.NoContent(http.StatusNoContent)
	}
	before := time.Now()
	rec := s.serve(http.MethodGet, somePath, nil, "")
	require.Equal(t, http.StatusOK, rec.Code, "a request has a deadline")
	deadline, err := time.Parse(time.RFC3339Nano, rec.Body.String())
	require.NoError(t, err)
	require.False(t, deadline.Before(before.Add(time.Hour)), "the deadline is RequestTimeout away")
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodGet, somePath+"/status/stream", nil, "").Code, "a stream has none")
}

// The request timeout counts from the moment the body has been read: a slow upload is
// bounded by the server's read timeout, and leaves the request its whole RequestTimeout.
func TestTimeoutStartsOnceTheBodyIsRead(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{RequestTimeout: time.Hour}, bots.NewService(dbtest.Pool(t), nil), all)
	var deadline time.Time
	s.handle = func(c echo.Context) error {
		deadline, _ = c.Request().Context().Deadline()
		return c.NoContent(http.StatusNoContent)
	}
	u := newStepUser(t)
	body := &clockedBody{r: strings.NewReader(`{"name":"Support"}`)}
	req := httptest.NewRequest(http.MethodPut, somePath, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.token)
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.False(t, body.read.IsZero(), "the body was read")
	require.False(t, deadline.Before(body.read.Add(time.Hour)), "the deadline is RequestTimeout after the body's last byte")
}

// clockedBody notes when its end has been read; each read first waits for the clock to move
// on, so that reading takes time.
type clockedBody struct {
	r    io.Reader
	read time.Time
}

func (b *clockedBody) Read(p []byte) (int, error) {
	for start := time.Now(); !time.Now().After(start); {
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.read = time.Now()
	}
	return n, err
}

// ---- checkQuery

func TestCheckQuery(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.checkQuery}
	})
	s.handle = func(c echo.Context) error { return c.JSON(http.StatusOK, matchOf(c).fields) }

	for _, query := range []string{"q=%00", "q=%ff", "%ff=1"} {
		p := problemOf(t, s.serve(http.MethodGet, "/api/v1/bots?"+query, nil, ""), http.StatusBadRequest)
		require.Equal(t, "the query string must be UTF-8 text without NUL characters", p.Detail, query)
	}

	rec := s.serve(http.MethodGet, "/api/v1/bots?limit=1&limit=2&q=a;b", nil, "")
	require.Equal(t, http.StatusOK, rec.Code, "unreadable parameters are noted for validate, not refused here")
	var fields []api.FieldError
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fields))
	names := make([]string, len(fields))
	for i, f := range fields {
		require.Equal(t, api.Query, f.Location)
		names[i] = f.Field
	}
	require.ElementsMatch(t, []string{"limit", "q"}, names)
}

// ---- readBody

func TestReadBody(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.readBody}
	})
	s.handle = func(c echo.Context) error {
		again, err := io.ReadAll(c.Request().Body)
		require.NoError(t, err)
		require.Equal(t, string(matchOf(c).body), string(again), "the body is put back as read")
		return c.Blob(http.StatusOK, "text/plain", again)
	}

	refused := []struct {
		name, method, path, body string
		header                   []string
		status                   int
	}{
		{"TooLarge", http.MethodPost, "/api/v1/bots", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, nil, http.StatusRequestEntityTooLarge},
		{"Compressed", http.MethodPost, "/api/v1/bots", `{}`, []string{"Content-Encoding", "gzip"}, http.StatusUnsupportedMediaType},
		{"OnAnOperationThatTakesNone", http.MethodGet, somePath, `{}`, nil, http.StatusUnsupportedMediaType},
		{"NotJSONMediaType", http.MethodPost, "/api/v1/bots", `{}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"NotUTF8", http.MethodPost, "/api/v1/bots", "{\"name\":\"\xff\"}", nil, http.StatusBadRequest},
		{"LoneSurrogate", http.MethodPost, "/api/v1/bots", `{"name":"\ud800"}`, nil, http.StatusBadRequest},
		{"NotJSON", http.MethodPost, "/api/v1/bots", `{"name":}`, nil, http.StatusBadRequest},
		{"AMemberTwice", http.MethodPost, "/api/v1/bots", `{"name":"a","name":"b"}`, nil, http.StatusBadRequest},
	}
	for _, c := range refused {
		t.Run(c.name+"IsRefused", func(t *testing.T) {
			t.Parallel()
			problemOf(t, s.serve(c.method, c.path, nil, c.body, c.header...), c.status)
		})
	}

	t.Run("ACompressedBodyIsAnsweredWithTheEncodingToUse", func(t *testing.T) {
		t.Parallel()
		rec := s.serve(http.MethodPost, "/api/v1/bots", nil, `{}`, "Content-Encoding", "gzip")
		require.Equal(t, "identity", rec.Header().Get("Accept-Encoding"))
	})

	t.Run("AReadableBodyReachesTheHandler", func(t *testing.T) {
		t.Parallel()
		const sent = `{"name": "<Bot>", "model": "gpt-4o"}`
		rec := s.serve(http.MethodPost, "/api/v1/bots", nil, sent)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, sent, rec.Body.String())
	})
}

// ---- refuseNulls

func TestRefuseNulls(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.readBody, ct.refuseNulls}
	})
	s.handle = func(c echo.Context) error { return c.JSON(http.StatusOK, matchOf(c).fields) }

	rec := s.serve(http.MethodPost, "/api/v1/bots", nil, `{"name":"A","model":"gpt-4o","temperature":null,"description":null}`)
	require.Equal(t, http.StatusOK, rec.Code)
	var fields []api.FieldError
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fields))
	require.Equal(t, []api.FieldError{{Location: api.Body, Field: "temperature", Message: "must not be null"}}, fields,
		"temperature has a default; description may be null")
}

// ---- validate

func TestValidate(t *testing.T) {
	t.Parallel()
	s := newStepServer(t, Limits{}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.checkQuery, ct.readBody, ct.refuseNulls, ct.validate}
	})
	s.handle = func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		require.NoError(t, err)
		return c.Blob(http.StatusOK, "application/json", body)
	}

	t.Run("EveryInvalidFieldIsListed", func(t *testing.T) {
		t.Parallel()
		p := problemOf(t, s.serve(http.MethodPost, "/api/v1/bots", nil, `{"name":5,"model":"no-such-model","temperature":9}`), http.StatusUnprocessableEntity)
		require.NotNil(t, p.Errors)
		var fields []string
		for _, f := range *p.Errors {
			fields = append(fields, f.Field)
		}
		require.ElementsMatch(t, []string{"name", "model", "temperature"}, fields)
	})

	t.Run("WhatTheMiddlewaresBeforeNotedComesFirstAndOnce", func(t *testing.T) {
		t.Parallel()
		p := problemOf(t, s.serve(http.MethodPost, "/api/v1/bots", nil, `{"name":"A","model":"gpt-4o","temperature":null,"is_public":"yes"}`), http.StatusUnprocessableEntity)
		require.Equal(t, []api.FieldError{
			{Location: api.Body, Field: "temperature", Message: "must not be null"},
			{Location: api.Body, Field: "is_public", Message: "must be a JSON boolean"},
		}, *p.Errors)
	})

	t.Run("AnUnreadableParameterAloneIsRefused", func(t *testing.T) {
		t.Parallel()
		p := problemOf(t, s.serve(http.MethodGet, "/api/v1/bots?limit=1&limit=1", nil, ""), http.StatusUnprocessableEntity)
		require.Len(t, *p.Errors, 1)
		require.Equal(t, "limit", (*p.Errors)[0].Field)
	})

	t.Run("AValidRequestReachesTheHandlerWithTheDefaults", func(t *testing.T) {
		t.Parallel()
		rec := s.serve(http.MethodPost, "/api/v1/bots", nil, `{"name":"A","model":"gpt-4o"}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var got map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		require.Equal(t, 0.7, got["temperature"])
	})
}

// ---- ensureUser

func TestEnsureUser(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := newStepServer(t, Limits{}, bots.NewService(pool, nil), all)
	exists := func(id uuid.UUID) bool {
		var n int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM users WHERE id = $1", id).Scan(&n))
		return n == 1
	}

	refused := newStepUser(t)
	problemOf(t, s.serve(http.MethodPost, "/api/v1/bots", &refused, `{"name":""}`), http.StatusUnprocessableEntity)
	require.False(t, exists(refused.id), "a refused request writes no user")

	passed := newStepUser(t)
	require.Equal(t, http.StatusNoContent, s.serve(http.MethodGet, "/api/v1/bots", &passed, "").Code)
	require.True(t, exists(passed.id), "a request that passed writes its user")
}
