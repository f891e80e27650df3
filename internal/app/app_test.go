package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/peterldowns/pgtestdb"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/app"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/migrate"
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

// logRecorder is a thread-safe io.Writer that keeps what a command writes, line by line, and
// lets a test wait for a line without sleeping.
type logRecorder struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed and replaced whenever a line arrives or the command ends
	ended   bool
	err     error // what the command returned, once ended
}

func newLogRecorder() *logRecorder {
	return &logRecorder{changed: make(chan struct{})}
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.lines = append(r.lines, string(r.partial[:i]))
		r.partial = r.partial[i+1:]
	}
	r.notify()
	return len(p), nil
}

func (r *logRecorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// end records that the command returned err; waiters stop waiting for new lines.
func (r *logRecorder) end(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended, r.err = true, err
	r.notify()
}

// text returns everything written so far.
func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, line := range r.lines {
		b.WriteString(line + "\n")
	}
	b.Write(r.partial)
	return b.String()
}

// entries parses every complete line as a JSON object; a line that is not one fails the test,
// since the service promises JSON logs on stdout.
func (r *logRecorder) entries(t *testing.T) []map[string]any {
	t.Helper()
	r.mu.Lock()
	lines := slices.Clone(r.lines)
	r.mu.Unlock()
	return parseLogLines(t, lines)
}

func parseLogLines(t *testing.T, lines []string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(lines))
	for _, line := range lines {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "log line is not a JSON object: %q", line)
		out = append(out, entry)
	}
	return out
}

// waitFor returns the first log entry match accepts, waiting for it until appWaitLimit. It
// fails at once if the command ends without having logged it.
func (r *logRecorder) waitFor(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(appWaitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		lines, changed, ended, err := slices.Clone(r.lines), r.changed, r.ended, r.err
		r.mu.Unlock()
		for _, entry := range parseLogLines(t, lines) {
			if match(entry) {
				return entry
			}
		}
		if ended {
			t.Fatalf("the command returned %v without logging %s; it logged:\n%s", err, what, strings.Join(lines, "\n"))
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log line %s within %s; got:\n%s", what, appWaitLimit, strings.Join(lines, "\n"))
		}
	}
}

// requestLog waits for the request log line carrying id.
func (r *logRecorder) requestLog(t *testing.T, id string) map[string]any {
	t.Helper()
	return r.waitFor(t, "for request "+id, func(e map[string]any) bool {
		return e["msg"] == "request" && e["request_id"] == id
	})
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
		err := app.Run(ctx, []string{"serve"}, env, s.logs, stderr)
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
	err = app.Run(ctx, args, env, out, errOut)
	return out.text(), errOut.text(), err
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

func TestServe(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	// The database was already migrated: serve's own migration run must find nothing to do.
	migrated := s.logs.waitFor(t, `"migrations applied"`, func(e map[string]any) bool { return e["msg"] == "migrations applied" })
	require.Empty(t, migrated["applied"], "serve re-applied migrations on a migrated database")

	health := s.call(t, http.MethodGet, "/healthz", "", "", nil)
	require.Equal(t, http.StatusOK, health.code, "body: %s", health.body)
	require.JSONEq(t, `{"status":"ok"}`, string(health.body))

	ready := s.call(t, http.MethodGet, "/readyz", "", "", nil)
	require.Equal(t, http.StatusOK, ready.code, "body: %s", ready.body)
	require.JSONEq(t, `{"status":"ok"}`, string(ready.body))

	user := uuid.New()
	token := issueToken(t, s.env, user)

	createID := "create-" + uuid.NewString()
	created := s.call(t, http.MethodPost, "/api/v1/bots", token, createID, map[string]any{"name": "Support", "model": "gpt-4o"})
	require.Equal(t, http.StatusCreated, created.code, "body: %s", created.body)
	var bot struct {
		ID      uuid.UUID `json:"id"`
		OwnerID uuid.UUID `json:"owner_id"`
		Status  string    `json:"status"`
	}
	created.json(t, &bot)
	require.Equal(t, user, bot.OwnerID)
	require.Equal(t, "training", bot.Status)
	require.Equal(t, "/api/v1/bots/"+bot.ID.String(), created.header.Get("Location"))

	list := s.call(t, http.MethodGet, "/api/v1/bots", token, "", nil)
	require.Equal(t, http.StatusOK, list.code, "body: %s", list.body)
	var page struct {
		Items []struct {
			ID uuid.UUID `json:"id"`
		} `json:"items"`
		Total int `json:"total"`
	}
	list.json(t, &page)
	require.Equal(t, 1, page.Total)
	require.Len(t, page.Items, 1)
	require.Equal(t, bot.ID, page.Items[0].ID)

	// The create's log line is written after its metrics are recorded, so once it is there
	// the scrape below must count the request.
	line := s.logs.requestLog(t, createID)
	require.Equal(t, "POST", line["method"])
	require.Equal(t, "/api/v1/bots", line["route"])
	require.EqualValues(t, 201, line["status"])
	require.Equal(t, user.String(), line["user_id"])

	metrics := s.call(t, http.MethodGet, "/metrics", "", "", nil)
	require.Equal(t, http.StatusOK, metrics.code)
	text := string(metrics.body)
	require.Contains(t, text, `http_request_duration_seconds_bucket{method="POST",route="/api/v1/bots",status="201"`)
	require.Contains(t, text, `http_request_duration_seconds_count{method="POST",route="/api/v1/bots",status="201"} 1`)
	require.Contains(t, text, "db_pool_connections")
	require.Contains(t, text, "db_pool_max_connections")
	// The one bot is counted once: in training, or already active, as the server's own
	// worker may have trained it by now.
	training := strings.Contains(text, `bots{status="training"} 1`) && strings.Contains(text, `bots{status="active"} 0`)
	active := strings.Contains(text, `bots{status="training"} 0`) && strings.Contains(text, `bots{status="active"} 1`)
	require.True(t, training || active, "the bot must be counted once, in training or active")
	require.Contains(t, text, `bots{status="error"} 0`)

	require.NoError(t, s.stop(t), "a cancelled server must shut down gracefully")
	s.logs.waitFor(t, `"shutting down"`, func(e map[string]any) bool { return e["msg"] == "shutting down" })
	s.logs.waitFor(t, `"stopped"`, func(e map[string]any) bool { return e["msg"] == "stopped" })

	// Every line on stdout is a JSON log entry with a time, a level and a message. A normal
	// run and stop warns of nothing.
	for _, e := range s.logs.entries(t) {
		require.Contains(t, e, "time")
		require.Contains(t, e, "level")
		require.Contains(t, e, "msg")
		require.Contains(t, []any{"DEBUG", "INFO"}, e["level"], "a normal run and stop logged: %v", e)
	}

	// Once Run has returned, nothing listens on the address any more.
	_, err := net.DialTimeout("tcp", strings.TrimPrefix(s.base, "http://"), appWaitLimit)
	require.Error(t, err, "the listener is still open after Run returned")
}

func TestServeProfiler(t *testing.T) {
	t.Parallel()

	t.Run("OffByDefault", func(t *testing.T) {
		t.Parallel()
		s := startServer(t)
		require.NotContains(t, s.logs.text(), `"profiler listening"`)
		res := s.call(t, http.MethodGet, "/debug/pprof/", "", "", nil)
		require.Equal(t, http.StatusNotFound, res.code, "the profiler must not be served on the API's address")
	})

	t.Run("DebugAddrServesItOnItsOwnListener", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "DEBUG_ADDR", "127.0.0.1:0")
		line := s.logs.waitFor(t, `"profiler listening"`, func(e map[string]any) bool { return e["msg"] == "profiler listening" })
		addr, ok := line["addr"].(string)
		require.True(t, ok, "the profiler line has no addr: %v", line)
		require.NotEqual(t, strings.TrimPrefix(s.base, "http://"), addr)

		res, err := s.client.Get("http://" + addr + "/debug/pprof/heap?debug=1")
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, string(body), "heap profile")

		api := s.call(t, http.MethodGet, "/debug/pprof/", "", "", nil)
		require.Equal(t, http.StatusNotFound, api.code, "the profiler must not be served on the API's address")

		require.NoError(t, s.stop(t))
		_, err = net.DialTimeout("tcp", addr, appWaitLimit)
		require.Error(t, err, "the profiler still listens after Run returned")
	})
}

func TestServeRequestLogs(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	user := uuid.New()
	token := issueToken(t, s.env, user)

	t.Run("ClientRequestIDIsEchoedAndLogged", func(t *testing.T) {
		t.Parallel()
		id := "client-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/healthz", "", id, nil)
		require.Equal(t, http.StatusOK, res.code)
		require.Equal(t, id, res.header.Get("X-Request-Id"))

		line := s.logs.requestLog(t, id)
		require.Equal(t, "GET", line["method"])
		require.Equal(t, "/healthz", line["route"])
		require.EqualValues(t, 200, line["status"])
	})

	t.Run("MissingRequestIDIsGenerated", func(t *testing.T) {
		t.Parallel()
		first := s.call(t, http.MethodGet, "/healthz", "", "", nil)
		second := s.call(t, http.MethodGet, "/healthz", "", "", nil)
		a, b := first.header.Get("X-Request-Id"), second.header.Get("X-Request-Id")
		require.NotEmpty(t, a)
		require.NotEmpty(t, b)
		require.NotEqual(t, a, b, "two requests got the same generated id")
		s.logs.requestLog(t, a)
		s.logs.requestLog(t, b)
	})

	t.Run("OverlongRequestIDIsReplaced", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("r", 1000)
		res := s.call(t, http.MethodGet, "/healthz", "", long, nil)
		require.Equal(t, http.StatusOK, res.code)
		id := res.header.Get("X-Request-Id")
		require.NotEmpty(t, id)
		require.NotEqual(t, long, id)
		line := s.logs.requestLog(t, id)
		require.NotContains(t, fmt.Sprint(line), long)
	})

	t.Run("EachRequestLogsOneLineWithEveryField", func(t *testing.T) {
		t.Parallel()
		id := "fields-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/api/v1/bots", token, id, nil)
		require.Equal(t, http.StatusOK, res.code, "body: %s", res.body)

		line := s.logs.requestLog(t, id)
		require.Equal(t, "request", line["msg"])
		require.Equal(t, "GET", line["method"])
		require.Equal(t, "/api/v1/bots", line["route"])
		require.EqualValues(t, 200, line["status"])
		duration, ok := line["duration_ms"].(float64)
		require.True(t, ok, "duration_ms is not a number: %v", line["duration_ms"])
		require.GreaterOrEqual(t, duration, 0.0)
		require.Equal(t, user.String(), line["user_id"])
		require.Equal(t, id, line["request_id"])

		count := 0
		for _, e := range s.logs.entries(t) {
			if e["msg"] == "request" && e["request_id"] == id {
				count++
			}
		}
		require.Equal(t, 1, count, "a request must log exactly one line")
	})

	t.Run("RouteIsTheTemplateNotThePath", func(t *testing.T) {
		t.Parallel()
		id := "route-" + uuid.NewString()
		missing := uuid.New()
		res := s.call(t, http.MethodGet, "/api/v1/bots/"+missing.String(), token, id, nil)
		require.Equal(t, http.StatusNotFound, res.code, "body: %s", res.body)

		line := s.logs.requestLog(t, id)
		require.Equal(t, "/api/v1/bots/:bot_id", line["route"])
		require.EqualValues(t, 404, line["status"])
		require.NotContains(t, fmt.Sprint(line), missing.String(), "the raw path leaked into the log line")
	})

	t.Run("UnknownPathIsNotLoggedAsItsOwnRoute", func(t *testing.T) {
		t.Parallel()
		id := "unknown-" + uuid.NewString()
		segment := "nowhere-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/"+segment, "", id, nil)
		require.Equal(t, http.StatusNotFound, res.code)

		line := s.logs.requestLog(t, id)
		require.EqualValues(t, 404, line["status"])
		route, _ := line["route"].(string)
		require.NotEmpty(t, route)
		require.NotContains(t, route, segment, "each unknown path would become its own metrics series")
	})

	t.Run("AnonymousRequestLogsNoUser", func(t *testing.T) {
		t.Parallel()
		id := "anonymous-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/readyz", "", id, nil)
		require.Equal(t, http.StatusOK, res.code)
		line := s.logs.requestLog(t, id)
		require.Empty(t, line["user_id"])
	})

	t.Run("RefusedTokenLogsNoUser", func(t *testing.T) {
		t.Parallel()
		id := "refused-" + uuid.NewString()
		other, err := auth.Issue([]byte("a-different-secret-a-different-secret"), uuid.New(), time.Hour, time.Now())
		require.NoError(t, err)
		res := s.call(t, http.MethodGet, "/api/v1/bots", other, id, nil)
		require.Equal(t, http.StatusUnauthorized, res.code)
		require.Equal(t, id, res.header.Get("X-Request-Id"))

		line := s.logs.requestLog(t, id)
		require.EqualValues(t, 401, line["status"])
		require.Empty(t, line["user_id"])
		require.Equal(t, "/api/v1/bots", line["route"])
	})

	t.Run("ErrorResponsesCarryTheRequestID", func(t *testing.T) {
		t.Parallel()
		id := "problem-" + uuid.NewString()
		res := s.call(t, http.MethodPost, "/api/v1/bots", token, id, map[string]any{"name": "x", "model": "no-such-model"})
		require.Equal(t, http.StatusUnprocessableEntity, res.code, "body: %s", res.body)
		require.Equal(t, id, res.header.Get("X-Request-Id"))
		line := s.logs.requestLog(t, id)
		require.EqualValues(t, 422, line["status"])
		require.Equal(t, user.String(), line["user_id"])
	})
}

func TestServeRefusesBadSettings(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{
			name:    "MissingSecret",
			env:     map[string]string{"LISTEN_ADDR": "127.0.0.1:0"},
			wantErr: []string{"JWT_SECRET", "required"},
		},
		{
			name:    "ShortSecret",
			env:     map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": "too-short"},
			wantErr: []string{"JWT_SECRET", "at least 32"},
		},
		{
			name:    "ListenAddrWithoutPort",
			env:     map[string]string{"LISTEN_ADDR": "nonsense", "JWT_SECRET": appSecret},
			wantErr: []string{"LISTEN_ADDR"},
		},
		{
			name:    "DatabaseURLThatIsNotAURL",
			env:     map[string]string{"DATABASE_URL": "://bad", "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret},
			wantErr: []string{"DATABASE_URL"},
		},
		{
			name:    "SeveralBadSettingsAreReportedTogether",
			env:     map[string]string{"DATABASE_URL": "://bad", "LISTEN_ADDR": "nonsense", "JWT_SECRET": "short"},
			wantErr: []string{"DATABASE_URL", "LISTEN_ADDR", "JWT_SECRET", "at least 32"},
		},
		{
			name:    "UnknownLogLevel",
			env:     map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret, "LOG_LEVEL": "chatty"},
			wantErr: []string{"LOG_LEVEL"},
		},
		{
			name:    "ShutdownTimeoutThatIsNotADuration",
			env:     map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret, "SHUTDOWN_TIMEOUT": "later"},
			wantErr: []string{"SHUTDOWN_TIMEOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, appEnv(tt.env), "serve")
			require.Error(t, err)
			for _, part := range tt.wantErr {
				require.Contains(t, err.Error(), part)
			}
			require.NotContains(t, stdout, `"listening"`)
		})
	}
}

func TestServeExplainsDatabaseProblems(t *testing.T) {
	t.Parallel()

	t.Run("MissingDatabaseSaysHowToCreateIt", func(t *testing.T) {
		t.Parallel()
		c := dbtest.Config()
		name := "bots_missing_" + hex.EncodeToString(randomBytes(t, 8))
		url := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", c.User, net.JoinHostPort(c.Host, c.Port), name)

		stdout, _, err := runCommand(t, appEnv(map[string]string{
			"DATABASE_URL": url, "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret,
		}), "serve")
		require.Error(t, err)
		require.Contains(t, err.Error(), name)
		require.Contains(t, err.Error(), "does not exist")
		require.Contains(t, err.Error(), "createdb")
		require.NotContains(t, stdout, `"listening"`)
	})

	t.Run("UnreachableServerSaysHowToStartPostgreSQL", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := runCommand(t, appEnv(map[string]string{
			"DATABASE_URL": "postgres://postgres@127.0.0.1:1/chatsphere?sslmode=disable",
			"LISTEN_ADDR":  "127.0.0.1:0",
			"JWT_SECRET":   appSecret,
		}), "serve")
		require.Error(t, err)
		require.Contains(t, err.Error(), "PostgreSQL")
		require.Contains(t, err.Error(), "127.0.0.1:1")
		require.Contains(t, err.Error(), "start")
		require.NotContains(t, stdout, `"listening"`)
	})

	t.Run("MigrateOnAnUnreachableServerSaysHowToStartPostgreSQL", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, appEnv(map[string]string{
			"DATABASE_URL": "postgres://postgres@127.0.0.1:1/chatsphere?sslmode=disable",
		}), "migrate")
		require.Error(t, err)
		require.Contains(t, err.Error(), "PostgreSQL")
		require.Contains(t, err.Error(), "start")
	})

	t.Run("ListenAddressInUseIsReported", func(t *testing.T) {
		t.Parallel()
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = taken.Close() })

		_, _, err = runCommand(t, appEnv(map[string]string{
			"DATABASE_URL": dbtest.URL(t), "LISTEN_ADDR": taken.Addr().String(), "JWT_SECRET": appSecret,
		}), "serve")
		require.Error(t, err)
		require.Contains(t, err.Error(), taken.Addr().String())
	})
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestCommands(t *testing.T) {
	t.Parallel()

	t.Run("NoCommandIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(nil))
		require.Error(t, err)
		require.Empty(t, stdout)
		require.Contains(t, stderr, "usage")
	})

	t.Run("UnknownCommandIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(nil), "launch")
		require.Error(t, err)
		require.Contains(t, err.Error(), "launch")
		require.Empty(t, stdout)
		require.Contains(t, stderr, "usage")
	})

	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run("HelpListsEveryCommandAndSetting/"+arg, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, appEnv(nil), arg)
			require.NoError(t, err)
			for _, cmd := range []string{"serve", "migrate", "token"} {
				require.Contains(t, stdout, cmd)
			}
			for _, name := range []string{"DATABASE_URL", "LISTEN_ADDR", "JWT_SECRET", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
				require.Contains(t, stdout, name)
			}
			// Each setting is one row of the table the README has too.
			for _, s := range config.Settings {
				row := "(?m)^  " + regexp.QuoteMeta(s.Name) + " {2,}" + regexp.QuoteMeta(s.Shown()) + " {2,}" + regexp.QuoteMeta(s.Meaning) + "$"
				require.Regexp(t, row, stdout)
			}
		})
	}

	t.Run("ServeRefusesUnknownFlags", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": appSecret, "LISTEN_ADDR": "127.0.0.1:0"}), "serve", "--port", "80")
		require.Error(t, err)
	})
}

func TestToken(t *testing.T) {
	t.Parallel()
	env := appEnv(map[string]string{"JWT_SECRET": appSecret})

	// tokenClaims verifies a printed token with the secret and returns its claims.
	tokenClaims := func(t *testing.T, tok string) jwt.RegisteredClaims {
		t.Helper()
		var claims jwt.RegisteredClaims
		_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte(appSecret), nil },
			jwt.WithValidMethods([]string{"HS256"}))
		require.NoError(t, err)
		require.NotNil(t, claims.ExpiresAt)
		return claims
	}

	t.Run("PrintsATokenTheServerAccepts", func(t *testing.T) {
		t.Parallel()
		user := uuid.New()
		stdout, _, err := runCommand(t, env, "token", "--user", user.String())
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(stdout, "\n"))
		tok := strings.TrimSuffix(stdout, "\n")
		require.NotContains(t, tok, "\n", "token printed more than one line")

		got, err := auth.NewVerifier([]byte(appSecret)).Verify(tok)
		require.NoError(t, err)
		require.Equal(t, user, got)
	})

	t.Run("TokenIsRefusedWithAnotherSecret", func(t *testing.T) {
		t.Parallel()
		tok := issueToken(t, env, uuid.New())
		_, err := auth.NewVerifier([]byte("some-other-secret-some-other-secret")).Verify(tok)
		require.ErrorIs(t, err, auth.ErrInvalidToken)
	})

	t.Run("TTLSetsTheExpiry", func(t *testing.T) {
		t.Parallel()
		before := time.Now()
		stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "2h")
		require.NoError(t, err)
		after := time.Now()

		exp := tokenClaims(t, strings.TrimSpace(stdout)).ExpiresAt.Time
		require.False(t, exp.Before(before.Add(2*time.Hour).Truncate(time.Second)), "exp %s is earlier than 2h after the call", exp)
		require.False(t, exp.After(after.Add(2*time.Hour)), "exp %s is later than 2h after the call", exp)
	})

	t.Run("DefaultTTLIsOneHour", func(t *testing.T) {
		t.Parallel()
		before := time.Now()
		stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString())
		require.NoError(t, err)
		after := time.Now()

		exp := tokenClaims(t, strings.TrimSpace(stdout)).ExpiresAt.Time
		require.False(t, exp.Before(before.Add(time.Hour).Truncate(time.Second)))
		require.False(t, exp.After(after.Add(time.Hour)))
	})

	badUsers := []struct {
		name string
		args []string
	}{
		{name: "MissingUser", args: []string{"token"}},
		{name: "EmptyUser", args: []string{"token", "--user", ""}},
		{name: "UserThatIsNotAUUID", args: []string{"token", "--user", "alice"}},
		{name: "UserInURNForm", args: []string{"token", "--user", uuid.New().URN()}},
		{name: "UserInBracedForm", args: []string{"token", "--user", "{" + uuid.NewString() + "}"}},
		{name: "UserWithoutHyphens", args: []string{"token", "--user", strings.ReplaceAll(uuid.NewString(), "-", "")}},
		{name: "UserWithOneDigitTooMany", args: []string{"token", "--user", uuid.NewString() + "0"}},
	}
	for _, tt := range badUsers {
		t.Run("RefusesBadUser/"+tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, env, tt.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), "--user")
			require.Empty(t, stdout, "no token may be printed for a bad user")
		})
	}

	badTTLs := []string{"-1h", "-1ns", "0s", "0", "soon"}
	for _, ttl := range badTTLs {
		t.Run("RefusesTTL/"+ttl, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", ttl)
			require.Error(t, err)
			require.Empty(t, stdout)
		})
	}

	t.Run("NegativeTTLSaysItMustBePositive", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "-2h")
		require.Error(t, err)
		require.Contains(t, err.Error(), "--ttl")
		require.Contains(t, err.Error(), "positive")
	})

	t.Run("MissingSecretIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := runCommand(t, appEnv(nil), "token", "--user", uuid.NewString())
		require.Error(t, err)
		require.Contains(t, err.Error(), "JWT_SECRET")
		require.Empty(t, stdout)
	})

	t.Run("ShortSecretIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": "short"}), "token", "--user", uuid.NewString())
		require.Error(t, err)
		require.Contains(t, err.Error(), "at least 32")
		require.Empty(t, stdout)
	})
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	url := emptyDatabaseURL(t)
	// migrate signs nothing, so it must run without JWT_SECRET.
	env := appEnv(map[string]string{"DATABASE_URL": url})

	names, err := migrate.Steps()
	require.NoError(t, err)

	stdout, _, err := runCommand(t, env, "migrate")
	require.NoError(t, err)
	require.Equal(t, names, appliedInLog(t, stdout), "the first run must apply every migration")

	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	for _, table := range []string{"users", "bots", "schema_migrations"} {
		var exists bool
		require.NoError(t, conn.QueryRow(t.Context(),
			"SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1)", table).Scan(&exists))
		require.True(t, exists, "table %s is missing after migrate", table)
	}

	stdout, _, err = runCommand(t, env, "migrate")
	require.NoError(t, err)
	require.Empty(t, appliedInLog(t, stdout), "the second run must apply nothing")

	ours, err := migrate.All()
	require.NoError(t, err)
	var rows int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&rows))
	require.Equal(t, len(ours), rows)
}

// appliedInLog returns the migrations the "migrations applied" log line of output names.
func appliedInLog(t *testing.T, output string) []string {
	t.Helper()
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(output), "\n") {
		if line != "" {
			lines = append(lines, line)
		}
	}
	for _, e := range parseLogLines(t, lines) {
		if e["msg"] != "migrations applied" {
			continue
		}
		raw, _ := e["applied"].([]any)
		out := make([]string, 0, len(raw))
		for _, v := range raw {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	t.Fatalf("no \"migrations applied\" line in:\n%s", output)
	return nil
}
