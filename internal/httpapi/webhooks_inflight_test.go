package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/webhook"
)

// holdingReceiver is a webhook endpoint that answers its n-th request (from 0) with
// answers[n] once released[n] is closed; requests past answers get 503 at once.
type holdingReceiver struct {
	url      string
	mu       sync.Mutex
	arrived  int
	answers  []int
	released []chan struct{}
}

func newHoldingReceiver(t *testing.T, answers ...int) *holdingReceiver {
	r := &holdingReceiver{answers: answers}
	for range answers {
		r.released = append(r.released, make(chan struct{}))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		n := r.arrived
		r.arrived++
		r.mu.Unlock()
		if n >= len(r.answers) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		select {
		case <-r.released[n]:
			w.WriteHeader(r.answers[n])
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hook"
	return r
}

func (r *holdingReceiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.arrived
}

// retryWaiting starts a server that sends deliveries with cfg, and a user whose webhook for
// bot.created sends them to an endpoint that fails the first attempt with 503; it creates a
// bot and returns once its delivery's first attempt is recorded and its retry scheduled.
func retryWaiting(t *testing.T, cfg webhook.Config) (*env, user, registered) {
	t.Helper()
	e := setupWith(t, envConfig{webhooks: &cfg})
	u := newUser(t)
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	hook := e.register(u, rcv.url, "bot.created")
	e.createBot(u, map[string]any{"name": "Waits for its retry"})
	waitUntil(t, "the first attempt's retry is scheduled", func() bool {
		return e.count(`SELECT 1 FROM river_job WHERE kind = 'webhook_delivery' AND state = 'retryable'`) == 1
	})
	return e, u, hook
}

// latency is the last_latency_ms of the webhook's one delivery.
func (e *env) latency(hook registered) *int32 {
	e.t.Helper()
	var ms *int32
	require.NoError(e.t, e.pool.QueryRow(context.Background(), `SELECT last_latency_ms FROM webhook_deliveries WHERE webhook_id = $1`, hook.Id).Scan(&ms))
	return ms
}

// Deliveries on their way when a failure disables their webhook are recorded as what
// happened: a 2xx delivers (and ends the run of failures), a failure counts as an attempt.
func TestWebhookDisabledWhileDeliveriesAreSentRecordsThem(t *testing.T) {
	t.Parallel()
	cfg := testWebhooks
	cfg.Workers = 3
	cfg.DisableAfter = 72 * time.Hour
	e := setupWith(t, envConfig{webhooks: &cfg})
	u := newUser(t)
	rcv := newHoldingReceiver(t, http.StatusOK, http.StatusInternalServerError)
	hook := e.register(u, rcv.url, "bot.created")
	e.backdate(hook, 73*time.Hour)

	e.createBot(u, map[string]any{"name": "Held and delivered"})
	waitUntil(t, "the first delivery is at the receiver", func() bool { return rcv.requests() == 1 })
	e.createBot(u, map[string]any{"name": "Held and failed"})
	waitUntil(t, "the second delivery is at the receiver", func() bool { return rcv.requests() == 2 })
	e.createBot(u, map[string]any{"name": "Disables the webhook"})
	waitUntil(t, "the webhook is disabled", func() bool { return !e.getWebhook(u, hook).Enabled })

	close(rcv.released[0])
	close(rcv.released[1])
	waitUntil(t, "both held attempts are recorded", func() bool {
		return e.count(`SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1 AND attempts = 1`, hook.Id) == 3
	})
	ds := e.deliveries(hook.Id)
	require.Len(t, ds, 3)
	require.Equal(t, "delivered", ds[0].State)
	require.Equal(t, http.StatusOK, *ds[0].LastStatus)
	require.Nil(t, ds[0].LastError)
	require.Equal(t, "failed", ds[1].State)
	require.Equal(t, http.StatusInternalServerError, *ds[1].LastStatus)
	require.Contains(t, *ds[1].LastError, "the webhook was disabled automatically")
	require.Equal(t, "failed", ds[2].State)
	require.Equal(t, http.StatusServiceUnavailable, *ds[2].LastStatus)

	got := e.getWebhook(u, hook)
	require.False(t, got.Enabled)
	require.False(t, got.DisabledReason.IsNull())
	// The failure recorded after the success may have started a new run; what matters is
	// that the 73-hour run is over.
	if since, err := got.FailingSince.Get(); err == nil {
		require.WithinDuration(t, time.Now(), since, time.Minute)
	}
}

// Disabling a webhook ends its pending deliveries at once, as not sent: no attempt counted,
// the last attempt's status and latency kept; enabling it again does not resume them.
func TestWebhookDisabledByItsOwnerEndsItsPendingDeliveries(t *testing.T) {
	t.Parallel()
	cfg := testWebhooks
	cfg.RetryBackoff = time.Hour // the retry waits: the delivery is pending when disabled
	e, u, hook := retryWaiting(t, cfg)
	latency := e.latency(hook)
	require.NotNil(t, latency)

	res := e.put(u, webhookPath(hook.Id), map[string]any{"enabled": false}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	d := e.deliveries(hook.Id)[0]
	require.Equal(t, "failed", d.State)
	require.Equal(t, 1, d.Attempts)
	require.Equal(t, http.StatusServiceUnavailable, *d.LastStatus)
	require.Equal(t, "the webhook was disabled by its owner", *d.LastError)
	require.Equal(t, latency, e.latency(hook))

	res = e.put(u, webhookPath(hook.Id), map[string]any{"enabled": true}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, "failed", e.deliveries(hook.Id)[0].State, "enabling does not resume it")
}

// A job that finds its webhook disabled (by a write that left the delivery pending) records
// it as not sent: no attempt counted, the last attempt's status kept.
func TestWebhookDeliveryNotSentIsNoAttempt(t *testing.T) {
	t.Parallel()
	cfg := testWebhooks
	cfg.RetryBackoff = time.Hour
	e, _, hook := retryWaiting(t, cfg)

	ctx := context.Background()
	_, err := e.pool.Exec(ctx, `UPDATE webhooks SET enabled = false WHERE id = $1`, hook.Id)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now() WHERE kind = 'webhook_delivery' AND state = 'retryable'`)
	require.NoError(t, err)
	waitUntil(t, "the job runs", func() bool { return e.deliveries(hook.Id)[0].State == "failed" })
	d := e.deliveries(hook.Id)[0]
	require.Equal(t, 1, d.Attempts)
	require.Equal(t, http.StatusServiceUnavailable, *d.LastStatus)
	require.Equal(t, "not sent: the webhook was disabled", *d.LastError)
}
