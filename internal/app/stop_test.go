package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// heldReceiver is a webhook endpoint that holds every request until it is released, then
// answers 200; a request whose sender gives up is dropped.
type heldReceiver struct {
	url     string
	arrived chan struct{} // closed when the first request arrives
	release chan struct{} // closed to answer
	once    sync.Once
}

func newHeldReceiver(t *testing.T) *heldReceiver {
	t.Helper()
	r := &heldReceiver{arrived: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.once.Do(func() { close(r.arrived) })
		select {
		case <-r.release:
			w.WriteHeader(http.StatusOK)
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hook"
	return r
}

// jobsInFlight starts a server whose webhook for bot.created sends to a held receiver,
// creates a bot, and returns once the bot's delivery is at the receiver and its training
// runs: both jobs are in flight. extra adds settings.
func jobsInFlight(t *testing.T, extra ...string) (*appServer, *pgxpool.Pool, *heldReceiver, uuid.UUID, uuid.UUID) {
	t.Helper()
	settings := append([]string{"WEBHOOK_ALLOW_HTTP", "true", "WEBHOOK_ALLOW_PRIVATE", "true"}, extra...)
	s := startServer(t, settings...)
	pool, err := pgxpool.New(t.Context(), s.env("DATABASE_URL"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	rcv := newHeldReceiver(t)
	token := issueToken(t, s.env, uuid.New())

	res := s.call(t, http.MethodPost, "/api/v1/webhooks", token, "", map[string]any{"url": rcv.url, "events": []string{"bot.created"}})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var hook struct{ ID uuid.UUID }
	res.json(t, &hook)
	res = s.call(t, http.MethodPost, "/api/v1/bots", token, "", map[string]any{"name": "Busy at the stop", "model": "gpt-4o"})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var bot struct{ ID uuid.UUID }
	res.json(t, &bot)

	select {
	case <-rcv.arrived:
	case <-time.After(appWaitLimit):
		t.Fatalf("the delivery did not reach the receiver within %s", appWaitLimit)
	}
	return s, pool, rcv, hook.ID, bot.ID
}

// deliveryRow is what the tests of a stop read of the webhook's one delivery and the webhook.
type deliveryRow struct {
	State        string
	Attempts     int
	LastStatus   *int
	FailingSince *time.Time
	Version      int64
}

func readDelivery(t *testing.T, pool *pgxpool.Pool, hook uuid.UUID) deliveryRow {
	t.Helper()
	var d deliveryRow
	require.NoError(t, pool.QueryRow(t.Context(), `
		SELECT d.state::text, d.attempts, d.last_status, w.failing_since, w.version
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.id = $1`, hook).
		Scan(&d.State, &d.Attempts, &d.LastStatus, &d.FailingSince, &d.Version))
	return d
}

// A stop lets the jobs in flight finish: the delivery being sent is answered and recorded
// delivered, the training in progress completes, on its first attempt.
func TestStopLetsRunningJobsFinish(t *testing.T) {
	t.Parallel()
	s, pool, rcv, hook, bot := jobsInFlight(t, "TRAINING_MIN_DURATION", "3s")
	before := readDelivery(t, pool, hook)
	trainingJob := "SELECT state::text, attempt FROM river_job WHERE kind <> 'webhook_delivery' AND args->>'bot_id' = $1"
	var job struct {
		State   string
		Attempt *int
	}
	for deadline := time.Now().Add(appWaitLimit); job.State != "running" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		require.NoError(t, pool.QueryRow(t.Context(), trainingJob, bot.String()).Scan(&job.State, &job.Attempt))
	}
	require.Equal(t, "running", job.State)
	var status string
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT status FROM bots WHERE id = $1", bot).Scan(&status))
	require.Equal(t, "training", status, "the training ended before the stop, which proves nothing")

	s.cancel() // what SIGTERM does
	s.logs.waitFor(t, `"shutting down"`, func(e map[string]any) bool { return e["msg"] == "shutting down" })
	close(rcv.release)
	require.NoError(t, s.stop(t))

	d := readDelivery(t, pool, hook)
	require.Equal(t, "delivered", d.State)
	require.Equal(t, 1, d.Attempts)
	require.NotNil(t, d.LastStatus)
	require.Equal(t, http.StatusOK, *d.LastStatus)
	require.Nil(t, d.FailingSince)
	require.Equal(t, before.Version, d.Version, "the webhook did not change")

	require.NoError(t, pool.QueryRow(t.Context(), "SELECT status FROM bots WHERE id = $1", bot).Scan(&status))
	require.Equal(t, "active", status)
	require.NoError(t, pool.QueryRow(t.Context(), trainingJob, bot.String()).Scan(&job.State, &job.Attempt))
	require.Equal(t, "completed", job.State)
	require.Equal(t, 1, *job.Attempt, "the training used one attempt")
}

// A stop that runs out of SHUTDOWN_TIMEOUT cancels the delivery still waiting for its
// endpoint; the cut attempt is no failure of the endpoint: it is not counted, and the
// webhook starts no run of failures.
func TestStopOutOfTimeDoesNotBlameTheEndpoint(t *testing.T) {
	t.Parallel()
	s, pool, _, hook, _ := jobsInFlight(t, "SHUTDOWN_TIMEOUT", "200ms")
	before := readDelivery(t, pool, hook)

	s.cancel()
	require.NoError(t, s.stop(t), "a stop that had to cancel jobs is still a normal stop")
	s.logs.waitFor(t, "the hard stop", func(e map[string]any) bool {
		return e["msg"] == "the shutdown timeout ran out; cancelling the jobs still running"
	})

	d := readDelivery(t, pool, hook)
	require.Equal(t, "pending", d.State, "it is sent again later")
	require.Zero(t, d.Attempts)
	require.Nil(t, d.LastStatus)
	require.Nil(t, d.FailingSince)
	require.Equal(t, before.Version, d.Version, "the webhook did not change")
}

// SHUTDOWN_TIMEOUT bounds a stop: a request still running when it ends (here an update
// waiting on a row lock) is cancelled, so that its write rolls back and its client gets no
// success, and the process stops normally.
func TestStopOutOfTimeCancelsTheRequestsStillRunning(t *testing.T) {
	t.Parallel()
	// No training runs, so that the update is the only one waiting on the lock.
	s := startServer(t, "SHUTDOWN_TIMEOUT", "200ms", "TRAINING_WORKERS", "0")
	pool, err := pgxpool.New(t.Context(), s.env("DATABASE_URL"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	token := issueToken(t, s.env, uuid.New())
	res := s.call(t, http.MethodPost, "/api/v1/bots", token, "", map[string]any{"name": "Locked at the stop", "model": "gpt-4o"})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var bot struct{ ID uuid.UUID }
	res.json(t, &bot)

	lock, err := pool.Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = lock.Rollback(context.WithoutCancel(t.Context())) }()
	_, err = lock.Exec(t.Context(), "SELECT 1 FROM bots WHERE id = $1 FOR UPDATE", bot.ID)
	require.NoError(t, err)

	type answer struct {
		code int
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, s.base+"/api/v1/bots/"+bot.ID.String(),
			bytes.NewReader([]byte(`{"name":"Renamed during the stop"}`)))
		if err != nil {
			answered <- answer{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := s.client.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		_, err = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		answered <- answer{code: res.StatusCode, err: err}
	}()
	waiting := 0
	for deadline := time.Now().Add(appWaitLimit); waiting == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		require.NoError(t, pool.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting))
	}
	require.Equal(t, 1, waiting, "the update never waited on the lock")

	require.NoError(t, s.stop(t), "a stop that had to cut requests is still a normal stop")
	s.logs.waitFor(t, `"shutting down" with the timeout as a duration`, func(e map[string]any) bool {
		return e["msg"] == "shutting down" && e["timeout"] == "200ms"
	})
	s.logs.waitFor(t, "the cut", func(e map[string]any) bool {
		return e["msg"] == "the shutdown timeout ran out; cancelling the requests still running" && e["requests"] == float64(1)
	})
	s.logs.waitFor(t, `"stopped"`, func(e map[string]any) bool { return e["msg"] == "stopped" })
	a := <-answered
	if a.err == nil {
		require.NotEqual(t, http.StatusOK, a.code, "the cut update must not be answered as a success")
	}

	require.NoError(t, lock.Rollback(t.Context()))
	var name string
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT name FROM bots WHERE id = $1", bot.ID).Scan(&name))
	require.Equal(t, "Locked at the stop", name, "the cut update did not commit")
}
