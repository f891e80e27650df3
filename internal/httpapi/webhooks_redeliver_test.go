package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

func redeliverPath(webhookID uuid.UUID, deliveryID int64) string {
	return webhookPath(webhookID) + "/deliveries/" + strconv.FormatInt(deliveryID, 10) + "/redeliver"
}

// deliveryIDs lists the ids of a webhook's deliveries, oldest first.
func (e *env) deliveryIDs(webhookID uuid.UUID) []int64 {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id`, webhookID)
	require.NoError(e.t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(e.t, err)
	return ids
}

func TestWebhookRedeliverySendsTheSameMessageAgain(t *testing.T) {
	t.Parallel()
	e, u, rcv, hook := setupDelivery(t)
	e.createBot(u, map[string]any{"name": "Sent twice"})
	waitUntil(t, "the delivery is delivered", func() bool {
		d := e.deliveries(hook.Id)
		return len(d) == 1 && d[0].State == "delivered"
	})
	first := e.deliveryIDs(hook.Id)[0]

	res := e.post(u, redeliverPath(hook.Id, first), nil)
	require.Equal(t, http.StatusAccepted, res.code, string(res.body))
	var queued api.WebhookDelivery
	res.decode(t, &queued)
	require.NotEqual(t, first, queued.Id)
	require.Equal(t, webhookPath(hook.Id)+"/deliveries/"+strconv.FormatInt(queued.Id, 10), res.header.Get("Location"))
	require.Equal(t, api.Pending, queued.State)
	require.Zero(t, queued.Attempts)

	waitUntil(t, "the receiver gets the event again", func() bool { return len(rcv.requests()) == 2 })
	got := rcv.requests()
	require.Equal(t, got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"), "the same message")
	require.Equal(t, string(got[0].body), string(got[1].body))
	require.True(t, signedBy(t, hook.Secret, got[1]))

	waitUntil(t, "the new delivery is delivered", func() bool {
		var d api.WebhookDelivery
		res := e.get(u, res.header.Get("Location"))
		res.decode(t, &d)
		return d.State == api.Delivered
	})
	var all api.WebhookDeliveryList
	e.get(u, webhookPath(hook.Id)+"/deliveries").decode(t, &all)
	require.EqualValues(t, 2, all.Total, "the first delivery keeps its record")
	require.Equal(t, all.Items[0].EventId, all.Items[1].EventId)
}

func TestWebhookRedeliveryRules(t *testing.T) {
	t.Parallel()
	e := setup(t) // no worker: deliveries stay pending until the test says otherwise
	ctx := context.Background()
	owner := newUser(t)
	hook := e.register(owner, "https://hooks.example.com/redeliver", "bot.created")
	sibling := e.register(owner, "https://hooks.example.com/sibling", "bot.created")
	e.createBot(owner, map[string]any{"name": "Redelivered"})
	first := e.deliveryIDs(hook.Id)[0]
	jobs := func() int { return e.count(`SELECT 1 FROM river_job WHERE kind = 'webhook_delivery'`) }
	fail := func(id int64) {
		_, err := e.pool.Exec(ctx, `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL WHERE id = $1`, id)
		require.NoError(t, err)
	}

	t.Run("APendingDeliveryIsNotQueuedAgain", func(t *testing.T) {
		e := e.authzFor(t)
		before := jobs()
		p := e.post(owner, redeliverPath(hook.Id, first), nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/delivery-pending", p.Type)
		require.Contains(t, p.Detail, "still pending")
		require.Len(t, e.deliveryIDs(hook.Id), 1)
		require.Equal(t, before, jobs())
	})

	fail(first)

	t.Run("AnotherUsersWebhookOrAnotherWebhooksDeliveryIsNotFound", func(t *testing.T) {
		e := e.authzFor(t)
		e.post(newUser(t), redeliverPath(hook.Id, first), nil).problem(t, http.StatusNotFound)
		e.get(newUser(t), webhookPath(hook.Id)+"/deliveries/"+strconv.FormatInt(first, 10)).problem(t, http.StatusNotFound)
		e.post(owner, redeliverPath(sibling.Id, first), nil).problem(t, http.StatusNotFound)
		e.get(owner, webhookPath(sibling.Id)+"/deliveries/"+strconv.FormatInt(first, 10)).problem(t, http.StatusNotFound)
		e.post(owner, redeliverPath(hook.Id, first+1000), nil).problem(t, http.StatusNotFound)
		require.Len(t, e.deliveryIDs(hook.Id), 1)
		require.Len(t, e.deliveryIDs(sibling.Id), 1)
	})

	t.Run("AFailedDeliveryIsQueuedAgainOnceWithItsJob", func(t *testing.T) {
		e := e.authzFor(t)
		before := jobs()
		res := e.post(owner, redeliverPath(hook.Id, first), nil)
		require.Equal(t, http.StatusAccepted, res.code, string(res.body))
		var queued api.WebhookDelivery
		res.decode(t, &queued)
		require.Equal(t, before+1, jobs())
		require.Equal(t, 1, e.count(`SELECT 1 FROM river_job WHERE kind = 'webhook_delivery' AND (args->>'delivery_id')::bigint = $1`, queued.Id))

		// While the redelivery is pending, neither delivery queues the event again.
		p := e.post(owner, redeliverPath(hook.Id, first), nil).problem(t, http.StatusConflict)
		require.Contains(t, p.Detail, "still pending")
		e.post(owner, redeliverPath(hook.Id, queued.Id), nil).problem(t, http.StatusConflict)
		require.Len(t, e.deliveryIDs(hook.Id), 2)
		require.Equal(t, before+1, jobs())
		fail(queued.Id)
	})

	t.Run("ADisabledWebhookMustBeEnabledFirst", func(t *testing.T) {
		e := e.authzFor(t)
		require.Equal(t, http.StatusOK, e.put(owner, webhookPath(hook.Id), map[string]any{"enabled": false}, nil).code)
		before := jobs()
		p := e.post(owner, redeliverPath(hook.Id, first), nil).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/webhook-disabled", p.Type)
		require.Contains(t, p.Detail, "enable it first")
		require.Equal(t, before, jobs())
		require.Len(t, e.deliveryIDs(hook.Id), 2)

		require.Equal(t, http.StatusOK, e.put(owner, webhookPath(hook.Id), map[string]any{"enabled": true}, nil).code)
		require.Equal(t, http.StatusAccepted, e.post(owner, redeliverPath(hook.Id, first), nil).code)
	})
}
