package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/app"
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
		logs.end(app.Run(ctx, args, env, logs, newLogRecorder()))
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

// buildBots builds the bots binary as dir/bin/bots, where the README's commands expect it,
// and returns its path.
func buildBots(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin", "bots")
	build := exec.Command("go", "build", "-o", bin, "github.com/chatsphere/bots/cmd/bots")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// startBinary starts `bin serve` as a process with vars added to the environment, waits for
// its "listening" line and returns the process and the server's base URL. The process is
// killed when t ends.
func startBinary(t *testing.T, bin string, vars map[string]string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "listening" {
				addr <- line["addr"].(string)
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(appWaitLimit):
		t.Fatal("the server did not start")
		return nil, ""
	}
}

// TestKilledServerLosesNoTraining kills a real `bots serve` process with SIGKILL while bots
// are training, starts it again, and checks that every bot still finishes training, once.
func TestKilledServerLosesNoTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	t.Parallel()
	bin := buildBots(t, t.TempDir())

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
	start := func() (*exec.Cmd, string) { return startBinary(t, bin, vars) }

	cmd, base := start()
	srv := &appServer{base: base, client: &http.Client{Timeout: appWaitLimit}}
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

	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no shutdown at all
	_ = cmd.Wait()
	var training int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM bots WHERE status = 'training'").Scan(&training))
	require.Positive(t, training, "the kill came too late to prove anything")

	start()
	for _, id := range ids {
		waitForBotStatus(t, pool, id, "active")
	}
	// Every bot went training -> active exactly once: nothing was applied twice.
	var events int
	require.NoError(t, pool.QueryRow(t.Context(),
		"SELECT count(*) FROM bot_status_events WHERE to_status = 'active'").Scan(&events))
	require.Equal(t, len(ids), events)
}
