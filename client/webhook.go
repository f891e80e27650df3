package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	gen "github.com/chatsphere/bots/gen/client"
)

// Webhook is an endpoint of the caller's to which the events of their bots are sent, as the
// API returns it, with the ETag of that state. VerifyWebhook checks a delivery's signature.
type Webhook struct {
	ID uuid.UUID
	// URL, Events, Description and Enabled are the fields a caller may change (see
	// UpdateWebhook). Events are event types ("bot.created", ...) or "*" for every type;
	// Description is nil when the webhook has none; a disabled webhook queues no deliveries.
	URL         string
	Events      []string
	Description *string
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// FailingSince is when the endpoint's current run of failed attempts began; nil while the
	// last attempt succeeded. The service disables a webhook whose endpoint keeps failing for
	// WEBHOOK_DISABLE_AFTER (3 days by default): then Enabled is false, DisabledAt is when
	// that happened and DisabledReason says why. UpdateWebhook setting Enabled clears all
	// three; only the service sets them.
	FailingSince   *time.Time
	DisabledAt     *time.Time
	DisabledReason *string
	// Secret is the signing secret ("whsec_..."), the key VerifyWebhook needs. The service
	// shows it only once: it is set by CreateWebhook and RotateWebhookSecret, and empty
	// everywhere else.
	Secret string
	// ETag identifies this state of the webhook for conditional requests (If-Match). It is
	// set by every method that returns one webhook; webhooks from Webhooks have none.
	ETag string
}

// WebhookParams is a new webhook. URL and Events are required; a nil field takes the
// service's default (no description, enabled).
type WebhookParams struct {
	// URL is where the events are sent: https, to a public address (the
	// service refuses them with a 422 unless it runs with WEBHOOK_ALLOW_HTTP and
	// WEBHOOK_ALLOW_PRIVATE, for development).
	URL         string
	Events      []string
	Description *string
	Enabled     *bool
}

// DeliveryState is where a delivery is: pending until an attempt succeeds (delivered) or its
// retries end (failed).
type DeliveryState string

// The states a delivery can be in.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// WebhookDelivery is one event to send to one webhook, and how its sending went so far.
type WebhookDelivery struct {
	ID    int64
	BotID uuid.UUID
	// EventID is the event it sends; the delivery's webhook-id header is "evt_" and this id,
	// the same on every attempt, so a receiver deduplicates by it.
	EventID   int64
	EventType string
	State     DeliveryState
	Attempts  int32
	// LastStatus is the HTTP status of the last attempt; nil when it got none (no attempt
	// yet, a timeout, no connection).
	LastStatus *int32
	// LastError says why the last attempt failed, with the start of the endpoint's answer;
	// empty when it did not.
	LastError string
	// Latency is how long the last attempt took; nil before the first.
	Latency *time.Duration
	// NextAttemptAt is when a pending delivery is tried next; nil once it is not pending.
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// CreateWebhook registers a webhook and returns it with its secret, which the service shows
// only this once. Like Create it sends a fresh Idempotency-Key and retries with it, so that a
// lost answer is replayed, secret included, rather than registering a second webhook.
func (c *Client) CreateWebhook(ctx context.Context, p WebhookParams) (Webhook, error) {
	body := gen.WebhookCreate{Url: p.URL, Events: p.Events, Enabled: p.Enabled}
	if p.Description != nil {
		body.Description = nullable.NewNullableWithValue(*p.Description)
	}
	params := &gen.CreateWebhookParams{IdempotencyKey: ptr(uuid.NewString())}
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.CreateWebhook(ctx, params, body)
	})
	return webhookFrom(r, err, http.StatusCreated)
}

// Webhooks iterates over every webhook of the caller, oldest first, reading one page after
// another as the loop asks for more, with the retries of Get. An error ends the iteration: it
// is yielded once, with a zero Webhook. The webhooks carry no ETag and no secret.
func (c *Client) Webhooks(ctx context.Context) iter.Seq2[Webhook, error] {
	return pages(ctx, c, toWebhook, func(ctx context.Context, skip int) (*http.Response, error) {
		return c.api.ListWebhooks(ctx, &gen.ListWebhooksParams{Skip: ptr(int32(skip))})
	})
}

// Webhook reads the caller's webhook id with its ETag (and without its secret). Another
// user's webhook, or one that does not exist, is a *Problem with Status 404.
func (c *Client) Webhook(ctx context.Context, id uuid.UUID) (Webhook, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.GetWebhook(ctx, id)
	})
	return webhookFrom(r, err, http.StatusOK)
}

// UpdateWebhook changes the webhook id as Update changes a bot: it reads the webhook, calls
// change on a copy, and sends the fields change altered (URL, Events, Description, Enabled;
// others are ignored) with If-Match, reading again and calling change again on a 412, at most
// WithUpdateAttempts times in all. change may therefore run more than once and should have no
// other effects; when it alters nothing, nothing is written.
func (c *Client) UpdateWebhook(ctx context.Context, id uuid.UUID, change func(*Webhook) error) (Webhook, error) {
	clone := func(w Webhook) Webhook {
		w.Events = slices.Clone(w.Events)
		if w.Description != nil {
			w.Description = ptr(*w.Description)
		}
		return w
	}
	write := func(ctx context.Context, cur Webhook, body gen.WebhookUpdate) (*http.Response, error) {
		return c.api.UpdateWebhook(ctx, id, &gen.UpdateWebhookParams{IfMatch: ptr(cur.ETag)}, body)
	}
	return conditionally(ctx, c, func(ctx context.Context) (Webhook, error) { return c.Webhook(ctx, id) }, clone, change,
		webhookDiff, write, toWebhook)
}

// webhookDiff is the update that turns from into to, and whether there is anything in it.
func webhookDiff(from, to Webhook) (gen.WebhookUpdate, bool) {
	var u gen.WebhookUpdate
	if to.URL != from.URL {
		u.Url = ptr(to.URL)
	}
	if !slices.Equal(to.Events, from.Events) {
		u.Events = ptr(to.Events)
	}
	if to.Enabled != from.Enabled {
		u.Enabled = ptr(to.Enabled)
	}
	d, descChanged := nullableDiff(from.Description, to.Description)
	if descChanged {
		u.Description = d
	}
	return u, u.Url != nil || u.Events != nil || u.Enabled != nil || descChanged
}

// DeleteWebhook deletes the caller's webhook id and its deliveries; those not yet sent are not
// sent. With a non-empty etag (a Webhook.ETag) it sends If-Match, so that a webhook changed
// since it was read is not deleted (a *Problem with Status 412). Like Delete it is not retried
// on a connection error, whose replay would answer 404 for a webhook that is gone.
func (c *Client) DeleteWebhook(ctx context.Context, id uuid.UUID, etag string) error {
	params := &gen.DeleteWebhookParams{}
	if etag != "" {
		params.IfMatch = ptr(etag)
	}
	return c.remove(ctx, http.StatusNoContent, func(ctx context.Context) (*http.Response, error) {
		return c.api.DeleteWebhook(ctx, id, params)
	})
}

// RotateWebhookSecret gives the caller's webhook id a new secret and returns the webhook with
// it (Webhook.Secret), shown only this once. For the next 24 hours every delivery carries a
// signature by the new secret and one by the old, so the receiver may switch at any time in
// that window (VerifyWebhook accepts either). It is not retried on a connection error: a
// replay would rotate again, and the secret of the first rotation, which nobody saw, would
// be the one that keeps signing beside the newest.
func (c *Client) RotateWebhookSecret(ctx context.Context, id uuid.UUID) (Webhook, error) {
	r, err := c.send(ctx, false, func(ctx context.Context) (*http.Response, error) {
		return c.api.RotateWebhookSecret(ctx, id)
	})
	return webhookFrom(r, err, http.StatusOK)
}

// WebhookDeliveries iterates over the deliveries of the caller's webhook id, newest first,
// every page, with the retries of Get. Another user's webhook is a *Problem with Status 404,
// yielded once.
func (c *Client) WebhookDeliveries(ctx context.Context, id uuid.UUID) iter.Seq2[WebhookDelivery, error] {
	return pages(ctx, c, toWebhookDelivery, func(ctx context.Context, skip int) (*http.Response, error) {
		return c.api.ListWebhookDeliveries(ctx, id, &gen.ListWebhookDeliveriesParams{Skip: ptr(int32(skip))})
	})
}

// WebhookDelivery reads the delivery deliveryID of the caller's webhook webhookID, with the
// retries of Get, for example to follow a redelivery. A delivery of another webhook, or of
// another user's, is a *Problem with Status 404.
func (c *Client) WebhookDelivery(ctx context.Context, webhookID uuid.UUID, deliveryID int64) (WebhookDelivery, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.GetWebhookDelivery(ctx, webhookID, deliveryID)
	})
	return decodeTo(r, err, http.StatusOK, toWebhookDelivery)
}

// RedeliverWebhookDelivery queues the event of the delivery deliveryID of the caller's webhook
// webhookID again, to the same endpoint with the same webhook-id (so a receiver that
// deduplicates by it sees the same message), and returns the new delivery, pending. The
// service queues an event at most once at a time per webhook: while a delivery of it is
// pending, this one or a redelivery, it answers a *Problem with Status 409 and type
// "/problems/delivery-pending"; for a disabled webhook, which UpdateWebhook must enable
// first, type "/problems/webhook-disabled". A delivery of another webhook, or of another user's, is a 404.
//
// It is not retried on a connection error. The service keeps no key for a redelivery, so a
// replay of one whose answer was lost would answer 409 while the first redelivery is pending,
// an error for what succeeded, and once it is no longer pending would queue the event yet
// again. After such an error, WebhookDeliveries shows whether a newer delivery of the same
// EventID was queued.
func (c *Client) RedeliverWebhookDelivery(ctx context.Context, webhookID uuid.UUID, deliveryID int64) (WebhookDelivery, error) {
	r, err := c.send(ctx, false, func(ctx context.Context) (*http.Response, error) {
		return c.api.RedeliverWebhookDelivery(ctx, webhookID, deliveryID)
	})
	return decodeTo(r, err, http.StatusAccepted, toWebhookDelivery)
}

// webhookFrom turns an answer carrying a webhook, with or without its secret, into a Webhook,
// or its error.
func webhookFrom(r reply, err error, want int) (Webhook, error) {
	out, err := decodeTo(r, err, want, toWebhook)
	if err != nil {
		return Webhook{}, err
	}
	// Create and rotate answer a WebhookCreated: the webhook and its secret.
	var secret struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(r.body, &secret); err != nil {
		return Webhook{}, fmt.Errorf("bots api: read the webhook's secret: %w", err)
	}
	out.Secret = secret.Secret
	return out, nil
}

// toWebhook converts the generated model at the one boundary where the SDK meets it.
func toWebhook(w gen.Webhook, etag string) Webhook {
	out := Webhook{ID: w.Id, URL: w.Url, Events: w.Events, Enabled: w.Enabled, CreatedAt: w.CreatedAt,
		UpdatedAt: w.UpdatedAt, ETag: etag}
	if d, err := w.Description.Get(); err == nil {
		out.Description = &d
	}
	if t, err := w.FailingSince.Get(); err == nil {
		out.FailingSince = &t
	}
	if t, err := w.DisabledAt.Get(); err == nil {
		out.DisabledAt = &t
	}
	if r, err := w.DisabledReason.Get(); err == nil {
		out.DisabledReason = &r
	}
	return out
}

// toWebhookDelivery converts the generated model at the one boundary where the SDK meets it.
func toWebhookDelivery(d gen.WebhookDelivery, _ string) WebhookDelivery {
	out := WebhookDelivery{ID: d.Id, BotID: d.BotId, EventID: d.EventId, EventType: string(d.EventType),
		State: DeliveryState(d.State), Attempts: d.Attempts, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if s, err := d.LastStatus.Get(); err == nil {
		out.LastStatus = &s
	}
	if e, err := d.LastError.Get(); err == nil {
		out.LastError = e
	}
	if ms, err := d.LatencyMs.Get(); err == nil {
		out.Latency = ptr(time.Duration(ms) * time.Millisecond)
	}
	if t, err := d.NextAttemptAt.Get(); err == nil {
		out.NextAttemptAt = &t
	}
	return out
}
