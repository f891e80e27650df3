package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// getWebhook reads a webhook as its owner.
func (e *env) getWebhook(u user, w registered) api.Webhook {
	e.t.Helper()
	res := e.get(u, webhookPath(w.Id))
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	var out api.Webhook
	res.decode(e.t, &out)
	return out
}

// backdate moves the start of a webhook's run of failures to ago before now.
func (e *env) backdate(w registered, ago time.Duration) time.Time {
	e.t.Helper()
	var since time.Time
	require.NoError(e.t, e.pool.QueryRow(context.Background(),
		`UPDATE webhooks SET failing_since = now() - make_interval(secs => $2) WHERE id = $1 RETURNING failing_since`,
		w.Id, ago.Seconds()).Scan(&since))
	return since
}

func TestWebhookFailingForTheWholeWindowIsDisabled(t *testing.T) {
	t.Parallel()
	cfg := testWebhooks
	cfg.DisableAfter = 72 * time.Hour
	e := setupWith(t, envConfig{webhooks: &cfg})
	u := newUser(t)
	failing := make([]int, 50)
	for i := range failing {
		failing[i] = http.StatusServiceUnavailable
	}
	rcv := newReceiver(t, failing...)
	hook := e.register(u, rcv.url, "*")
	since := e.backdate(hook, 73*time.Hour)

	e.createBot(u, map[string]any{"name": "Unreachable"})
	waitUntil(t, "the webhook is disabled", func() bool { return !e.getWebhook(u, hook).Enabled })

	got := e.getWebhook(u, hook)
	reason := got.DisabledReason.MustGet()
	require.Contains(t, reason, "since "+since.UTC().Format("2006-01-02T15:04:05Z"))
	require.Contains(t, reason, "the endpoint answered 503")
	require.True(t, got.FailingSince.MustGet().Equal(since), "the run's start stays visible")
	require.WithinDuration(t, time.Now(), got.DisabledAt.MustGet(), time.Minute)

	// Every delivery of the webhook ends as failed, with the reason; none is tried again.
	waitUntil(t, "no delivery is pending", func() bool {
		return e.count(`SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'pending'`, hook.Id) == 0
	})
	ds := e.deliveries(hook.Id)
	require.NotEmpty(t, ds)
	for _, d := range ds {
		require.Equal(t, "failed", d.State)
		require.Contains(t, *d.LastError, "the webhook was disabled automatically: every attempt since")
	}
	require.LessOrEqual(t, len(rcv.requests()), len(ds), "no delivery was tried twice")

	// Enabling it again starts afresh.
	res := e.put(u, webhookPath(hook.Id), map[string]any{"enabled": true}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	var enabled api.Webhook
	res.decode(t, &enabled)
	require.True(t, enabled.Enabled)
	require.True(t, enabled.DisabledReason.IsNull())
	require.True(t, enabled.DisabledAt.IsNull())
	require.True(t, enabled.FailingSince.IsNull())

	// The fields are the server's: a client cannot set them.
	res = e.put(u, webhookPath(hook.Id), map[string]any{"failing_since": nil}, nil)
	res.problem(t, http.StatusUnprocessableEntity)
}

// setupFailingOnce is an environment whose webhooks are disabled after 72 hours of failures
// and whose deliveries end at their first failed attempt.
func setupFailingOnce(t *testing.T) *env {
	t.Helper()
	cfg := testWebhooks
	cfg.DisableAfter = 72 * time.Hour
	cfg.RetryFor = time.Nanosecond // each delivery's first failure is its last
	return setupWith(t, envConfig{webhooks: &cfg})
}

func TestWebhookRunOfFailuresStartsOnceAndEndsOnSuccess(t *testing.T) {
	t.Parallel()
	e := setupFailingOnce(t)
	u := newUser(t)
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusInternalServerError)
	hook := e.register(u, rcv.url, "bot.created")
	require.True(t, e.getWebhook(u, hook).FailingSince.IsNull())

	e.createBot(u, map[string]any{"name": "First failure"})
	waitUntil(t, "the first delivery fails", func() bool { return len(e.deliveries(hook.Id)) == 1 && e.deliveries(hook.Id)[0].State == "failed" })
	first := e.getWebhook(u, hook)
	start := first.FailingSince.MustGet()
	require.True(t, first.Enabled)
	require.True(t, first.DisabledReason.IsNull())

	e.createBot(u, map[string]any{"name": "Second failure"})
	waitUntil(t, "the second delivery fails", func() bool { return len(e.deliveries(hook.Id)) == 2 && e.deliveries(hook.Id)[1].State == "failed" })
	require.True(t, e.getWebhook(u, hook).FailingSince.MustGet().Equal(start), "a failure continues the run, it does not restart it")

	// A success ends the run, even one about to reach the window.
	e.backdate(hook, 71*time.Hour)
	e.createBot(u, map[string]any{"name": "Success"})
	waitUntil(t, "the third delivery is delivered", func() bool { return len(e.deliveries(hook.Id)) == 3 && e.deliveries(hook.Id)[2].State == "delivered" })
	after := e.getWebhook(u, hook)
	require.True(t, after.FailingSince.IsNull())
	require.True(t, after.Enabled)
	require.True(t, after.DisabledReason.IsNull())
}

// An attempt recorded while the owner enables the webhook (or another attempt is recorded)
// judges the webhook as that write left it, not as it was when the record began.
func TestWebhookRecordSeesTheWebhookAsAConcurrentWriteLeftIt(t *testing.T) {
	t.Parallel()
	e := setupFailingOnce(t)
	ctx := context.Background()
	u := newUser(t)
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	hook := e.register(u, rcv.url, "bot.created")
	e.backdate(hook, 73*time.Hour)

	// A write that ends the run of failures, not committed yet.
	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	_, err = tx.Exec(ctx, `UPDATE webhooks SET failing_since = NULL WHERE id = $1`, hook.Id)
	require.NoError(t, err)

	e.createBot(u, map[string]any{"name": "Failing meanwhile"})
	waitUntil(t, "the failed attempt's record waits for the write", func() bool {
		return e.count(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%WebhookDeliveryRecord%'`) == 1
	})
	require.NoError(t, tx.Commit(ctx))

	waitUntil(t, "the delivery fails", func() bool { d := e.deliveries(hook.Id); return len(d) == 1 && d[0].State == "failed" })
	got := e.getWebhook(u, hook)
	require.True(t, got.Enabled, "the run the write ended does not disable the webhook")
	require.True(t, got.DisabledReason.IsNull())
	require.WithinDuration(t, time.Now(), got.FailingSince.MustGet(), time.Minute, "the failure starts a new run")
}

// A new URL is a new endpoint: the old URL's run of failures is not its, so its first failed
// attempt cannot disable the webhook. The same URL sent again keeps the run.
func TestWebhookNewURLStartsWithoutTheOldRunOfFailures(t *testing.T) {
	t.Parallel()
	e := setupFailingOnce(t)
	u := newUser(t)
	old := newReceiver(t)
	hook := e.register(u, old.url, "bot.created")
	since := e.backdate(hook, 73*time.Hour)

	res := e.put(u, webhookPath(hook.Id), map[string]any{"url": old.url}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.True(t, e.getWebhook(u, hook).FailingSince.MustGet().Equal(since), "the same URL keeps its run")

	failing := newReceiver(t, http.StatusInternalServerError)
	res = e.put(u, webhookPath(hook.Id), map[string]any{"url": failing.url}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.True(t, e.getWebhook(u, hook).FailingSince.IsNull())

	e.createBot(u, map[string]any{"name": "First at the new URL"})
	waitUntil(t, "the delivery fails", func() bool { d := e.deliveries(hook.Id); return len(d) == 1 && d[0].State == "failed" })
	got := e.getWebhook(u, hook)
	require.True(t, got.Enabled, "one failure of the new URL does not disable the webhook")
	require.True(t, got.DisabledReason.IsNull())
}

// A run of failures began when its first failed attempt did: for a slow endpoint, not when
// the attempt ended, which would start WEBHOOK_DISABLE_AFTER late by as long as it took.
func TestWebhookRunOfFailuresStartsWhenItsFirstAttemptBegan(t *testing.T) {
	t.Parallel()
	e := setupFailingOnce(t)
	u := newUser(t)
	arrived := make(chan time.Time, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case arrived <- time.Now():
		default:
		}
		time.Sleep(300 * time.Millisecond) // a slow endpoint, failing in the end
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(slow.Close)
	hook := e.register(u, slow.URL+"/hook", "bot.created")

	e.createBot(u, map[string]any{"name": "Slow failure"})
	waitUntil(t, "the delivery fails", func() bool { return len(e.deliveries(hook.Id)) == 1 && e.deliveries(hook.Id)[0].State == "failed" })
	since := e.getWebhook(u, hook).FailingSince.MustGet()
	require.False(t, since.After(<-arrived), "the run began before the request reached the endpoint, not when its answer came")
}
