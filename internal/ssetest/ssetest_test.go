package ssetest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/ssetest"
)

// A stream that starts with a heartbeat and sends two events reaches the client up to the end
// of the first event, and then the client sees the connection cut, not a stream that ended.
func TestForwardFirstEvent(t *testing.T) {
	t.Parallel()
	const (
		heartbeat = ": heartbeat\n\n"
		first     = "id: 1\nevent: status\ndata: {\"n\":1}\n\n"
		second    = "id: 2\nevent: status\ndata: {\"n\":2}\n\n"
	)
	got := make(chan *http.Request, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprint(w, heartbeat+first+second)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a stream stays open until its client leaves
	}))
	t.Cleanup(upstream.Close)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ssetest.ForwardFirstEvent(w, r, upstream.URL)
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(proxy.Close)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, proxy.URL+"/bots/1/stream?x=y", nil)
	require.NoError(t, err)
	req.Header.Set("Last-Event-ID", "7")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	body, err := io.ReadAll(res.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the connection is cut, not closed at the end of the answer")
	require.Equal(t, heartbeat+first, string(body), "exactly one event")

	fwd := <-got
	require.Equal(t, "/bots/1/stream?x=y", fwd.URL.RequestURI())
	require.Equal(t, "7", fwd.Header.Get("Last-Event-ID"))
}

// An answer that ends before a whole event is cut too, and the caller's code after the forward
// never runs: nothing reaches the client, since what was copied was never flushed.
func TestForwardFirstEventCutsAnAnswerWithoutAnEvent(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprint(w, ": heartbeat\n\nid: 1\n")
	}))
	t.Cleanup(upstream.Close)
	returned := make(chan struct{}, 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ssetest.ForwardFirstEvent(w, r, upstream.URL)
		returned <- struct{}{}
	}))
	t.Cleanup(proxy.Close)

	res, err := http.Get(proxy.URL + "/stream")
	require.ErrorIs(t, err, io.EOF, "the connection is cut before the answer's head")
	require.Nil(t, res)
	require.Empty(t, returned)
}
