// Package httpapi serves the bot API over HTTP: the operations of openapi.yaml through the
// generated strict-server interface, problem responses for every error, request logs,
// Prometheus metrics and the API's own documentation.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/statusfeed"
	"github.com/chatsphere/bots/internal/tracing"
	"github.com/chatsphere/bots/internal/webhook"
)

// Deps are what the server needs to run.
type Deps struct {
	Bots *bots.Service
	// Webhooks registers the callers' webhooks.
	Webhooks *webhook.Service
	Verifier *auth.Verifier
	Logger   *slog.Logger
	// Feed wakes status streams up on status changes.
	Feed *statusfeed.Feed
	// Heartbeat is how often an idle status stream sends a comment; 15s when zero.
	Heartbeat time.Duration
	// Limits are the request timeout and the per-user limits.
	Limits Limits
	// Stopping is closed when the server starts shutting down: open status streams end, so
	// that shutdown does not wait for clients that never leave.
	Stopping <-chan struct{}
	// CORSAllowedOrigins are the origins whose browser pages may call the API (CORS); "*"
	// is any. Empty: no CORS headers, and browsers keep other origins out.
	CORSAllowedOrigins []string
	// Tracing, when not nil, gives each request a span (see tracing.Tracing.Echo).
	Tracing *tracing.Tracing
	// Collectors are metrics of the rest of the service (the database pool, the bots by
	// status) that /metrics serves next to the request metrics.
	Collectors []prometheus.Collector
}

// server holds what the middleware and the error handler share.
type server struct {
	logger  *slog.Logger
	metrics *metrics
}

// NewServer returns the HTTP handler of the whole service.
func NewServer(d Deps) (http.Handler, error) {
	spec, err := api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load the embedded OpenAPI document: %w", err)
	}
	limits := d.Limits
	if err := limits.check(); err != nil {
		return nil, err
	}
	ct, err := newContract(spec, d.Verifier, d.Bots, limits)
	if err != nil {
		return nil, err
	}
	docs, err := newDocs(spec)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(d.Collectors)
	if err != nil {
		return nil, err
	}
	s := &server{logger: d.Logger, metrics: m}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Pre(normalizePath)
	if d.Tracing != nil {
		// Outside observe, so that the span ends with the status observe answered.
		e.Use(d.Tracing.Echo())
	}
	e.Use(s.observe)
	if len(d.CORSAllowedOrigins) > 0 {
		// Before the contract: a preflight carries no token and no body, and is answered here.
		e.Use(cors(d.CORSAllowedOrigins))
	}
	e.Use(dropHeadBody, joinListHeaders)
	e.Use(ct.pipeline()...)
	answerHeadLikeGet(e)
	heartbeat := d.Heartbeat
	if heartbeat <= 0 {
		heartbeat = 15 * time.Second
	}
	handler := &Handler{
		bots: d.Bots, webhooks: d.Webhooks, feed: d.Feed, heartbeat: heartbeat, stopping: d.Stopping, logger: d.Logger,
		streams: newStreamCounter(limits.StreamsPerUser),
	}
	api.RegisterHandlers(e, api.NewStrictHandler(handler, nil))
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	docs.register(e)
	return e, nil
}

// cors answers preflight requests for the API's routes and lets pages of the allowed origins
// read the API's answers, with the headers a client of the API needs: the ones it sends
// (authentication, conditional and idempotent requests, stream resumption) and the ones it
// reads (ETag, Location, Retry-After, Idempotent-Replayed, X-Request-Id, WWW-Authenticate). The methods a
// preflight allows are the route's own, from Echo's router; a preflight to a path without a
// route is no CORS request and is answered 404, instead of Echo's default list of methods,
// which names PATCH although no route takes it. Tokens travel in the Authorization header,
// never in cookies, so credentials are not allowed.
func cors(origins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper: func(c echo.Context) bool {
			noRoute := c.Request().Method == http.MethodOptions && c.Get(echo.ContextKeyHeaderAllow) == nil
			return !strings.HasPrefix(c.Request().URL.Path, "/api/") || noRoute
		},
		AllowOrigins: origins,
		AllowHeaders: []string{
			echo.HeaderAuthorization, echo.HeaderContentType, "If-Match", "If-None-Match",
			"Idempotency-Key", "Last-Event-ID", echo.HeaderXRequestID,
		},
		ExposeHeaders: []string{
			"ETag", echo.HeaderLocation, echo.HeaderRetryAfter, "Idempotent-Replayed", echo.HeaderXRequestID,
			echo.HeaderWWWAuthenticate,
		},
		MaxAge: int(corsMaxAge.Seconds()),
	})
}

// corsMaxAge is how long a browser may reuse a preflight's answer.
const corsMaxAge = time.Hour

// maxRequestIDLength bounds a client's X-Request-Id; a longer or non-printable one is
// replaced, so that logs stay readable.
const maxRequestIDLength = 128

// observe gives each request an id, answers every error it ends with, and logs and counts it.
func (s *server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		start := time.Now()
		req := c.Request()
		id := req.Header.Get(echo.HeaderXRequestID)
		if !printable(id) || len(id) > maxRequestIDLength {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.Response().Writer = &jsonWriter{ResponseWriter: c.Response().Writer, head: req.Method == http.MethodHead}
		// The service records the id with the events of the request's writes.
		ctx := bots.WithRequestID(withRequestInfo(req.Context(), requestInfo{id: id, path: req.URL.Path}), id)
		c.SetRequest(req.WithContext(ctx))

		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
				route = "unmatched"
			}
			status := c.Response().Status
			elapsed := time.Since(start)
			s.metrics.observe(req.Method, route, status, elapsed)
			s.logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", clip(req.Method, maxLoggedMethod)),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("user_id", userID(c)),
				slog.String("request_id", id),
			)
			err = nil
		}()
		return next(c)
	}
}

// userID is the authenticated user of the request, or "" for anonymous requests.
func userID(c echo.Context) string {
	if u := auth.User(c.Request().Context()); u != uuid.Nil {
		return u.String()
	}
	return ""
}

// maxLoggedMethod bounds the request method copied into a log line or a problem: net/http
// accepts any token as a method, as long as the request line fits in the header limit.
const maxLoggedMethod = 64

// clip shortens s to at most n bytes, cut on a character boundary and marked with "…", so
// that what a client sends cannot make a log line as long as its request.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// StatusClientClosedRequest is the status a request is logged and counted with when its
// client closed the connection before the answer (nginx's 499): no answer reaches anyone.
const StatusClientClosedRequest = 499

// errUnavailable marks a failure to reach the database.
var errUnavailable = errors.New("database unavailable")

// handleError answers every error that reaches Echo with a problem: problems raised by the
// middleware as they are, Echo's own errors (unknown path, other method) by their status,
// a request that ran out of its time and database outages as 503 (each its own problem
// type), and anything else as a 500 that is logged but not explained.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ctx := c.Request().Context()
	var pe *problemError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &pe):
	case errors.As(err, &he):
		pe = fromHTTPError(c, he)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		// The request ran out of its RequestTimeout: the database may be fine, only slow for
		// this request, or the request too costly.
		s.logger.LogAttrs(ctx, slog.LevelWarn, "request timed out",
			slog.String("error", err.Error()), slog.String("request_id", requestID(c)))
		pe = fail(ctx, kindTimeout, "the request took longer than the server allows and was stopped; retry later")
		pe.header = http.Header{"Retry-After": {"1"}}
	case errors.Is(err, context.Canceled) && ctx.Err() != nil && context.Cause(ctx) == context.Canceled:
		// net/http cancels the request of a connection the client closed, without a cause:
		// nobody reads the answer, and it is no server fault. Logged and counted as 499
		// (client closed request), so that the 5xx of the service do not count it.
		s.logger.LogAttrs(ctx, slog.LevelInfo, "request cancelled by the client", slog.String("request_id", requestID(c)))
		c.Response().WriteHeader(StatusClientClosedRequest)
		return
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// Cancelled with a cause: the process is stopping and SHUTDOWN_TIMEOUT ran out. The
		// request's transaction rolled back.
		s.logger.LogAttrs(ctx, slog.LevelWarn, "request cut by the stop", slog.String("request_id", requestID(c)))
		pe = fail(ctx, kindUnavailable, "the server is stopping; nothing was changed, retry later")
		pe.header = http.Header{"Retry-After": {"1"}}
	case unavailable(err):
		s.logger.LogAttrs(ctx, slog.LevelWarn, "database unavailable",
			slog.String("error", err.Error()), slog.String("request_id", requestID(c)))
		pe = fail(ctx, kindUnavailable, "the database cannot be reached right now; nothing was changed, retry later")
		pe.header = http.Header{"Retry-After": {"1"}}
	default:
		s.logger.LogAttrs(ctx, slog.LevelError, "unexpected error",
			slog.String("error", err.Error()), slog.String("request_id", requestID(c)))
		pe = fail(ctx, kindInternal, "an unexpected error occurred; nothing was changed. Quote the request id when reporting it")
	}
	for k, v := range pe.header {
		c.Response().Header()[k] = v
	}
	body := problemJSON(pe.problem)
	// A HEAD answer loses the body in dropHeadBody (or in net/http) and keeps the headers.
	_ = c.Blob(int(pe.problem.Status), "application/problem+json", body)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// fromHTTPError maps Echo's own errors, which carry only a status.
func fromHTTPError(c echo.Context, he *echo.HTTPError) *problemError {
	ctx := c.Request().Context()
	switch he.Code {
	case http.StatusNotFound:
		return fail(ctx, kindNotFound, "there is no resource at this path")
	case http.StatusMethodNotAllowed:
		return fail(ctx, kindMethodNotAllowed, fmt.Sprintf("this path does not support %s; see the Allow header", clip(c.Request().Method, maxLoggedMethod)))
	case http.StatusRequestEntityTooLarge:
		return fail(ctx, kindPayloadTooLarge, fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes))
	case http.StatusUnsupportedMediaType:
		return fail(ctx, kindUnsupportedMedia, "the request body must be application/json")
	case http.StatusRequestHeaderFieldsTooLarge:
		return fail(ctx, kindHeaderTooLarge, "the request headers are too large")
	}
	if he.Code >= 400 && he.Code < 500 {
		return fail(ctx, kindBadRequest, "the request cannot be read")
	}
	return fail(ctx, kindInternal, "an unexpected error occurred; quote the request id when reporting it")
}

// unavailable reports whether err means the database could not be reached, as opposed to a
// query that failed. A deadline that expired is no outage, although context.DeadlineExceeded
// is a net.Error and pgx calls a query cut short by it safe to retry.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.Is(err, errUnavailable), errors.As(err, &connectErr):
		return true
	case pgconn.SafeToRetry(err):
		// Nothing reached the server: a connection that broke earlier (the database went
		// away, or failed over) was closed before this query could use it ("conn closed").
		return true
	case errors.As(err, &pgErr):
		// Class 08 is connection exceptions; 57P01-57P03 are shutdowns and start-ups.
		return pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &netErr), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}
