package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// HEAD is served at the edge rather than declared in openapi.yaml: every GET route, the
// operations of the spec and the routes outside it alike, answers HEAD with the GET's status
// and headers and no body (RFC 9110 §9.3.2). Declaring a HEAD for each GET would double the
// operations of the generated server with handlers that could only repeat the GETs; here a
// HEAD runs the GET's own handler, after the GET's own authentication and validation (the
// contract maps HEAD to the GET's operation), so the two cannot drift apart.

// answerHeadLikeGet registers a HEAD route, with the same handler and middleware, for every
// GET route registered on e from now on. Call it before registering any route.
func answerHeadLikeGet(e *echo.Echo) {
	e.OnAddRouteHandler = func(_ string, r echo.Route, h echo.HandlerFunc, m []echo.MiddlewareFunc) {
		if r.Method == http.MethodGet {
			e.Add(http.MethodHead, r.Path, h, m...)
		}
	}
}

// dropHeadBody runs a HEAD request as the GET it mirrors and sends only the status and the
// headers: the body, problems included, is counted for Content-Length and dropped. A handler
// that flushes (a status stream) has its headers sent at once and its request ended, since
// nothing it could send afterwards belongs in a HEAD answer.
func dropHeadBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodHead {
			return next(c)
		}
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		res := c.Response()
		w := &headWriter{ResponseWriter: res.Writer, end: cancel}
		res.Writer = w
		defer func() { res.Writer = w.ResponseWriter }()
		if err := next(c); err != nil {
			// The error handler writes its problem through w, so the problem loses its body
			// and keeps its headers, as the GET's would.
			c.Error(err)
		}
		w.send(true)
		return nil
	}
}

// headWriter holds back the status of a HEAD answer until the body is complete, so that
// Content-Length can say how long the GET's body is, and drops the body.
type headWriter struct {
	http.ResponseWriter
	end    context.CancelFunc
	status int
	size   int
	sent   bool
}

func (w *headWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *headWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.size += len(p)
	return len(p), nil
}

// FlushError sends the headers, without Content-Length since the body is not complete, and
// ends the request. http.ResponseController and echo.Response use it.
func (w *headWriter) FlushError() error {
	w.send(false)
	w.end()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher.
func (w *headWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the connection's writer (write deadlines).
func (w *headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// send writes the status and headers once; complete says that the body was all written, so
// that its length is known.
func (w *headWriter) send(complete bool) {
	if w.sent || w.status == 0 {
		return
	}
	w.sent = true
	h := w.ResponseWriter.Header()
	if complete && h.Get("Content-Length") == "" && bodyAllowed(w.status) {
		h.Set("Content-Length", strconv.Itoa(w.size))
	}
	w.ResponseWriter.WriteHeader(w.status)
}

// bodyAllowed reports whether a response with status code has content (RFC 9110 §6.4.1).
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}
