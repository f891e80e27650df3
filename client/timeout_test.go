package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

// frozen is a server that accepts every connection and reads every request but never
// answers, as a service stopped with SIGSTOP or stuck does. first, when not nil, serves the
// first request instead (and may itself go silent).
func frozen(t *testing.T, first http.HandlerFunc) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 && first != nil {
			first(w, r)
			return
		}
		<-r.Context().Done() // the client gave up and closed the connection
	}))
	t.Cleanup(srv.Close)
	return srv
}

// bounded is the context of a call that must end by itself: it ends after 20 seconds, so
// that a call that hangs fails the test instead of the run.
func bounded(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestAServiceThatNeverAnswers(t *testing.T) {
	t.Parallel()

	t.Run("IsErrUnreachableOnceTheBudgetIsSpent", func(t *testing.T) {
		t.Parallel()
		srv := frozen(t, nil)
		c := newClient(t, srv.URL, client.WithRetry(2, time.Second), client.WithTimeouts(200*time.Millisecond, time.Second))
		within := bounded(t)
		_, err := c.Get(within, uuid.New())
		require.ErrorIs(t, err, client.ErrUnreachable)
		require.NoError(t, within.Err(), "the call ended by itself, not with the test's context")
	})

	t.Run("EndsAWatchWhoseStreamWentSilentWithErrUnreachable", func(t *testing.T) {
		t.Parallel()
		bot := uuid.New()
		srv := frozen(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, "id: 1\nevent: status\ndata: {\"id\":1,\"bot_id\":%q,\"from_status\":null,\"to_status\":\"training\",\"message\":null,\"created_at\":\"2025-01-01T00:00:00Z\"}\n\n", bot)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // then nothing: no event, no heartbeat
		})
		c := newClient(t, srv.URL, client.WithRetry(client.DefaultAttempts, time.Second), client.WithTimeouts(200*time.Millisecond, 300*time.Millisecond))
		within := bounded(t)
		requireOneEventThenUnreachable(t, c.WatchStatus(within, bot))
		require.NoError(t, within.Err(), "the watch ended by itself, not with the test's context")
	})
}
