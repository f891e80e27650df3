package cli_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/ssetest"
)

// A watch that loses the service for longer than the SDK's retry budget exits 3, so that a
// script waiting on a training tells "I lost contact" from "the bot failed" (1).
func TestWatchExitsThreeWhenItLosesTheService(t *testing.T) {
	t.Parallel()
	u := newUser(t, startIdleServer(t))
	id := u.create("--name", "Training", "--model", "gpt-4o-mini")["id"].(string)

	u.url = goneAfterFirstEvent(t, u.url)
	r := u.runWith(shortRetries, "watch", id)
	require.Equal(t, 3, r.code, r.seen())
	require.Regexp(t, `(?m)^\S+  \(new\) -> training$`, r.stdout, "the watch printed what it saw first")
	require.Contains(t, r.err.Error(), "watch: lost contact with the service, so how the bot went on is unknown")
	require.Contains(t, r.err.Error(), "cannot reach the service")
	require.Contains(t, r.stderr, "bots: cannot reach the service at "+u.url+"; trying again", "the person is told why it waits")

	help := u.ok("watch", "-h")
	require.Contains(t, help, "3 the service could not be reached")
}

// goneAfterFirstEvent is a stand-in for the service at target that passes every request on
// until a status stream has sent its first event; then it stops listening, as a service that
// went away, and cuts the stream. It returns its URL.
func goneAfterFirstEvent(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	fwd := httputil.NewSingleHostReverseProxy(u)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/stream") {
			fwd.ServeHTTP(w, r)
			return
		}
		ssetest.ForwardFirstEvent(w, r, target)
		_ = srv.Listener.Close()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
