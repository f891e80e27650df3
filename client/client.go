package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	gen "github.com/chatsphere/bots/gen/client"
)

// Client calls the bots API as one user. It is safe for concurrent use.
type Client struct {
	api            *gen.Client
	hc             *http.Client // the caller's (WithHTTPClient), or nil for the SDK's own
	attempts       int
	budget         time.Duration
	updateAttempts int
	notify         func(err error, wait time.Duration)
	answerTimeout  time.Duration // see AnswerTimeout
	silence        time.Duration // see StreamSilence
}

// Option configures a Client.
type Option func(*Client) error

// Defaults of the retry policy. While the service cannot be reached, a call that may retry
// keeps trying, with a backoff that grows to 5 seconds, until 30 seconds of waiting are spent:
// that covers a restart of the service or of its database without hanging a caller for
// minutes. An answer that asks for a retry (503, 429) is tried again, but at most 4 tries in
// all, so that a service that answers but is overloaded is not pressed further.
const (
	DefaultAttempts       = 4
	DefaultRetryBudget    = 30 * time.Second
	DefaultUpdateAttempts = 5
)

// AnswerTimeout is how long the SDK's own HTTP client waits for the headers of an answer
// before it counts the try as one that could not reach the service, and retries it within
// the retry policy, as it does a refused connection: a service that accepts connections but
// never answers (stopped, or stuck) would otherwise hang a call for ever. The service answers
// every request but a status stream within its REQUEST_TIMEOUT (10 seconds by default) of
// having read its body, with a 503 /problems/timeout at the latest, and a status stream's
// headers at once; 20 seconds leaves room for a slow network and a longer REQUEST_TIMEOUT,
// and is short enough that a call to a stopped service is tried again (and a person told
// why it waits, see WithRetryNotify) before the default budget of 30 seconds is spent. A
// client given WithHTTPClient keeps the timeouts of its own.
const AnswerTimeout = 20 * time.Second

// StreamSilence is how long a status stream may deliver nothing, neither an event nor a
// heartbeat, before WatchStatus takes it for lost and resumes it as it does a dropped
// connection: the service sends a heartbeat every 15 seconds on an idle stream, so two
// missed heartbeats and a margin for a slow network mean that the service, or the way to it,
// is gone, even though no connection was closed.
const StreamSilence = 2*15*time.Second + 5*time.Second

// WithHTTPClient sends the requests through hc, for its timeouts, transport or proxy. Its
// timeouts replace the SDK's AnswerTimeout: a Transport with a ResponseHeaderTimeout keeps a
// service that never answers from hanging a call.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("client: nil *http.Client")
		}
		c.hc = hc
		return nil
	}
}

// WithRetry bounds the retries of reads, creates and duplicates. Every wait between tries
// counts against budget, and so does the time a try that got no answer waited for one (up to
// AnswerTimeout for a service that accepts connections but never answers), so that a call to
// a stopped service ends about when the budget does. A connection error (the service cannot be reached, or its answer or
// status stream broke off) is retried for as long as budget allows, however many tries that
// takes, the last wait cut to what is left of it; an answer that asks for a retry (503, 429,
// an Idempotency-Key still in use) is retried until the service has answered attempts times.
// A Retry-After longer than what is left of the budget ends the retries at once with the
// answer's *Problem. An attempts of 1 turns every retry off.
func WithRetry(attempts int, budget time.Duration) Option {
	return func(c *Client) error {
		if attempts < 1 || budget < 0 {
			return fmt.Errorf("client: retry needs at least one attempt and a budget of 0 or more, not %d and %s", attempts, budget)
		}
		c.attempts, c.budget = attempts, budget
		return nil
	}
}

// WithRetryNotify has fn called before each wait between two tries of a call or of a status
// stream's reconnects, with what ended the try (a connection error, or the *Problem of an
// answer that asked for a retry) and the wait, so that a program can tell a person why it
// waits: while the service is away, that may be the whole retry budget.
func WithRetryNotify(fn func(err error, wait time.Duration)) Option {
	return func(c *Client) error {
		c.notify = fn
		return nil
	}
}

// WithUpdateAttempts bounds how many times Update reads, applies its function and writes
// when the bot keeps changing under it (412); after that Update returns the 412 *Problem.
func WithUpdateAttempts(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("client: update needs at least one attempt, not %d", n)
		}
		c.updateAttempts = n
		return nil
	}
}

// New returns a Client for the API at baseURL (for example "http://localhost:8080") that
// sends token as its bearer token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q is not an http(s) URL", baseURL)
	}
	auth := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	c := &Client{attempts: DefaultAttempts, budget: DefaultRetryBudget, updateAttempts: DefaultUpdateAttempts,
		answerTimeout: AnswerTimeout, silence: StreamSilence}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	hc := c.hc
	if hc == nil {
		// A clone of the default transport keeps its proxy, dial and TLS settings; only the
		// wait for an answer is bounded, not the answer itself, so a status stream lives on.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = c.answerTimeout
		hc = &http.Client{Transport: t}
	}
	api, err := gen.NewClient(baseURL, gen.WithRequestEditorFn(auth), gen.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c.api = api
	return c, nil
}

// reply is an answer read in full. The SDK reads answers itself rather than through the
// generated parsers, which fail the whole call on a body or a Retry-After they do not
// expect (a proxy's 503 page, an HTTP-date), where the SDK needs a Problem or a retry.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds the body read of one answer; a page of 100 bots is a few hundred KiB.
const maxBody = 16 << 20

// call is one request through the generated client.
type call func(ctx context.Context) (*http.Response, error)

// retryTransport says whether send retries connection errors too. They are safe to retry
// for reads and for writes that carry an Idempotency-Key; not for a conditional update,
// whose replay would answer 412 and run the caller's function a second time.
type retryTransport bool

// send runs fn, retrying what the server said is safe to retry (503, 429, an idempotency key
// still in use) and, when transport allows it, connection errors, within the Client's retry
// policy (see retries). It returns the last answer, whatever its status.
func (c *Client) send(ctx context.Context, transport retryTransport, fn call) (reply, error) {
	var spent retries
	for {
		began := time.Now()
		r, err := roundTrip(ctx, fn)
		if ctx.Err() != nil {
			return reply{}, ctx.Err()
		}
		wait, retry := c.next(&spent, r, err, bool(transport), time.Since(began))
		if !retry {
			return r, unreachable(err)
		}
		if err := pause(ctx, wait); err != nil {
			return reply{}, err
		}
	}
}

// retries is what one call (or one stretch of a status stream without progress) has spent of
// the Client's retry policy.
type retries struct {
	tries    int // every try so far: the backoff grows with it
	answered int // the tries the service answered
	waited   time.Duration
}

// next counts a try that ended with r or err after took and says how long to wait before the
// next one, or false when there is none. A connection error is retried until the budget is
// spent, took included (the try waited for an answer that never came): the service is away,
// and trying again costs it nothing. An answer is retried while fewer than
// c.attempts tries were answered and its wait fits what is left of the budget.
func (c *Client) next(spent *retries, r reply, err error, transport bool, took time.Duration) (time.Duration, bool) {
	spent.tries++
	wait, retry := retryWait(r, err, spent.tries, transport)
	if err != nil {
		spent.waited += took
	}
	left := c.budget - spent.waited
	switch {
	case !retry || c.attempts == 1:
		return 0, false
	case err != nil:
		if left <= 0 {
			return 0, false
		}
		wait = min(wait, left)
	default:
		spent.answered++
		if spent.answered >= c.attempts || wait > left {
			return 0, false
		}
	}
	spent.waited += wait
	if c.notify != nil {
		if err == nil {
			err = problemOf(r)
		}
		c.notify(err, wait)
	}
	return wait, true
}

// ErrUnreachable is matched (errors.Is) by the error of a call that got no whole answer from
// the service: it could not be reached, or its answer or status stream broke off, on every try
// the retry policy allowed. The error also matches what went wrong (a *url.Error, say). For a
// write that is not retried (Update, Delete, Train, ...) it is unknown whether the write took
// effect; for a watch, how the bot went on.
var ErrUnreachable = errors.New("bots api: the service cannot be reached")

// unreachableError is a connection error marked as ErrUnreachable; it reads as the error.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }

func (e *unreachableError) Unwrap() []error { return []error{e.err, ErrUnreachable} }

// unreachable marks err as ErrUnreachable when it is a connection error, and returns any other
// error (or nil) as it is.
func unreachable(err error) error {
	if !isConnectionError(err) {
		return err
	}
	return &unreachableError{err}
}

// pause waits d, or until ctx ends, when it returns ctx.Err().
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func roundTrip(ctx context.Context, fn call) (reply, error) {
	res, err := fn(ctx)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return reply{}, &cutAnswerError{err: err}
	}
	return reply{status: res.StatusCode, header: res.Header, body: body}, nil
}

// cutAnswerError is an answer whose body broke off (the connection closed before its
// Content-Length, say). Its request may have taken effect, as after any connection error, so
// send retries it as one: with the same Idempotency-Key, which replays the first answer.
type cutAnswerError struct{ err error }

func (e *cutAnswerError) Error() string { return "read answer: " + e.err.Error() }

func (e *cutAnswerError) Unwrap() error { return e.err }

// retryWait says whether an attempt's outcome is worth another try, and after how long.
func retryWait(r reply, err error, attempt int, transport bool) (time.Duration, bool) {
	if err != nil {
		return backoff(attempt), transport && isConnectionError(err)
	}
	switch r.status {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		s, err := strconv.Atoi(r.header.Get("Retry-After"))
		if errors.Is(err, strconv.ErrRange) && s > 0 {
			err = nil // more seconds than an int holds: Atoi gave the most it holds
		}
		if err == nil && s >= 0 {
			// Clamped, since time.Duration would overflow into a negative wait past
			// about 292 years; any such wait is beyond every budget, which ends the retries.
			return time.Duration(min(int64(s), int64(maxWait/time.Second))) * time.Second, true
		}
		return backoff(attempt), true
	case http.StatusConflict:
		// The first request with this key is still running: its answer will be replayed.
		return backoff(attempt), problemOf(r).Type == "/problems/idempotency-key-in-use"
	}
	return 0, false
}

// isConnectionError says whether err is a try that got no whole answer: the request failed
// (a *url.Error), or its answer or status stream broke off.
func isConnectionError(err error) bool {
	var ue *url.Error
	var cut *cutAnswerError
	var dropped *droppedError
	return errors.As(err, &ue) || errors.As(err, &cut) || errors.As(err, &dropped)
}

// maxWait is the longest wait time.Duration holds.
const maxWait = time.Duration(math.MaxInt64)

// backoff grows exponentially from 100ms to 5s, with jitter so that clients that failed
// together do not retry together.
func backoff(attempt int) time.Duration {
	d := 5 * time.Second
	if attempt <= 6 { // beyond, the shift would pass the cap (and overflow in the end)
		d = min(100*time.Millisecond<<(attempt-1), d)
	}
	return d/2 + rand.N(d/2+1)
}
