package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/peterldowns/pgtestdb"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/app"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

// appSecret is a valid JWT_SECRET (38 bytes).
const appSecret = "app-test-secret-0123456789abcdefghijkl"

// appWaitLimit bounds every wait on the running server, so that a hang fails the test with a
// message instead of stalling the run. It is a safety net, not an assertion on speed.
const appWaitLimit = 30 * time.Second

// TestMain removes the bots binary that the tests of the real process built.
func TestMain(m *testing.M) {
	defer botsproc.RemoveBinary()
	m.Run()
}

// appEnv returns a getenv that answers from vars and "" for anything else.
func appEnv(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// appServer is the real service started through app.Run.
type appServer struct {
	base   string // http://host:port
	env    func(string) string
	logs   *logRecorder
	cancel context.CancelFunc
	done   chan error
	client *http.Client
}

// startServer runs `serve` on a fresh migrated database and waits until it listens. The
// server is stopped when t ends. extra adds settings.
func startServer(t *testing.T, extra ...string) *appServer {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": dbtest.URL(t),
		"LISTEN_ADDR":  "127.0.0.1:0",
		"JWT_SECRET":   appSecret,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	env := appEnv(vars)
	ctx, cancel := context.WithCancel(context.Background())
	s := &appServer{
		env:    env,
		logs:   newLogRecorder(),
		cancel: cancel,
		done:   make(chan error, 1),
		client: &http.Client{Timeout: appWaitLimit},
	}
	stderr := newLogRecorder()
	go func() {
		err := app.Run(ctx, []string{"serve"}, env, nil, s.logs, stderr)
		s.logs.end(err)
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		s.client.CloseIdleConnections()
		select {
		case <-s.done:
		case <-time.After(appWaitLimit):
			t.Errorf("the server did not stop within %s", appWaitLimit)
		}
	})

	listening := s.logs.waitFor(t, `"listening"`, func(e map[string]any) bool { return e["msg"] == "listening" })
	addr, ok := listening["addr"].(string)
	require.True(t, ok, "the listening line has no addr: %v", listening)
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)
	require.NotEqual(t, "0", port, "the log must give the port actually bound, not the one asked for")
	s.base = "http://" + addr
	return s
}

// stop cancels the server's context and returns what Run returned.
func (s *appServer) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	s.client.CloseIdleConnections()
	select {
	case err := <-s.done:
		s.done <- err // let the cleanup see it too
		return err
	case <-time.After(appWaitLimit):
		t.Fatalf("Run did not return within %s of the cancellation", appWaitLimit)
		return nil
	}
}

// appResponse is an HTTP answer read in full.
type appResponse struct {
	code   int
	header http.Header
	body   []byte
}

func (r appResponse) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// call sends one request; token and requestID are left out when empty.
func (s *appServer) call(t *testing.T, method, path, token, requestID string, body any) appResponse {
	t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.base+path, reader)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	res, err := s.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return appResponse{code: res.StatusCode, header: res.Header, body: b}
}

// runCommand runs a command that is expected to return on its own, and returns its output.
func runCommand(t *testing.T, env func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	// If a command that should fail starts serving instead, the limit ends it and the
	// test fails on the missing error rather than hanging.
	ctx, cancel := context.WithTimeout(t.Context(), appWaitLimit)
	defer cancel()
	out, errOut := newLogRecorder(), newLogRecorder()
	err = app.Run(ctx, args, env, nil, out, errOut)
	return out.text(), errOut.text(), err
}

// requireErrorSays checks that err is an error whose message holds each of parts.
func requireErrorSays(t *testing.T, err error, parts ...string) {
	t.Helper()
	require.Error(t, err)
	for _, part := range parts {
		require.Contains(t, err.Error(), part)
	}
}

// requireServeRefuses runs serve with env and checks that it stopped with an error saying
// each of parts, without ever listening.
func requireServeRefuses(t *testing.T, env map[string]string, parts ...string) {
	t.Helper()
	stdout, _, err := runCommand(t, appEnv(env), "serve")
	requireErrorSays(t, err, parts...)
	require.NotContains(t, stdout, `"listening"`)
}

// issueToken runs `token --user id` with the server's settings and returns the token.
func issueToken(t *testing.T, env func(string) string, user uuid.UUID) string {
	t.Helper()
	stdout, _, err := runCommand(t, env, "token", "--user", user.String())
	require.NoError(t, err)
	return strings.TrimSpace(stdout)
}

// emptyDatabaseURL returns a fresh database without any table, dropped when t ends.
func emptyDatabaseURL(t *testing.T) string {
	t.Helper()
	return pgtestdb.Custom(t, dbtest.Config(), pgtestdb.NoopMigrator{}).URL()
}
