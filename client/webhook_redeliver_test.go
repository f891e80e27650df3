package client_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

// delivered waits until the delivery id of the webhook hook is delivered and returns it.
func delivered(t *testing.T, c *client.Client, hook uuid.UUID, id int64) client.WebhookDelivery {
	t.Helper()
	waiting := ctx(t)
	for ; ; time.Sleep(50 * time.Millisecond) {
		d, err := c.WebhookDelivery(waiting, hook, id)
		require.NoError(t, err)
		if d.State == client.DeliveryDelivered {
			return d
		}
		require.NoError(t, waiting.Err(), "the delivery was not delivered: %+v", d)
	}
}

// A redelivery reaches the receiver again as the same message, and is a delivery of its own.
func TestWebhookRedeliverySendsTheSameMessageAgain(t *testing.T) {
	t.Parallel()
	c, hook, _, deliveries := announced(t, "Sent twice")
	sent := next(t, deliveries)
	var first client.WebhookDelivery
	for d, err := range c.WebhookDeliveries(ctx(t), hook.ID) {
		require.NoError(t, err)
		first = d
	}
	first = delivered(t, c, hook.ID, first.ID)

	queued, err := c.RedeliverWebhookDelivery(ctx(t), hook.ID, first.ID)
	require.NoError(t, err)
	require.NotEqual(t, first.ID, queued.ID)
	require.Equal(t, first.EventID, queued.EventID)
	require.Equal(t, client.DeliveryPending, queued.State)
	require.Zero(t, queued.Attempts)

	again := next(t, deliveries)
	require.Equal(t, sent.header.Get("webhook-id"), again.header.Get("webhook-id"), "the same message")
	require.Equal(t, string(sent.body), string(again.body))
	require.NoError(t, client.VerifyWebhook(hook.Secret, again.header, again.body, time.Now(), 0))
	got := delivered(t, c, hook.ID, queued.ID)
	require.Equal(t, int32(http.StatusNoContent), *got.LastStatus)

	healthy, err := c.Webhook(ctx(t), hook.ID)
	require.NoError(t, err)
	require.Nil(t, healthy.FailingSince)
	require.Nil(t, healthy.DisabledAt)
	require.Nil(t, healthy.DisabledReason)
}

func TestWebhookRedeliveryProblems(t *testing.T) {
	t.Parallel()
	srv := startServer(t) // no worker: the delivery stays pending
	c := newClient(t, srv.URL)
	hook, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: "https://hooks.example.com/redeliver", Events: []string{"bot.created"}})
	require.NoError(t, err)
	sibling := setupWebhook(t, c)
	_, err = c.Create(ctx(t), client.CreateParams{Name: "Redelivered", Model: "gpt-4o-mini"})
	require.NoError(t, err)
	var pending client.WebhookDelivery
	for d, err := range c.WebhookDeliveries(ctx(t), hook.ID) {
		require.NoError(t, err)
		pending = d
	}
	got, err := c.WebhookDelivery(ctx(t), hook.ID, pending.ID)
	require.NoError(t, err)
	require.Equal(t, pending, got)

	t.Run("APendingEventIsAConflict", func(t *testing.T) {
		_, err := c.RedeliverWebhookDelivery(ctx(t), hook.ID, pending.ID)
		p := requireProblem(t, err, http.StatusConflict, "/problems/delivery-pending")
		require.Contains(t, p.Detail, "still pending")
	})

	t.Run("AnotherUsersOrAnotherWebhooksDeliveryIsNotFound", func(t *testing.T) {
		other := newClient(t, srv.URL)
		_, err := other.RedeliverWebhookDelivery(ctx(t), hook.ID, pending.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		_, err = other.WebhookDelivery(ctx(t), hook.ID, pending.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		_, err = c.RedeliverWebhookDelivery(ctx(t), sibling.ID, pending.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		_, err = c.WebhookDelivery(ctx(t), sibling.ID, pending.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
	})

	t.Run("ADisabledWebhookIsAConflict", func(t *testing.T) {
		_, err := c.UpdateWebhook(ctx(t), hook.ID, func(w *client.Webhook) error { w.Enabled = false; return nil })
		require.NoError(t, err)
		_, err = c.RedeliverWebhookDelivery(ctx(t), hook.ID, pending.ID)
		p := requireProblem(t, err, http.StatusConflict, "/problems/webhook-disabled")
		require.Contains(t, p.Detail, "enable it first")
	})
}

// A webhook whose endpoint failed for longer than WEBHOOK_DISABLE_AFTER (3 days) is disabled
// by its next failure, and says since when it failed and why; enabling it clears that.
func TestWebhookDisabledByTheServiceSaysWhy(t *testing.T) {
	t.Parallel()
	srv := startServerWithWorkers(t)
	c := newClient(t, srv.URL)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	hook, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: failing.URL + "/hooks", Events: []string{"bot.created"}})
	require.NoError(t, err)

	// Only the service writes failing_since: start the run of failures four days ago.
	conn, err := pgx.Connect(ctx(t), srv.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx(t))
	var since time.Time
	require.NoError(t, conn.QueryRow(ctx(t),
		`UPDATE webhooks SET failing_since = now() - interval '96 hours' WHERE id = $1 RETURNING failing_since`, hook.ID).Scan(&since))

	_, err = c.Create(ctx(t), client.CreateParams{Name: "Unreachable", Model: "gpt-4o-mini"})
	require.NoError(t, err)
	waiting := ctx(t)
	var got client.Webhook
	for ; ; time.Sleep(50 * time.Millisecond) {
		got, err = c.Webhook(waiting, hook.ID)
		require.NoError(t, err)
		if !got.Enabled {
			break
		}
		require.NoError(t, waiting.Err(), "the webhook was not disabled")
	}
	require.NotNil(t, got.FailingSince)
	require.True(t, since.Equal(*got.FailingSince), "the run's start: %s, not %s", since, got.FailingSince)
	require.NotNil(t, got.DisabledAt)
	require.NotNil(t, got.DisabledReason)
	require.Contains(t, *got.DisabledReason, "the endpoint answered 503")

	enabled, err := c.UpdateWebhook(ctx(t), hook.ID, func(w *client.Webhook) error { w.Enabled = true; return nil })
	require.NoError(t, err)
	require.True(t, enabled.Enabled)
	require.Nil(t, enabled.FailingSince)
	require.Nil(t, enabled.DisabledAt)
	require.Nil(t, enabled.DisabledReason)
}
