package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

// proxy stands between the SDK and the real server and lets a test decide, request by
// request, whether to forward it or answer in the server's place. It records what it saw.
type proxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request // every request that reached the proxy, in order
}

// rule decides about the n-th request (from 1) of the proxy's method: it either answers w
// itself and returns true, or returns false to have the request forwarded. forward lets it
// pass the request on and still answer something else.
type rule func(n int, w http.ResponseWriter, r *http.Request, forward http.Handler) bool

func newProxy(t *testing.T, target string, method string, handle rule) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	fwd := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Clone(context.Background()))
		n := len(p.requests(method))
		p.mu.Unlock()
		if r.Method != method || !handle(n, w, r, fwd) {
			fwd.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// requests are the requests seen with method; the caller holds mu.
func (p *proxy) requests(method string) []*http.Request {
	var out []*http.Request
	for _, r := range p.seen {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// keys are the Idempotency-Keys of the POSTs the proxy saw.
func (p *proxy) keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var keys []string
	for _, r := range p.requests(http.MethodPost) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
	}
	return keys
}

func unavailable(retryAfter string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", retryAfter)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("upstream is restarting"))
	}
}

// firstAnsweredBy is a rule that forwards the first request to the server, keeps the server's
// answer in *first, and answers the client with answer(w, *first) instead; later requests
// pass.
func firstAnsweredBy(first **httptest.ResponseRecorder, answer func(http.ResponseWriter, *httptest.ResponseRecorder)) rule {
	return func(n int, w http.ResponseWriter, r *http.Request, fwd http.Handler) bool {
		if n != 1 {
			return false
		}
		*first = httptest.NewRecorder()
		fwd.ServeHTTP(*first, r)
		answer(w, *first)
		return true
	}
}

// cutAnswer sends the status and headers of answer, with its Content-Length, but only the first
// bytes of its body, then closes the connection.
func cutAnswer(w http.ResponseWriter, answer *httptest.ResponseRecorder) {
	for k, v := range answer.Header() {
		w.Header()[k] = v
	}
	body := answer.Body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(answer.Code)
	_, _ = w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// alwaysUnavailable is a rule that answers every request 503 with retryAfter.
func alwaysUnavailable(retryAfter string) rule {
	return func(_ int, w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
		unavailable(retryAfter)(w)
		return true
	}
}

// countBots counts the bots of c's user on the real server.
func countBots(t *testing.T, c *client.Client) int {
	n := 0
	for _, err := range c.All(ctx(t), client.ListOptions{}) {
		require.NoError(t, err)
		n++
	}
	return n
}

func TestRetries(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	params := client.CreateParams{Name: "Retried", Model: "gpt-4o-mini"}

	// setup returns a client for a new user that goes through a proxy with handle, and one
	// for the same user that goes to the server directly, to look at the outcome.
	setup := func(t *testing.T, method string, handle rule, opts ...client.Option) (via, direct *client.Client, p *proxy) {
		p = newProxy(t, srv.URL, method, handle)
		tok := token(t)
		via, err := client.New(p.URL, tok, opts...)
		require.NoError(t, err)
		direct, err = client.New(srv.URL, tok)
		require.NoError(t, err)
		return via, direct, p
	}

	t.Run("A503ThenSuccessCreatesOneBotWithTheSameKey", func(t *testing.T) {
		t.Parallel()
		via, direct, p := setup(t, http.MethodPost, func(n int, w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
			if n == 1 {
				unavailable("0")(w)
				return true
			}
			return false
		})
		bot, err := via.Create(ctx(t), params)
		require.NoError(t, err)
		keys := p.keys()
		require.Len(t, keys, 2)
		require.NotEmpty(t, keys[0])
		require.Equal(t, keys[0], keys[1])
		require.Equal(t, 1, countBots(t, direct))
		_, err = direct.Get(ctx(t), bot.ID)
		require.NoError(t, err)
	})

	t.Run("ALostAnswerIsReplayedNotRepeated", func(t *testing.T) {
		t.Parallel()
		// The server makes the bot, but its answer never reaches the client.
		var first *httptest.ResponseRecorder
		via, direct, p := setup(t, http.MethodPost, firstAnsweredBy(&first, func(w http.ResponseWriter, _ *httptest.ResponseRecorder) {
			unavailable("0")(w)
		}))
		bot, err := via.Create(ctx(t), params)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, first.Code)
		require.Len(t, p.keys(), 2)
		require.Equal(t, 1, countBots(t, direct))
		require.Contains(t, first.Body.String(), bot.ID.String())
	})

	t.Run("AConnectionErrorIsRetried", func(t *testing.T) {
		t.Parallel()
		via, direct, p := setup(t, http.MethodPost, func(n int, _ http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
			if n == 1 {
				panic(http.ErrAbortHandler) // closes the connection without an answer
			}
			return false
		})
		_, err := via.Create(ctx(t), params)
		require.NoError(t, err)
		keys := p.keys()
		require.GreaterOrEqual(t, len(keys), 2)
		for _, k := range keys {
			require.Equal(t, keys[0], k)
		}
		require.Equal(t, 1, countBots(t, direct))
	})

	t.Run("AnAnswerCutOffMidBodyIsRetriedWithTheSameKey", func(t *testing.T) {
		t.Parallel()
		// The server makes the bot; its answer breaks off halfway.
		var first *httptest.ResponseRecorder
		via, direct, p := setup(t, http.MethodPost, firstAnsweredBy(&first, cutAnswer))
		bot, err := via.Create(ctx(t), params)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, first.Code)
		keys := p.keys()
		require.Len(t, keys, 2)
		require.Equal(t, keys[0], keys[1])
		require.Equal(t, 1, countBots(t, direct))
		require.Contains(t, first.Body.String(), bot.ID.String(), "the retry got the first answer, replayed")
	})

	t.Run("AnUpdateCutOffMidBodyIsNotRetried", func(t *testing.T) {
		t.Parallel()
		var first *httptest.ResponseRecorder
		via, direct, p := setup(t, http.MethodPut, firstAnsweredBy(&first, cutAnswer))
		bot, err := direct.Create(ctx(t), params)
		require.NoError(t, err)
		_, err = via.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Temperature = 0.2; return nil })
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		p.mu.Lock()
		defer p.mu.Unlock()
		require.Len(t, p.requests(http.MethodPut), 1, "a conditional write is never sent twice")
	})

	t.Run("AttemptsAreBoundedAndTheLastAnswerIsAProblem", func(t *testing.T) {
		t.Parallel()
		via, direct, p := setup(t, http.MethodPost, alwaysUnavailable("0"), client.WithRetry(3, time.Minute))
		_, err := via.Create(ctx(t), params)
		var prob *client.Problem
		require.ErrorAs(t, err, &prob)
		require.Equal(t, http.StatusServiceUnavailable, prob.Status)
		require.Equal(t, "about:blank", prob.Type)
		require.Equal(t, "Service Unavailable", prob.Title)
		require.Equal(t, "upstream is restarting", prob.Detail)
		require.Len(t, p.keys(), 3)
		require.Equal(t, 0, countBots(t, direct))
	})

	t.Run("ARetryAfterBeyondTheBudgetIsNotWaitedFor", func(t *testing.T) {
		t.Parallel()
		via, _, p := setup(t, http.MethodPost, alwaysUnavailable("3600"))
		_, err := via.Create(ctx(t), params)
		var prob *client.Problem
		require.ErrorAs(t, err, &prob)
		require.Equal(t, http.StatusServiceUnavailable, prob.Status)
		require.Len(t, p.keys(), 1)
	})

	t.Run("ARetryAfterTooLongForADurationIsNotWaitedForEither", func(t *testing.T) {
		t.Parallel()
		// 9300000000 seconds overflows time.Duration; the last does not fit an int64.
		for _, retryAfter := range []string{"9300000000", "99999999999999999999999"} {
			via, _, p := setup(t, http.MethodPost, alwaysUnavailable(retryAfter))
			_, err := via.Create(ctx(t), params)
			var prob *client.Problem
			require.ErrorAs(t, err, &prob)
			require.Equal(t, http.StatusServiceUnavailable, prob.Status)
			require.Len(t, p.keys(), 1, "Retry-After: %s", retryAfter)
		}
	})

	t.Run("ACancelledContextStopsTheRetries", func(t *testing.T) {
		t.Parallel()
		c, cancel := context.WithCancel(ctx(t))
		via, _, p := setup(t, http.MethodPost, func(_ int, w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
			cancel()
			unavailable("1")(w)
			return true
		})
		_, err := via.Create(c, params)
		require.ErrorIs(t, err, context.Canceled)
		require.Len(t, p.keys(), 1)
	})

	t.Run("ConnectionErrorsAreRetriedBeyondTheAttemptsWithinTheBudget", func(t *testing.T) {
		t.Parallel()
		// Two attempts, but the service is away for three tries: a restart, not a refusal.
		var notices []error
		via, direct, p := setup(t, http.MethodGet, func(n int, _ http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
			if n <= 3 {
				panic(http.ErrAbortHandler) // closes the connection without an answer
			}
			return false
		}, client.WithRetry(2, time.Minute), client.WithRetryNotify(func(err error, _ time.Duration) { notices = append(notices, err) }))
		bot, err := direct.Create(ctx(t), params)
		require.NoError(t, err)
		got, err := via.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, bot.ID, got.ID)
		p.mu.Lock()
		defer p.mu.Unlock()
		require.Len(t, p.requests(http.MethodGet), 4)
		require.Len(t, notices, 3, "one notice before each wait")
		for _, err := range notices {
			var ue *url.Error
			require.ErrorAs(t, err, &ue)
		}
	})

	t.Run("AServiceAwayForTheWholeBudgetIsErrUnreachable", func(t *testing.T) {
		t.Parallel()
		// The first backoffs wait at most 100ms and 200ms, so a budget of 300ms allows a
		// third try, past the two attempts, and then ends.
		via, _, p := setup(t, http.MethodGet, func(int, http.ResponseWriter, *http.Request, http.Handler) bool {
			panic(http.ErrAbortHandler)
		}, client.WithRetry(2, 300*time.Millisecond))
		_, err := via.Get(ctx(t), uuid.New())
		require.ErrorIs(t, err, client.ErrUnreachable)
		var ue *url.Error
		require.ErrorAs(t, err, &ue, "the error still says what went wrong")
		p.mu.Lock()
		defer p.mu.Unlock()
		require.Greater(t, len(p.requests(http.MethodGet)), 2)
	})

	t.Run("AnswersAreNeverErrUnreachable", func(t *testing.T) {
		t.Parallel()
		var notices []error
		via, _, _ := setup(t, http.MethodGet, alwaysUnavailable("0"),
			client.WithRetryNotify(func(err error, _ time.Duration) { notices = append(notices, err) }))
		_, err := via.Get(ctx(t), uuid.New())
		var prob *client.Problem
		require.ErrorAs(t, err, &prob)
		require.NotErrorIs(t, err, client.ErrUnreachable)
		require.Len(t, notices, client.DefaultAttempts-1, "one notice before each wait")
		for _, err := range notices {
			require.ErrorAs(t, err, &prob)
			require.Equal(t, http.StatusServiceUnavailable, prob.Status)
		}
	})

	t.Run("AReadIsRetriedAfterA429OrACutAnswer", func(t *testing.T) {
		t.Parallel()
		var first *httptest.ResponseRecorder
		for name, handle := range map[string]rule{
			"429": func(n int, w http.ResponseWriter, _ *http.Request, _ http.Handler) bool {
				if n == 1 {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusTooManyRequests)
					return true
				}
				return false
			},
			"cut": firstAnsweredBy(&first, cutAnswer),
		} {
			via, direct, p := setup(t, http.MethodGet, handle)
			bot, err := direct.Create(ctx(t), params)
			require.NoError(t, err)
			got, err := via.Get(ctx(t), bot.ID)
			require.NoError(t, err, name)
			require.Equal(t, bot.ETag, got.ETag, name)
			p.mu.Lock()
			require.Len(t, p.requests(http.MethodGet), 2, name)
			p.mu.Unlock()
		}
	})
}
