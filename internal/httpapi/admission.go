package httpapi

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/internal/auth"
)

// The user's limits (limits.go, readlimit.go) and the request timeout, each a middleware of
// the contract. The limits apply to authenticated requests; a refused request has not read
// its body nor touched the database.

// limitWrites refuses a write past the user's write rate with 429 and Retry-After.
func (ct *contract) limitWrites(next echo.HandlerFunc) echo.HandlerFunc {
	securedWrite := func(op operation) bool { return op.secured && op.write }
	return onOperations(next, securedWrite, func(c echo.Context, _ *matched) error {
		ctx := c.Request().Context()
		if ok, wait := ct.writes.allow(auth.User(ctx), time.Now()); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			p := fail(ctx, kindRateLimited, "too many writes; retry in "+seconds(secs))
			p.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
			return p
		}
		return next(c)
	})
}

// limitReads waits for the user's turn (their lists and searches, their requests in
// progress), or refuses the request with 429 when the turn is too far off; see readLimiter.
// The turn is held until the request has ended.
func (ct *contract) limitReads(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, securedOperation, func(c echo.Context, m *matched) error {
		ctx := c.Request().Context()
		release, err := ct.reads.admit(ctx, auth.User(ctx), m.op)
		if err != nil {
			return err
		}
		defer release()
		return next(c)
	})
}

// timeout bounds every request by Limits.RequestTimeout, from the moment its body has been
// read (the server's read timeout bounds the upload), but status streams, which last as long
// as their client wants. A request still running at its deadline is answered 503
// /problems/timeout (see handleError).
func (ct *contract) timeout(next echo.HandlerFunc) echo.HandlerFunc {
	bounded := func(op operation) bool { return !op.streaming }
	return onOperations(next, bounded, func(c echo.Context, _ *matched) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), ct.limits.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	})
}
