package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/webhook"
)

// testWebhooks sends deliveries to receivers on loopback over plain http, retrying after
// about 10 ms.
var testWebhooks = webhook.Config{
	Workers:      2,
	RetryFor:     time.Hour,
	RetryBackoff: 10 * time.Millisecond,
	Policy:       webhook.Policy{AllowHTTP: true, AllowPrivate: true},
}

// registered is a webhook as its create answered it.
type registered struct {
	api.WebhookCreated
	etag string
}

// register creates a webhook and fails the test unless it gets 201.
func (e *env) register(u user, url string, events ...string) registered {
	e.t.Helper()
	res := e.post(u, "/api/v1/webhooks", map[string]any{"url": url, "events": events})
	require.Equal(e.t, http.StatusCreated, res.code, string(res.body))
	var w registered
	res.decode(e.t, &w.WebhookCreated)
	w.etag = res.header.Get("ETag")
	return w
}

func webhookPath(id uuid.UUID) string { return "/api/v1/webhooks/" + id.String() }

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// setupDelivery starts a server that sends webhook deliveries, and a user whose webhook for
// bot.created sends them to a new receiver that gives answers first (see newReceiver).
func setupDelivery(t *testing.T, answers ...int) (*env, user, *receiver, registered) {
	t.Helper()
	e := setupWith(t, envConfig{webhooks: &testWebhooks})
	u := newUser(t)
	rcv := newReceiver(t, answers...)
	return e, u, rcv, e.register(u, rcv.url, "bot.created")
}

// receiver is a webhook endpoint on loopback that answers its requests with the statuses of
// answers in turn, then 200.
type receiver struct {
	url     string
	mu      sync.Mutex
	answers []int
	got     []received
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := http.StatusOK
		if n := len(r.got); n < len(r.answers) {
			status = r.answers[n]
		}
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answer "+strconv.Itoa(status))
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hook"
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// signedBy checks a request's signature as a receiver would, by the Standard Webhooks
// specification: the HMAC-SHA256 of "id.timestamp.body", keyed with the base64-decoded secret
// after "whsec_", is one of the space-separated "v1,<base64>" of webhook-signature.
func signedBy(t *testing.T, secret string, r received) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.header.Get("webhook-id") + "." + r.header.Get("webhook-timestamp") + "."))
	mac.Write(r.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for sig := range strings.FieldsSeq(r.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// delivery is a row of webhook_deliveries.
type delivery struct {
	State      string
	Attempts   int
	LastStatus *int
	LastError  *string
	EventType  string
}

// deliveries lists the deliveries of a webhook, oldest first.
func (e *env) deliveries(webhookID uuid.UUID) []delivery {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `
		SELECT d.state::text, d.attempts, d.last_status, d.last_error, ev.type
		FROM webhook_deliveries d JOIN bot_events ev ON ev.bot_id = d.bot_id AND ev.id = d.event_id
		WHERE d.webhook_id = $1 ORDER BY d.id`, webhookID)
	require.NoError(e.t, err)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[delivery])
	require.NoError(e.t, err)
	return out
}

// count counts the rows of a query.
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM ("+query+") q", args...).Scan(&n))
	return n
}

func TestWebhookDeliveryIsSignedAndRetriedUntilItSucceeds(t *testing.T) {
	t.Parallel()
	e, u, rcv, hook := setupDelivery(t, http.StatusInternalServerError, http.StatusInternalServerError)

	bot := e.createBot(u, map[string]any{"name": "Signed"})

	waitUntil(t, "the delivery is recorded as delivered", func() bool {
		d := e.deliveries(hook.Id)
		return len(d) == 1 && d[0].State == "delivered"
	})
	got := rcv.requests()
	require.Len(t, got, 3, "500, 500, then 200")
	d := e.deliveries(hook.Id)[0]
	require.Equal(t, 3, d.Attempts)
	require.Equal(t, http.StatusOK, *d.LastStatus)

	var shown api.WebhookDeliveryList
	e.get(u, webhookPath(hook.Id)+"/deliveries").decode(t, &shown)
	require.EqualValues(t, 1, shown.Total)
	require.Equal(t, api.Delivered, shown.Items[0].State)
	require.EqualValues(t, 3, shown.Items[0].Attempts)
	require.Equal(t, int32(http.StatusOK), shown.Items[0].LastStatus.MustGet())
	require.True(t, shown.Items[0].NextAttemptAt.IsNull(), "a delivered delivery has no next attempt")
	require.Equal(t, api.BotEventType("bot.created"), shown.Items[0].EventType)

	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	e.get(u, botPath(bot.Id, "/events?type=bot.created")).decode(t, &page)
	require.Len(t, page.Items, 1)
	var event struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal(page.Items[0], &event))

	for i, r := range got {
		require.Equal(t, "evt_"+strconv.FormatInt(event.ID, 10), r.header.Get("webhook-id"), "attempt %d", i+1)
		ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		require.NoError(t, err, "attempt %d", i+1)
		require.WithinDuration(t, time.Now(), time.Unix(ts, 0), time.Minute, "attempt %d", i+1)
		require.True(t, signedBy(t, hook.Secret, r), "attempt %d is signed with the secret", i+1)
		require.False(t, signedBy(t, "whsec_"+base64.StdEncoding.EncodeToString([]byte("another secret of 24 bytes")), r))
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, string(page.Items[0]), string(r.body), "attempt %d sends the event as the events endpoint shows it", i+1)
	}
}

// A failed attempt is recorded with the endpoint's status and up to 1 KiB of its answer, the
// status alone when the answer is empty; a redirect is a failure, not followed.
func TestWebhookDeliveryRecordsTheAnswerOfAFailedAttempt(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{webhooks: &testWebhooks})
	// firstAttempt registers a webhook whose endpoint answers with answer, and returns its
	// first delivery once an attempt is recorded.
	firstAttempt := func(t *testing.T, answer http.HandlerFunc) delivery {
		u := newUser(t)
		endpoint := httptest.NewServer(answer)
		t.Cleanup(endpoint.Close)
		hook := e.register(u, endpoint.URL+"/hook", "bot.created")
		e.createBot(u, map[string]any{"name": "Answered"})
		waitUntil(t, "an attempt is recorded", func() bool {
			d := e.deliveries(hook.Id)
			return len(d) == 1 && d[0].Attempts > 0
		})
		return e.deliveries(hook.Id)[0]
	}

	t.Run("ARedirectIsNotFollowedAndAKibibyteOfTheAnswerIsKept", func(t *testing.T) {
		t.Parallel()
		target := newReceiver(t)
		long := strings.Repeat("x", 5000)
		d := firstAttempt(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", target.url)
			w.WriteHeader(http.StatusFound)
			_, _ = io.WriteString(w, long)
		})
		require.Equal(t, "pending", d.State, "a 302 is a failure, retried")
		require.Equal(t, http.StatusFound, *d.LastStatus)
		require.Empty(t, target.requests(), "the redirect is not followed")
		require.Equal(t, "the endpoint answered 302: "+long[:1024], *d.LastError, "1 KiB of the answer is kept")
	})

	t.Run("AnEmptyAnswerIsRecordedAsItsStatusAlone", func(t *testing.T) {
		t.Parallel()
		d := firstAttempt(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
		require.Equal(t, http.StatusInternalServerError, *d.LastStatus)
		require.Equal(t, "the endpoint answered 500", *d.LastError)
	})
}

func TestWebhookDeliveriesAreQueuedWithTheirWrite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	owner := newUser(t)
	hook := e.register(owner, "https://hooks.example.com/all", "*")

	t.Run("ARolledBackWriteQueuesNothing", func(t *testing.T) {
		rollback := errors.New("roll back")
		_, err := bots.InTx(ctx, e.pool, func(tx pgx.Tx) (bots.Bot, error) {
			if _, err := e.svc.CreateTx(ctx, tx, owner.id, bots.CreateParams{Name: "Undone", Model: "gpt-4o-mini"}); err != nil {
				return bots.Bot{}, err
			}
			return bots.Bot{}, rollback
		})
		require.ErrorIs(t, err, rollback)
		require.Empty(t, e.deliveries(hook.Id))
		require.Zero(t, e.count(`SELECT 1 FROM river_job WHERE kind = 'webhook_delivery'`))
	})

	t.Run("ACommittedWriteQueuesADeliveryAndAJobPerEvent", func(t *testing.T) {
		bot := e.createBot(owner, map[string]any{"name": "Done"})
		events := e.count(`SELECT 1 FROM bot_events WHERE bot_id = $1`, bot.Id)
		require.Positive(t, events)
		require.Len(t, e.deliveries(hook.Id), events)
		require.Equal(t, events, e.count(`SELECT 1 FROM river_job WHERE kind = 'webhook_delivery' AND queue = 'webhooks' AND state = 'available'`))
	})

	t.Run("AnOwnerWithoutWebhooksGetsNoDeliveries", func(t *testing.T) {
		other := newUser(t)
		bot := e.createBot(other, map[string]any{"name": "Unwatched"})
		require.Positive(t, e.count(`SELECT 1 FROM bot_events WHERE bot_id = $1`, bot.Id))
		require.Zero(t, e.count(`SELECT 1 FROM webhook_deliveries WHERE bot_id = $1`, bot.Id))
	})
}

func TestWebhookGetsOnlyTheEventTypesItSubscribedTo(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	updates := e.register(u, "https://hooks.example.com/updates", "bot.updated")
	disabled := e.register(u, "https://hooks.example.com/off", "*")
	res := e.put(u, webhookPath(disabled.Id), map[string]any{"enabled": false}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))

	bot := e.createBot(u, map[string]any{"name": "Filtered"})
	res = e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed"}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))

	got := e.deliveries(updates.Id)
	require.Len(t, got, 1)
	require.Equal(t, "bot.updated", got[0].EventType)
	require.Empty(t, e.deliveries(disabled.Id), "a disabled webhook gets nothing")
}

func TestWebhookDeliveryRefusesPrivateAddressesItResolves(t *testing.T) {
	t.Parallel()
	cfg := testWebhooks
	cfg.Policy.AllowPrivate = false
	cfg.RetryFor = time.Nanosecond // the first failure is the last
	e := setupWith(t, envConfig{webhooks: &cfg})
	u := newUser(t)
	rcv := newReceiver(t)
	// A name is registered as it is; what it resolves to is checked at delivery.
	url := strings.Replace(rcv.url, "127.0.0.1", "localhost", 1)
	hook := e.register(u, url, "bot.created")

	e.createBot(u, map[string]any{"name": "Guarded"})

	waitUntil(t, "the delivery fails", func() bool {
		d := e.deliveries(hook.Id)
		return len(d) == 1 && d[0].State == "failed"
	})
	d := e.deliveries(hook.Id)[0]
	require.Contains(t, *d.LastError, "address is not public")
	require.Nil(t, d.LastStatus)
	require.Empty(t, rcv.requests(), "the receiver on loopback got nothing")
}

// A URL the service could never deliver to is refused at registration, naming what is wrong:
// an address that is not public, a port no connection can use, a scheme other than https.
func TestWebhookRegistrationRefusesURLsItCannotUse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	const notPublic, badPort = "not public (loopback, private, link-local, unique-local, reserved", "port from 1 to 65535"
	for url, says := range map[string]string{
		"https://127.0.0.1/hook":                              notPublic,
		"https://[::1]/hook":                                  notPublic,
		"https://10.0.0.1/hook":                               notPublic,
		"https://169.254.169.254/latest/meta-data":            notPublic,
		"https://[::ffff:127.0.0.1]/hook":                     notPublic,
		"https://[fd00::1]:8443/hook":                         notPublic,
		"https://192.168.1.10/hook":                           notPublic,
		"https://100.64.0.1/hook":                             notPublic,
		"https://224.0.0.1/hook":                              notPublic,
		"https://0.0.0.0/hook":                                notPublic,
		"https://[64:ff9b::7f00:1]/hook":                      notPublic,
		"https://hooks.example.com:0/hook":                    badPort,
		"https://hooks.example.com:65536/hook":                badPort,
		"https://hooks.example.com:99999/hook":                badPort,
		"https://hooks.example.com:99999999999999999999/hook": badPort,
		"http://hooks.example.com/plain":                      "",
		"ftp://hooks.example.com/":                            "",
		"hooks.example.com/relative":                          "",
	} {
		t.Run(url, func(t *testing.T) {
			res := e.authzFor(t).post(u, "/api/v1/webhooks", map[string]any{"url": url, "events": []string{"*"}})
			p := res.problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body:url"}, fieldsOf(p))
			require.Contains(t, (*p.Errors)[0].Message, says)
		})
	}
	require.Zero(t, e.count(`SELECT 1 FROM webhooks`), "nothing refused was stored")

	t.Run("EveryUsablePortIsTakenAndAPutIsCheckedAlike", func(t *testing.T) {
		for _, url := range []string{"https://hooks.example.com:1/hook", "https://hooks.example.com:65535/hook", "https://hooks.example.com:/hook"} {
			e.register(u, url, "*")
		}
		hook := e.register(u, "https://hooks.example.com/hook", "*")
		res := e.put(u, webhookPath(hook.Id), map[string]any{"url": "https://hooks.example.com:0/hook"}, nil)
		p := res.problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body:url"}, fieldsOf(p))
		require.Contains(t, (*p.Errors)[0].Message, badPort)
	})
}

func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, other := newUser(t), newUser(t)

	res := e.post(owner, "/api/v1/webhooks", map[string]any{
		"url": "https://hooks.example.com/a", "events": []string{"bot.created", "bot.deleted"}, "description": "first",
	})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var created api.WebhookCreated
	res.decode(t, &created)
	require.Equal(t, webhookPath(created.Id), res.header.Get("Location"))
	require.Equal(t, `"1"`, res.header.Get("ETag"))
	require.True(t, strings.HasPrefix(created.Secret, "whsec_"))
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(created.Secret, "whsec_"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(key), 24)

	t.Run("TheSecretIsShownOnlyOnCreate", func(t *testing.T) {
		res := e.authzFor(t).get(owner, webhookPath(created.Id))
		require.Equal(t, http.StatusOK, res.code)
		require.NotContains(t, string(res.body), "secret")
		require.NotContains(t, string(res.body), strings.TrimPrefix(created.Secret, "whsec_"))
		res = e.authzFor(t).get(owner, "/api/v1/webhooks")
		require.NotContains(t, string(res.body), "secret")
	})

	t.Run("AnotherUsersWebhookIsNotFound", func(t *testing.T) {
		e := e.authzFor(t)
		require.Equal(t, http.StatusNotFound, e.get(other, webhookPath(created.Id)).code)
		res := e.put(other, webhookPath(created.Id), map[string]any{"enabled": false}, nil)
		res.problem(t, http.StatusNotFound)
		res = e.delete(other, webhookPath(created.Id), map[string]string{"If-Match": "*"})
		res.problem(t, http.StatusNotFound)
		e.get(other, webhookPath(created.Id)+"/deliveries").problem(t, http.StatusNotFound)
		require.Equal(t, http.StatusOK, e.get(owner, webhookPath(created.Id)+"/deliveries").code)
		var list api.WebhookList
		e.get(other, "/api/v1/webhooks").decode(t, &list)
		require.Zero(t, list.Total)
		require.Empty(t, list.Items)
	})

	t.Run("PutChangesOnlyWhatIfMatchAllows", func(t *testing.T) {
		e := e.authzFor(t)
		res := e.put(owner, webhookPath(created.Id), map[string]any{"description": nil}, map[string]string{"If-Match": `"7"`})
		res.problem(t, http.StatusPreconditionFailed)
		require.Equal(t, `"1"`, res.header.Get("ETag"))

		res = e.put(owner, webhookPath(created.Id), map[string]any{"description": nil, "events": []string{"*"}}, map[string]string{"If-Match": `"1"`})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, `"2"`, res.header.Get("ETag"))
		var w api.Webhook
		res.decode(t, &w)
		require.True(t, w.Description.IsNull())
		require.Equal(t, []string{"*"}, w.Events)
		require.Equal(t, "https://hooks.example.com/a", w.Url)

		res = e.put(owner, webhookPath(created.Id), map[string]any{"url": "https://127.0.0.1/"}, nil)
		require.Equal(t, []string{"body:url"}, fieldsOf(res.problem(t, http.StatusUnprocessableEntity)))
	})

	t.Run("ListPages", func(t *testing.T) {
		e := e.authzFor(t)
		u := newUser(t)
		var ids []uuid.UUID
		for i := range 3 {
			ids = append(ids, e.register(u, "https://hooks.example.com/"+strconv.Itoa(i), "*").Id)
		}
		var first, second api.WebhookList
		e.get(u, "/api/v1/webhooks?limit=2").decode(t, &first)
		e.get(u, "/api/v1/webhooks?limit=2&skip=2").decode(t, &second)
		require.EqualValues(t, 3, first.Total)
		var seen []uuid.UUID
		for _, w := range append(first.Items, second.Items...) {
			seen = append(seen, w.Id)
		}
		require.Equal(t, ids, seen, "oldest first, each once")
	})

	t.Run("DeleteRemovesTheWebhook", func(t *testing.T) {
		e := e.authzFor(t)
		u := newUser(t)
		hook := e.register(u, "https://hooks.example.com/gone", "*")
		res := e.delete(u, webhookPath(hook.Id), map[string]string{"If-Match": `"9"`})
		res.problem(t, http.StatusPreconditionFailed)
		res = e.delete(u, webhookPath(hook.Id), map[string]string{"If-Match": hook.etag})
		require.Equal(t, http.StatusNoContent, res.code, string(res.body))
		e.get(u, webhookPath(hook.Id)).problem(t, http.StatusNotFound)
	})
}

func TestWebhookRotatedSecretSignsLaterDeliveries(t *testing.T) {
	t.Parallel()
	e, u, rcv, hook := setupDelivery(t)

	// Another user's rotation finds no webhook.
	e.post(newUser(t), webhookPath(hook.Id)+"/rotate-secret", nil).problem(t, http.StatusNotFound)
	res := e.post(u, webhookPath(hook.Id)+"/rotate-secret", nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, `"2"`, res.header.Get("ETag"))
	var rotated api.WebhookCreated
	res.decode(t, &rotated)
	require.NotEqual(t, hook.Secret, rotated.Secret)

	// For 24 hours both secrets sign, so the receiver may switch at its own pace.
	e.createBot(u, map[string]any{"name": "Rotated"})
	waitUntil(t, "the receiver gets the delivery", func() bool { return len(rcv.requests()) == 1 })
	got := rcv.requests()[0]
	require.Len(t, strings.Fields(got.header.Get("webhook-signature")), 2)
	require.True(t, signedBy(t, rotated.Secret, got), "signed with the new secret")
	require.True(t, signedBy(t, hook.Secret, got), "and, during the overlap, with the old one")

	// The old secret signs until 24 hours after the rotation; then only the new one does.
	for i, later := range []struct {
		ago      string
		oldSigns bool
	}{{"23 hours", true}, {"25 hours", false}} {
		_, err := e.pool.Exec(context.Background(), "UPDATE webhooks SET rotated_at = now() - $2::interval WHERE id = $1", hook.Id, later.ago)
		require.NoError(t, err)
		e.createBot(u, map[string]any{"name": "Rotated " + later.ago + " ago"})
		n := i + 2
		waitUntil(t, "the receiver gets the next delivery", func() bool { return len(rcv.requests()) == n })
		got := rcv.requests()[n-1]
		signatures := 1
		if later.oldSigns {
			signatures = 2
		}
		require.Len(t, strings.Fields(got.header.Get("webhook-signature")), signatures, "%s after the rotation", later.ago)
		require.True(t, signedBy(t, rotated.Secret, got), "%s after the rotation the new secret signs", later.ago)
		require.Equal(t, later.oldSigns, signedBy(t, hook.Secret, got), "%s after the rotation, does the old secret sign?", later.ago)
	}
}
