package tracing

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// requestIDKey is the attribute of a request's id, the one its answer's X-Request-Id and the
// logs carry, so that a trace and a log line are found from each other.
const requestIDKey = attribute.Key("http.request.id")

// Echo returns the middleware that gives each request a server span named by its method and
// route, as a child of the caller's span when the request carries a traceparent. The span
// records the route, the status and the request id; not the user, nor the query or body.
// Install it before the middleware that answers errors, so that the status is final when
// the span ends. With tracing off it is a middleware that does nothing.
func (t *Tracing) Echo() echo.MiddlewareFunc {
	if t == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	tracer := t.tracer()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := t.propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			ctx, span := tracer.Start(ctx, req.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(semconv.HTTPRequestMethodKey.String(req.Method), semconv.HTTPRoute(route)))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status),
				requestIDKey.String(c.Response().Header().Get(echo.HeaderXRequestID)))
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return err
		}
	}
}
