package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

// A query on a connection that broke before it (the database restarted or failed over) is a
// 503 the client may retry, not a 500: nothing of it reached the database.
func TestAQueryOnABrokenConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	conn, err := pgx.Connect(context.Background(), dbtest.URL(t))
	require.NoError(t, err)
	require.NoError(t, conn.Close(context.Background()))
	_, err = conn.Exec(context.Background(), "SELECT 1")
	require.Error(t, err)
	require.True(t, unavailable(err), "%v", err)
	require.False(t, unavailable(errors.New("some bug")))
	require.False(t, unavailable(fmt.Errorf("get bot: %w", context.DeadlineExceeded)), "a deadline that expired is no outage")
}

// A request still running at its deadline is answered 503 /problems/timeout and logged as
// such, not as a database outage: the query it was running failed for want of time, on a
// database that is fine.
func TestARequestPastItsDeadlineTimesOut(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := newStepServer(t, Limits{RequestTimeout: time.Nanosecond}, nil, func(ct *contract) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{ct.timeout}
	})
	var logs bytes.Buffer
	s.e.HTTPErrorHandler = (&server{logger: slog.New(slog.NewTextHandler(&logs, nil))}).handleError
	s.handle = func(c echo.Context) error {
		ctx := c.Request().Context()
		<-ctx.Done()
		_, err := pool.Exec(ctx, "SELECT 1")
		return fmt.Errorf("get bot: %w", err)
	}
	rec := s.serve(http.MethodGet, somePath, nil, "")
	p := problemOf(t, rec, http.StatusServiceUnavailable)
	require.Equal(t, "/problems/timeout", p.Type)
	require.Equal(t, "the request took longer than the server allows and was stopped; retry later", p.Detail)
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	require.Contains(t, logs.String(), `msg="request timed out"`)
	require.NotContains(t, logs.String(), "database unavailable")
}

// A request whose client went away is logged and counted as 499, not as a 5xx of the service;
// one the stopping process cut (its context cancelled with a cause) is a 503 that says so.
func TestACancelledRequestIsTheClientsOrTheStops(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	for _, c := range []struct {
		name   string
		cancel func(context.CancelCauseFunc)
		status int
		logged string
	}{
		{"TheClientWentAway", func(cancel context.CancelCauseFunc) { cancel(nil) }, StatusClientClosedRequest, `msg="request cancelled by the client"`},
		{"TheProcessIsStopping", func(cancel context.CancelCauseFunc) { cancel(errors.New("the server is stopping")) }, http.StatusServiceUnavailable, `msg="request cut by the stop"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newStepServer(t, Limits{RequestTimeout: time.Hour}, nil, func(*contract) []echo.MiddlewareFunc { return nil })
			var logs bytes.Buffer
			s.e.HTTPErrorHandler = (&server{logger: slog.New(slog.NewTextHandler(&logs, nil))}).handleError
			s.handle = func(e echo.Context) error {
				ctx, cancel := context.WithCancelCause(e.Request().Context())
				e.SetRequest(e.Request().WithContext(ctx))
				c.cancel(cancel)
				_, err := pool.Exec(ctx, "SELECT 1")
				return fmt.Errorf("get bot: %w", err)
			}
			rec := s.serve(http.MethodGet, somePath, nil, "")
			require.Equal(t, c.status, rec.Code)
			require.Contains(t, logs.String(), c.logged)
			if c.status == http.StatusServiceUnavailable {
				p := problemOf(t, rec, c.status)
				require.Equal(t, "the server is stopping; nothing was changed, retry later", p.Detail)
				require.Equal(t, "1", rec.Header().Get("Retry-After"))
			}
		})
	}
}
