package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/app"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

// background runs a long-lived command through app.Run until t ends.
func background(t *testing.T, env func(string) string, args ...string) *logRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		logs.end(app.Run(ctx, args, env, nil, logs, newLogRecorder()))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return logs
}

// waitForBotStatus polls the database until the bot has status want.
func waitForBotStatus(t *testing.T, pool *pgxpool.Pool, id uuid.UUID, want string) {
	t.Helper()
	deadline := time.Now().Add(appWaitLimit)
	var status string
	for time.Now().Before(deadline) {
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT status FROM bots WHERE id = $1", id).Scan(&status))
		if status == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("bot %s is %q, not %q", id, status, want)
}

func TestAServerWithoutWorkersLeavesTrainingToAWorker(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	env := appEnv(map[string]string{
		"DATABASE_URL": url, "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret,
		"TRAINING_WORKERS": "2",
	})
	logs := background(t, env, "serve", "--no-workers")
	listening := logs.waitFor(t, `"listening"`, func(e map[string]any) bool { return e["msg"] == "listening" })
	require.EqualValues(t, 0, listening["training_workers"])
	base := "http://" + listening["addr"].(string)

	token := issueToken(t, env, uuid.New())
	srv := &appServer{base: base, client: &http.Client{Timeout: appWaitLimit}}
	res := srv.call(t, http.MethodPost, "/api/v1/bots", token, "", map[string]any{"name": "Waits for a worker", "model": "gpt-4o"})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var bot struct{ ID uuid.UUID }
	res.json(t, &bot)

	pool, err := pgxpool.New(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var state string
	require.NoError(t, pool.QueryRow(t.Context(),
		"SELECT state FROM river_job WHERE args->>'bot_id' = $1", bot.ID.String()).Scan(&state))
	require.Equal(t, "available", state, "nobody works jobs yet")

	background(t, env, "worker").waitFor(t, `"working"`, func(e map[string]any) bool { return e["msg"] == "working" })
	waitForBotStatus(t, pool, bot.ID, "active")
}

func TestAWorkerNeedsAtLeastOneWorker(t *testing.T) {
	t.Parallel()
	env := appEnv(map[string]string{"DATABASE_URL": dbtest.URL(t), "TRAINING_WORKERS": "0"})
	_, _, err := runCommand(t, env, "worker")
	require.ErrorContains(t, err, "TRAINING_WORKERS")
}

// startBinary starts the real `bots serve` with vars added to the environment and returns it
// once it listens. It is killed when t ends.
func startBinary(t *testing.T, vars map[string]string) *botsproc.Process {
	t.Helper()
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	p, err := botsproc.Start(botsproc.Config{Args: []string{"serve"}, Env: env})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

// TestKilledServerLosesNoTraining kills a real `bots serve` process with SIGKILL while bots
// are training, starts it again, and checks that every bot still finishes training, once.
func TestKilledServerLosesNoTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	t.Parallel()
	url := dbtest.URL(t)
	vars := map[string]string{
		"DATABASE_URL": url, "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret,
		// Each training takes a second, so that the kill finds jobs running; a job left
		// running by the dead process is rescued after 3s.
		"TRAINING_MIN_DURATION": "1s",
		"TRAINING_JOB_TIMEOUT":  "2s",
		"TRAINING_RESCUE_AFTER": "3s",
		"TRAINING_WORKERS":      "2",
	}
	proc := startBinary(t, vars)
	srv := &appServer{base: proc.URL(), client: &http.Client{Timeout: appWaitLimit}}
	token := issueToken(t, appEnv(vars), uuid.New())
	var ids []uuid.UUID
	for i := range 6 {
		res := srv.call(t, http.MethodPost, "/api/v1/bots", token, "", map[string]any{
			"name": "Crash " + strings.Repeat("I", i+1), "model": "gpt-4o-mini",
		})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		var bot struct{ ID uuid.UUID }
		res.json(t, &bot)
		ids = append(ids, bot.ID)
	}

	pool, err := pgxpool.New(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	deadline := time.Now().Add(appWaitLimit)
	running := 0
	for running == 0 && time.Now().Before(deadline) {
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE state = 'running'").Scan(&running))
		time.Sleep(10 * time.Millisecond)
	}
	require.Positive(t, running, "no training was running")

	require.NoError(t, proc.Kill()) // SIGKILL: no shutdown at all
	var training int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM bots WHERE status = 'training'").Scan(&training))
	require.Positive(t, training, "the kill came too late to prove anything")

	startBinary(t, vars)
	for _, id := range ids {
		waitForBotStatus(t, pool, id, "active")
	}
	// Every bot went training -> active exactly once: nothing was applied twice.
	var events int
	require.NoError(t, pool.QueryRow(t.Context(),
		"SELECT count(*) FROM bot_status_events WHERE to_status = 'active'").Scan(&events))
	require.Equal(t, len(ids), events)
}
