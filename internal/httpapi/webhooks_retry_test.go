package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A failed attempt whose backoff would end after WEBHOOK_RETRY_FOR is retried when
// WEBHOOK_RETRY_FOR ends, not given up: the last attempt is made at the deadline.
func TestWebhookLastRetryIsAtTheDeadline(t *testing.T) {
	t.Parallel()
	cfg := testWebhooks
	cfg.RetryFor = time.Minute
	cfg.RetryBackoff = time.Hour
	e, _, hook := retryWaiting(t, cfg)

	var state string
	var queued, next, scheduled time.Time
	require.NoError(t, e.pool.QueryRow(context.Background(), `
		SELECT d.state::text, d.created_at, d.next_attempt_at, j.scheduled_at
		FROM webhook_deliveries d JOIN river_job j ON j.kind = 'webhook_delivery' AND (j.args->>'delivery_id')::bigint = d.id
		WHERE d.webhook_id = $1`, hook.Id).Scan(&state, &queued, &next, &scheduled))
	require.Equal(t, "pending", state)
	require.True(t, next.Equal(queued.Add(cfg.RetryFor)), "next attempt %s, queued %s", next, queued)
	require.True(t, scheduled.Equal(next), "the job is scheduled when the delivery says: %s, %s", scheduled, next)
}
