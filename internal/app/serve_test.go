package app_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

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

	t.Run("AWorkerServesItOnDebugAddr", func(t *testing.T) {
		t.Parallel()
		logs := background(t, appEnv(map[string]string{"DATABASE_URL": dbtest.URL(t), "DEBUG_ADDR": "127.0.0.1:0"}), "worker")
		requireProfilerServes(t, http.DefaultClient, profilerAddr(t, logs))
	})

	t.Run("DebugAddrServesItOnItsOwnListener", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "DEBUG_ADDR", "127.0.0.1:0")
		addr := profilerAddr(t, s.logs)
		require.NotEqual(t, strings.TrimPrefix(s.base, "http://"), addr)
		requireProfilerServes(t, s.client, addr)

		api := s.call(t, http.MethodGet, "/debug/pprof/", "", "", nil)
		require.Equal(t, http.StatusNotFound, api.code, "the profiler must not be served on the API's address")

		require.NoError(t, s.stop(t))
		_, err := net.DialTimeout("tcp", addr, appWaitLimit)
		require.Error(t, err, "the profiler still listens after Run returned")
	})
}

// profilerAddr waits for the line saying where the profiler listens and returns the address.
func profilerAddr(t *testing.T, logs *logRecorder) string {
	t.Helper()
	line := logs.waitFor(t, `"profiler listening"`, func(e map[string]any) bool { return e["msg"] == "profiler listening" })
	addr, ok := line["addr"].(string)
	require.True(t, ok, "the profiler line has no addr: %v", line)
	return addr
}

// requireProfilerServes checks that the profiler at addr serves a heap profile.
func requireProfilerServes(t *testing.T, client *http.Client, addr string) {
	t.Helper()
	res, err := client.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, string(body), "heap profile")
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
			requireServeRefuses(t, tt.env, tt.wantErr...)
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

		requireServeRefuses(t, map[string]string{
			"DATABASE_URL": url, "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret,
		}, name, "does not exist", "createdb")
	})

	t.Run("UnreachableServerSaysHowToStartPostgreSQL", func(t *testing.T) {
		t.Parallel()
		requireServeRefuses(t, map[string]string{
			"DATABASE_URL": "postgres://postgres@127.0.0.1:1/chatsphere?sslmode=disable",
			"LISTEN_ADDR":  "127.0.0.1:0",
			"JWT_SECRET":   appSecret,
		}, "PostgreSQL", "127.0.0.1:1", "start")
	})

	t.Run("MigrateOnAnUnreachableServerSaysHowToStartPostgreSQL", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, appEnv(map[string]string{
			"DATABASE_URL": "postgres://postgres@127.0.0.1:1/chatsphere?sslmode=disable",
		}), "migrate")
		requireErrorSays(t, err, "PostgreSQL", "start")
	})

	t.Run("ListenAddressInUseIsReported", func(t *testing.T) {
		t.Parallel()
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = taken.Close() })

		_, _, err = runCommand(t, appEnv(map[string]string{
			"DATABASE_URL": dbtest.URL(t), "LISTEN_ADDR": taken.Addr().String(), "JWT_SECRET": appSecret,
		}), "serve")
		requireErrorSays(t, err, taken.Addr().String())
	})
}
