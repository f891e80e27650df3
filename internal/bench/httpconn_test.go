package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// connWaitLimit bounds every call a test makes, so that a call that hangs fails the test with
// a message instead of stalling the run. It is a safety net, not an assertion on speed.
const connWaitLimit = 30 * time.Second

// seenRequest is what the test server received.
type seenRequest struct {
	Method, RequestURI, Host string
	Header                   http.Header
	ContentLength            int64
	Body                     []byte
}

// connEnv is an httptest server on loopback that records the requests it gets and the
// connections it accepts, and an httpConn to it.
type connEnv struct {
	srv  *httptest.Server
	conn *httpConn

	mu       sync.Mutex
	requests []seenRequest
	accepted int
}

// setupConn starts a server answering with handler (after recording the request) and an
// httpConn to it, both closed when t ends.
func setupConn(t *testing.T, handler http.HandlerFunc) *connEnv {
	t.Helper()
	e := &connEnv{}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.requests = append(e.requests, seenRequest{
			Method: r.Method, RequestURI: r.RequestURI, Host: r.Host,
			Header: r.Header.Clone(), ContentLength: r.ContentLength, Body: body,
		})
		e.mu.Unlock()
		handler(w, r)
	}))
	e.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			e.mu.Lock()
			e.accepted++
			e.mu.Unlock()
		}
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.conn = newHTTPConn(e.srv.URL)
	t.Cleanup(e.conn.close) // before the server closes: it waits for its connections' requests
	return e
}

// connections returns how many connections the server has accepted.
func (e *connEnv) connections() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.accepted
}

// lastRequest returns the last request the server received.
func (e *connEnv) lastRequest(t *testing.T) seenRequest {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	require.NotEmpty(t, e.requests, "the server received no request")
	return e.requests[len(e.requests)-1]
}

type callResult struct {
	etag string
	err  error
}

// call makes one call with ctx and fails the test if it has not returned by connWaitLimit.
func (e *connEnv) call(t *testing.T, ctx context.Context, method, path, token string, body any, header map[string]string, want int) (string, error) {
	t.Helper()
	done := make(chan callResult, 1)
	go func() {
		etag, err := e.conn.call(ctx, method, path, token, body, header, want)
		done <- callResult{etag, err}
	}()
	select {
	case r := <-done:
		return r.etag, r.err
	case <-time.After(connWaitLimit):
		t.Fatalf("%s %s did not return within %s", method, path, connWaitLimit)
		return "", nil
	}
}

// answer is a handler that answers status with an ETag of etag (none if empty) and a small
// JSON body.
func answer(status int, etag string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"answer":`+strconv.Itoa(status)+`}`)
	}
}

func TestHTTPConn(t *testing.T) {
	t.Parallel()

	t.Run("AGetWithTheExpectedStatusReturnsTheETag", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, `"7"`))
		etag, err := e.call(t, t.Context(), http.MethodGet, "/api/v1/bots/abc", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err)
		require.Equal(t, `"7"`, etag)
	})

	t.Run("AnAnswerWithoutETagReturnsAnEmptyOne", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, ""))
		etag, err := e.call(t, t.Context(), http.MethodGet, "/api/v1/bots", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err)
		require.Empty(t, etag)
	})

	t.Run("AGetCarriesTheBearerTokenAndNoBody", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, ""))
		_, err := e.call(t, t.Context(), http.MethodGet, "/api/v1/bots?limit=20&q=support", "tok-123", nil, nil, http.StatusOK)
		require.NoError(t, err)
		r := e.lastRequest(t)
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/api/v1/bots?limit=20&q=support", r.RequestURI)
		require.Equal(t, e.srv.Listener.Addr().String(), r.Host)
		require.Equal(t, "Bearer tok-123", r.Header.Get("Authorization"))
		require.Empty(t, r.Header.Get("Content-Type"))
		require.Zero(t, r.ContentLength)
		require.Empty(t, r.Body)
	})

	t.Run("ABodyIsSentAsJSONWithItsLength", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusCreated, `"1"`))
		body := map[string]any{"name": "bench 1-2-3", "model": "gpt-4o-mini", "description": "made by the benchmark ünïcode"}
		etag, err := e.call(t, t.Context(), http.MethodPost, "/api/v1/bots", "tok-456", body, nil, http.StatusCreated)
		require.NoError(t, err)
		require.Equal(t, `"1"`, etag)
		r := e.lastRequest(t)
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/api/v1/bots", r.RequestURI)
		require.Equal(t, "Bearer tok-456", r.Header.Get("Authorization"))
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		want, err := json.Marshal(body)
		require.NoError(t, err)
		require.Equal(t, int64(len(want)), r.ContentLength)
		require.JSONEq(t, string(want), string(r.Body))
	})

	t.Run("ExtraHeadersAreSent", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, `"8"`))
		_, err := e.call(t, t.Context(), http.MethodPut, "/api/v1/bots/abc", "tok", map[string]any{"temperature": 0.5},
			map[string]string{"If-Match": `"7"`, "X-Request-Id": "r-1"}, http.StatusOK)
		require.NoError(t, err)
		r := e.lastRequest(t)
		require.Equal(t, http.MethodPut, r.Method)
		require.Equal(t, `"7"`, r.Header.Get("If-Match"))
		require.Equal(t, "r-1", r.Header.Get("X-Request-Id"))
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	})

	t.Run("CallsShareOneKeepAliveConnection", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, ""))
		for i := range 5 {
			_, err := e.call(t, t.Context(), http.MethodPost, "/api/v1/bots", "tok", map[string]any{"i": i}, nil, http.StatusOK)
			require.NoError(t, err)
		}
		require.Equal(t, 1, e.connections())
	})

	t.Run("AnUnexpectedStatusIsAnErrorThatKeepsTheConnection", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/stale" {
				answer(http.StatusPreconditionFailed, "")(w, r)
				return
			}
			answer(http.StatusOK, `"2"`)(w, r)
		})
		_, err := e.call(t, t.Context(), http.MethodPut, "/stale", "tok", map[string]any{"a": 1}, nil, http.StatusOK)
		require.ErrorContains(t, err, "412")
		require.ErrorContains(t, err, "PUT /stale")

		etag, err := e.call(t, t.Context(), http.MethodGet, "/fresh", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err)
		require.Equal(t, `"2"`, etag)
		require.Equal(t, 1, e.connections(), "the error answer's body was read, so the connection stays usable")
	})

	t.Run("AnAnswerThatClosesTheConnectionIsFollowedByANewOne", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/bye" {
				w.Header().Set("Connection", "close")
			}
			answer(http.StatusOK, `"3"`)(w, r)
		})
		// Whether call counts this complete answer as a success is not this test's concern.
		_, _ = e.call(t, t.Context(), http.MethodGet, "/bye", "tok", nil, nil, http.StatusOK)
		require.Equal(t, 1, e.connections())

		etag, err := e.call(t, t.Context(), http.MethodGet, "/again", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err)
		require.Equal(t, `"3"`, etag)
		require.Equal(t, 2, e.connections())
	})

	t.Run("AConnectionTheServerDroppedIsReplaced", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, `"4"`))
		_, err := e.call(t, t.Context(), http.MethodGet, "/one", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err)
		e.srv.CloseClientConnections()

		// call does not retry: the call that finds the idle connection dead fails, and the
		// one after it reconnects.
		_, err = e.call(t, t.Context(), http.MethodGet, "/two", "tok", nil, nil, http.StatusOK)
		if err != nil {
			_, err = e.call(t, t.Context(), http.MethodGet, "/three", "tok", nil, nil, http.StatusOK)
		}
		require.NoError(t, err)
		require.Equal(t, 2, e.connections())
	})

	t.Run("ACallWhoseDeadlineHasPassedFails", func(t *testing.T) {
		t.Parallel()
		e := setupConn(t, answer(http.StatusOK, ""))
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := e.call(t, ctx, http.MethodGet, "/late", "tok", nil, nil, http.StatusOK)
		var netErr net.Error
		require.ErrorAs(t, err, &netErr)
		require.True(t, netErr.Timeout(), "a passed deadline is a timeout: %v", err)

		_, err = e.call(t, t.Context(), http.MethodGet, "/on-time", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err, "the next call, with time left, reconnects")
	})

	t.Run("ADeadlineEndsACallWaitingForASlowServer", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		e := setupConn(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			answer(http.StatusOK, "")(w, r)
		})
		t.Cleanup(func() { close(release) }) // runs first: the server's Close waits for the handler
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := e.call(t, ctx, http.MethodGet, "/slow", "tok", nil, nil, http.StatusOK)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout(), "want a timeout, got %v", err)

		_, err = e.call(t, t.Context(), http.MethodGet, "/fast", "tok", nil, nil, http.StatusOK)
		require.NoError(t, err, "the next call, with time left, reconnects")
		require.Equal(t, 2, e.connections())
	})
}
