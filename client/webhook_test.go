package client_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestWebhooks(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	// setup returns a client for a new user and one webhook of theirs.
	setup := func(t *testing.T) (*client.Client, client.Webhook) {
		c := newClient(t, srv.URL)
		w, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: "https://hooks.example.com/a", Events: []string{"bot.created"},
			Description: ptr("first")})
		require.NoError(t, err)
		return c, w
	}

	t.Run("CreateShowsTheSecretOnceAndGetReturnsTheETag", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t, srv.URL, http.MethodPost, func(int, http.ResponseWriter, *http.Request, http.Handler) bool { return false })
		c := newClient(t, p.URL)
		created, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: "https://hooks.example.com/chatsphere",
			Events: []string{"bot.status_changed", "version.created"}, Description: ptr("Pages on-call")})
		require.NoError(t, err)
		require.NotEqual(t, uuid.Nil, created.ID)
		require.Regexp(t, `^whsec_[A-Za-z0-9+/]+={0,2}$`, created.Secret)
		require.NotEmpty(t, created.ETag)
		require.True(t, created.Enabled, "enabled by default")
		require.Equal(t, []string{"bot.status_changed", "version.created"}, created.Events)
		require.Equal(t, "Pages on-call", *created.Description)
		p.mu.Lock()
		key := p.requests(http.MethodPost)[0].Header.Get("Idempotency-Key")
		p.mu.Unlock()
		_, err = uuid.Parse(key)
		require.NoError(t, err, "the create carries an Idempotency-Key")

		got, err := c.Webhook(ctx(t), created.ID)
		require.NoError(t, err)
		require.Equal(t, created.ETag, got.ETag)
		require.Empty(t, got.Secret, "the secret is shown only once")
		require.Equal(t, created.URL, got.URL)
	})

	t.Run("WebhooksListsEveryWebhookOldestFirst", func(t *testing.T) {
		t.Parallel()
		c, first := setup(t)
		second, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: "https://hooks.example.com/b", Events: []string{"*"}, Enabled: ptr(false)})
		require.NoError(t, err)
		var ids []uuid.UUID
		for w, err := range c.Webhooks(ctx(t)) {
			require.NoError(t, err)
			require.Empty(t, w.Secret)
			ids = append(ids, w.ID)
			if w.ID == second.ID {
				require.False(t, w.Enabled)
				require.Nil(t, w.Description)
			}
		}
		require.Equal(t, []uuid.UUID{first.ID, second.ID}, ids)
	})

	t.Run("AnInvalidCreateIsAProblemWithFieldErrors", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv.URL)
		_, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: "https://hooks.example.com/a", Events: []string{"bot.renamed"}})
		requireProblem(t, err, http.StatusUnprocessableEntity, "/problems/validation")
	})

	t.Run("UpdateChangesTheFieldsAltered", func(t *testing.T) {
		t.Parallel()
		c, w := setup(t)
		updated, err := c.UpdateWebhook(ctx(t), w.ID, func(w *client.Webhook) error {
			w.Events = append(w.Events, "bot.deleted")
			w.Description, w.Enabled = nil, false
			return nil
		})
		require.NoError(t, err)
		require.NotEqual(t, w.ETag, updated.ETag)
		got, err := c.Webhook(ctx(t), w.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"bot.created", "bot.deleted"}, got.Events)
		require.Nil(t, got.Description)
		require.False(t, got.Enabled)
		require.Equal(t, "https://hooks.example.com/a", got.URL)

		same, err := c.UpdateWebhook(ctx(t), w.ID, func(w *client.Webhook) error { w.Enabled = false; return nil })
		require.NoError(t, err)
		require.Equal(t, got.ETag, same.ETag, "no change writes nothing")
	})

	t.Run("AConcurrentChangeIsReadAgainAndKept", func(t *testing.T) {
		t.Parallel()
		c, w := setup(t)
		calls := 0
		updated, err := c.UpdateWebhook(ctx(t), w.ID, func(next *client.Webhook) error {
			calls++
			if calls == 1 {
				_, err := c.UpdateWebhook(ctx(t), w.ID, func(w *client.Webhook) error { w.URL = "https://hooks.example.com/moved"; return nil })
				require.NoError(t, err)
			}
			next.Description = ptr("second")
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 2, calls, "the function runs again on the webhook as it is after the concurrent change")
		require.Equal(t, "https://hooks.example.com/moved", updated.URL)
		require.Equal(t, "second", *updated.Description)
	})

	t.Run("DeleteWithAStaleETagIsAPreconditionFailure", func(t *testing.T) {
		t.Parallel()
		c, w := setup(t)
		_, err := c.UpdateWebhook(ctx(t), w.ID, func(w *client.Webhook) error { w.Enabled = false; return nil })
		require.NoError(t, err)
		requireProblem(t, c.DeleteWebhook(ctx(t), w.ID, w.ETag), http.StatusPreconditionFailed, "/problems/precondition-failed")
		now, err := c.Webhook(ctx(t), w.ID)
		require.NoError(t, err, "the webhook is still there")
		require.NoError(t, c.DeleteWebhook(ctx(t), w.ID, now.ETag))
		_, err = c.Webhook(ctx(t), w.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		require.NoError(t, c.DeleteWebhook(ctx(t), setupWebhook(t, c).ID, ""), "without an ETag the delete is unconditional")
	})

	t.Run("AnotherUsersWebhookIsNotFound", func(t *testing.T) {
		t.Parallel()
		_, w := setup(t)
		other := newClient(t, srv.URL)
		_, err := other.Webhook(ctx(t), w.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		_, err = other.RotateWebhookSecret(ctx(t), w.ID)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		for d, err := range other.WebhookDeliveries(ctx(t), w.ID) {
			require.Zero(t, d)
			requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		}
	})

	t.Run("RotateGivesANewSecretAndETag", func(t *testing.T) {
		t.Parallel()
		c, w := setup(t)
		rotated, err := c.RotateWebhookSecret(ctx(t), w.ID)
		require.NoError(t, err)
		require.Regexp(t, `^whsec_`, rotated.Secret)
		require.NotEqual(t, w.Secret, rotated.Secret)
		require.NotEqual(t, w.ETag, rotated.ETag)
	})
}

// setupWebhook registers a webhook that receives nothing, for a test that needs one more.
func setupWebhook(t *testing.T, c *client.Client) client.Webhook {
	t.Helper()
	w, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: "https://hooks.example.com/other", Events: []string{"*"}})
	require.NoError(t, err)
	return w
}

// delivery is one request a receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver is an endpoint on 127.0.0.1 that answers every delivery 204 and hands it to the
// test, which checks it; it is closed when t ends.
func receiver(t *testing.T) (string, <-chan delivery) {
	t.Helper()
	got := make(chan delivery, 16)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- delivery{header: r.Header.Clone(), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s.URL + "/hooks", got
}

// next waits for the next delivery, or fails the test when the test's context ends first.
func next(t *testing.T, deliveries <-chan delivery) delivery {
	t.Helper()
	select {
	case d := <-deliveries:
		return d
	case <-ctx(t).Done():
		t.Fatal("no delivery came")
		return delivery{}
	}
}

// announced starts a server that sends webhooks, registers a webhook of a new user's for
// bot.created to a receiver, and creates the bot name, whose event the receiver gets. It
// returns the user's client, the webhook, the bot and the receiver's deliveries.
func announced(t *testing.T, name string) (*client.Client, client.Webhook, client.Bot, <-chan delivery) {
	t.Helper()
	srv := startServerWithWorkers(t)
	c := newClient(t, srv.URL)
	url, deliveries := receiver(t)
	hook, err := c.CreateWebhook(ctx(t), client.WebhookParams{URL: url, Events: []string{"bot.created"}})
	require.NoError(t, err)
	bot, err := c.Create(ctx(t), client.CreateParams{Name: name, Model: "gpt-4o-mini"})
	require.NoError(t, err)
	return c, hook, bot, deliveries
}

// Deliveries of a real server verify with the secret the create showed, and during a
// rotation with either secret.
func TestWebhookDeliveriesVerify(t *testing.T) {
	t.Parallel()
	c, hook, bot, deliveries := announced(t, "Announced")
	d := next(t, deliveries)
	require.NoError(t, client.VerifyWebhook(hook.Secret, d.header, d.body, time.Now(), 0))
	var event struct {
		ID    int64
		Type  string
		BotID uuid.UUID `json:"bot_id"`
	}
	require.NoError(t, json.Unmarshal(d.body, &event))
	require.Equal(t, "bot.created", event.Type)
	require.Equal(t, bot.ID, event.BotID)
	require.Equal(t, "evt_"+strconv.FormatInt(event.ID, 10), d.header.Get("webhook-id"))
	require.ErrorIs(t, client.VerifyWebhook(setupWebhook(t, c).Secret, d.header, d.body, time.Now(), 0), client.ErrWebhookSignature,
		"another webhook's secret does not verify it")

	rotated, err := c.RotateWebhookSecret(ctx(t), hook.ID)
	require.NoError(t, err)
	_, err = c.Create(ctx(t), client.CreateParams{Name: "Announced again", Model: "gpt-4o-mini"})
	require.NoError(t, err)
	d = next(t, deliveries)
	require.Len(t, strings.Fields(d.header.Get("webhook-signature")), 2, "the new secret's signature and the old one's")
	require.NoError(t, client.VerifyWebhook(rotated.Secret, d.header, d.body, time.Now(), 0), "the new secret verifies")
	require.NoError(t, client.VerifyWebhook(hook.Secret, d.header, d.body, time.Now(), 0), "the old secret still verifies")

	// The attempts are recorded after the receiver answered: wait for both.
	waiting := ctx(t)
	var got []client.WebhookDelivery
	for ; ; time.Sleep(50 * time.Millisecond) {
		got = got[:0]
		for d, err := range c.WebhookDeliveries(waiting, hook.ID) {
			require.NoError(t, err)
			got = append(got, d)
		}
		if len(got) == 2 && got[0].State == client.DeliveryDelivered && got[1].State == client.DeliveryDelivered {
			break
		}
		require.NoError(t, waiting.Err(), "the deliveries were not recorded as delivered: %+v", got)
	}
	require.Equal(t, bot.ID, got[1].BotID, "newest first")
	require.Equal(t, event.ID, got[1].EventID)
	require.Equal(t, "bot.created", got[1].EventType)
	require.EqualValues(t, 1, got[1].Attempts)
	require.Equal(t, int32(http.StatusNoContent), *got[1].LastStatus)
	require.NotNil(t, got[1].Latency)
	require.Nil(t, got[1].NextAttemptAt)
	require.Empty(t, got[1].LastError)
}
