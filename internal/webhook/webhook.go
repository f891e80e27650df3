// Package webhook registers an owner's endpoints and sends them the events of the owner's
// bots, signed as Standard Webhooks (https://www.standardwebhooks.com/) specifies.
//
// Deliveries are queued in the transaction of the change that records the event: a trigger on
// bot_events (migration 0018_webhooks.sql) writes a webhook_deliveries row and a River job for
// each enabled webhook subscribed to the event's type, so that a committed event always has
// its deliveries and a rolled-back write has none. The job's worker (Worker) sends one
// delivery, retrying with exponential backoff until Config.RetryFor has passed.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/gen/db"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/idempotency"
)

// Errors of the webhook operations.
var (
	// ErrNotFound means no webhook of the caller has this id: it does not exist or is
	// another user's, which the caller cannot tell apart.
	ErrNotFound = errors.New("webhook not found")
	// ErrDeliveryNotFound means the caller has no webhook with this id, or the webhook has no
	// delivery with this id.
	ErrDeliveryNotFound = errors.New("delivery not found")
	// ErrPending means the event is still pending for the webhook, so it is not queued again.
	ErrPending = errors.New("the event is still pending for this webhook")
	// ErrDisabled means the webhook is disabled, so it queues no deliveries.
	ErrDisabled = errors.New("the webhook is disabled")
	// ErrTooMany means the caller has MaxPerUser webhooks already, so a create registers none.
	ErrTooMany = fmt.Errorf("a user may have at most %d webhooks", MaxPerUser)
)

// MaxPerUser is how many webhooks a user may have at once. Every delivery of every webhook
// waits its turn in one queue, so a user with many slow endpoints would hold up everybody's
// deliveries; deleting a webhook frees its place. A user who had more before the limit keeps
// them, and can create one again once fewer than MaxPerUser are left.
const MaxPerUser = 20

// PreconditionError means the webhook's version is not one the caller allowed (If-Match);
// Version is its current version.
type PreconditionError struct{ Version int64 }

func (e *PreconditionError) Error() string { return "webhook has changed" }

// SecretBytes is the length of a signing key: Standard Webhooks asks for 24 to 64 bytes.
const SecretBytes = 32

// secretPrefix starts a secret as Standard Webhooks writes it: whsec_ and the key in base64.
const secretPrefix = "whsec_"

// Webhook is one registered endpoint. Secret is the signing key; only a create shows it.
// FailingSince is when the current run of failed attempts began (nil while the last attempt
// succeeded); DisabledAt and DisabledReason say when and why the worker disabled the webhook
// because that run lasted Config.DisableAfter.
type Webhook struct {
	ID             uuid.UUID
	URL            string
	Events         []string
	Description    *string
	Enabled        bool
	FailingSince   *time.Time
	DisabledAt     *time.Time
	DisabledReason *string
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Secret         []byte
}

// SecretString is the webhook's secret as its owner receives it: whsec_ and the key in base64.
func (w Webhook) SecretString() string {
	return secretPrefix + base64.StdEncoding.EncodeToString(w.Secret)
}

// Page is one page of webhooks and how many there are over all pages.
type Page = bots.PageOf[Webhook]

// CreateParams are the fields of a new webhook.
type CreateParams struct {
	URL         string
	Events      []string
	Description *string
	Enabled     bool
}

// UpdateParams are the fields to change: nil keeps a field, and SetDescription says whether
// Description (nil: none) replaces the description. IfMatch, when not nil, lists the
// versions the webhook may have (If-Match); an empty list allows any.
type UpdateParams struct {
	URL            *string
	Events         []string
	SetDescription bool
	Description    *string
	Enabled        *bool
	IfMatch        *Precondition
}

// Precondition limits a write to some versions of the webhook (If-Match); Any is If-Match: *.
type Precondition struct {
	Any      bool
	Versions []int64
}

// Service implements the webhook operations for one caller at a time.
type Service struct {
	pool   *pgxpool.Pool
	q      *db.Queries
	policy Policy
}

// NewService returns the webhook service on pool; policy says which URLs may be registered.
func NewService(pool *pgxpool.Pool, policy Policy) *Service {
	return &Service{pool: pool, q: db.New(), policy: policy}
}

// Create registers a webhook for the caller, with a fresh secret, unless the caller has
// MaxPerUser webhooks already (ErrTooMany); at most once per
// Idempotency-Key: key ("" for none) and hash (the request's) as idempotency.Once takes them.
// A retry of the request gets the webhook back as it was created, its secret included, and
// replayed true, whatever happened to the webhook since: a deleted webhook, or one whose
// secret was rotated, is still answered as the first answer showed it.
func (s *Service) Create(ctx context.Context, caller uuid.UUID, key string, hash []byte, p CreateParams) (Webhook, bool, error) {
	kept, replayed, err := idempotency.Once(ctx, s.pool, idempotency.Webhooks, caller, key, hash, func(tx pgx.Tx) (keptWebhook, error) {
		if err := s.policy.checkURL(p.URL); err != nil {
			return keptWebhook{}, err
		}
		secret, err := newSecret()
		if err != nil {
			return keptWebhook{}, err
		}
		// The lock serialises the caller's creates, so that concurrent ones cannot together
		// go over MaxPerUser.
		if err := s.q.UserLock(ctx, tx, caller); err != nil {
			return keptWebhook{}, fmt.Errorf("lock the user: %w", err)
		}
		row, err := s.q.WebhookCreate(ctx, tx, db.WebhookCreateParams{
			ID: uuid.New(), Caller: caller, Url: p.URL, Events: p.Events, Description: p.Description,
			Secret: secret, Enabled: p.Enabled, MaxWebhooks: MaxPerUser,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return keptWebhook{}, ErrTooMany
		}
		if err != nil {
			return keptWebhook{}, fmt.Errorf("create webhook: %w", err)
		}
		return keptWebhook(fromDB(row)), nil
	})
	return Webhook(kept), replayed, err
}

// keptWebhook is a Webhook as an idempotency key keeps it, in the JSON of
// idempotency_keys.resource: every field, the secret among them (a replay must show it, as
// the first answer did), times to the nanosecond. It converts to and from Webhook, so the two
// cannot drift.
type keptWebhook struct {
	ID             uuid.UUID  `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Description    *string    `json:"description"`
	Enabled        bool       `json:"enabled"`
	FailingSince   *time.Time `json:"failing_since"`
	DisabledAt     *time.Time `json:"disabled_at"`
	DisabledReason *string    `json:"disabled_reason"`
	Version        int64      `json:"version"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Secret         []byte     `json:"secret"`
}

// RotateSecret gives one of the caller's webhooks a new secret, which signs every attempt
// from then on; the answer is the only place it is shown.
func (s *Service) RotateSecret(ctx context.Context, caller, id uuid.UUID) (Webhook, error) {
	secret, err := newSecret()
	if err != nil {
		return Webhook{}, err
	}
	row, err := s.q.WebhookRotateSecret(ctx, s.pool, db.WebhookRotateSecretParams{ID: id, Caller: caller, Secret: secret})
	if err != nil {
		return Webhook{}, bots.RowError(err, ErrNotFound, "rotate webhook secret")
	}
	return fromDB(row), nil
}

// newSecret is a fresh signing key of SecretBytes random bytes.
func newSecret() ([]byte, error) {
	secret := make([]byte, SecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("make a webhook secret: %w", err)
	}
	return secret, nil
}

// Get returns one of the caller's webhooks, without its secret.
func (s *Service) Get(ctx context.Context, caller, id uuid.UUID) (Webhook, error) {
	row, err := s.q.WebhookGet(ctx, s.pool, db.WebhookGetParams{ID: id, Caller: caller})
	if err != nil {
		return Webhook{}, bots.RowError(err, ErrNotFound, "get webhook")
	}
	return withoutSecret(row), nil
}

// List returns a page of the caller's webhooks, oldest first, without their secrets.
func (s *Service) List(ctx context.Context, caller uuid.UUID, skip, limit int32) (Page, error) {
	return bots.CountedPage(ctx, s.pool, "webhooks", ErrNotFound,
		s.q.WebhookCount, caller,
		s.q.WebhookList, db.WebhookListParams{Caller: caller, Off: skip, Lim: limit},
		withoutSecret)
}

// Update changes one of the caller's webhooks. A new URL ends the webhook's run of failures,
// which was the old endpoint's. Disabling it ends its pending deliveries as failed, in the
// same transaction (see WebhookDeliveryFailDisabled): enabling it again does not resume them.
func (s *Service) Update(ctx context.Context, caller, id uuid.UUID, p UpdateParams) (Webhook, error) {
	if p.URL != nil {
		if err := s.policy.checkURL(*p.URL); err != nil {
			return Webhook{}, err
		}
	}
	check, versions := p.IfMatch.versions()
	row, err := bots.InTx(ctx, s.pool, func(tx pgx.Tx) (db.Webhook, error) {
		row, err := s.q.WebhookUpdate(ctx, tx, db.WebhookUpdateParams{
			ID: id, Caller: caller, Url: p.URL, Events: p.Events, SetDescription: p.SetDescription,
			Description: p.Description, Enabled: p.Enabled, CheckVersion: check, Versions: versions,
		})
		if err != nil || row.Enabled {
			return row, err
		}
		return row, s.q.WebhookDeliveryFailDisabled(ctx, tx, row.ID)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Webhook{}, s.missed(ctx, caller, id)
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("update webhook: %w", err)
	}
	return withoutSecret(row), nil
}

// Delete deletes one of the caller's webhooks with its deliveries.
func (s *Service) Delete(ctx context.Context, caller, id uuid.UUID, ifMatch *Precondition) error {
	check, versions := ifMatch.versions()
	_, err := s.q.WebhookDelete(ctx, s.pool, db.WebhookDeleteParams{ID: id, Caller: caller, CheckVersion: check, Versions: versions})
	if errors.Is(err, pgx.ErrNoRows) {
		return s.missed(ctx, caller, id)
	}
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// Delivery is one event to send to one webhook, and how its sending went so far.
type Delivery struct {
	ID            int64
	BotID         uuid.UUID
	EventID       int64
	EventType     string
	State         string
	Attempts      int32
	LastStatus    *int32
	LastError     *string
	LatencyMs     *int32
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DeliveryPage is one page of a webhook's deliveries and how many there are over all pages.
type DeliveryPage = bots.PageOf[Delivery]

// Deliveries returns a page of the deliveries of one of the caller's webhooks, newest first.
func (s *Service) Deliveries(ctx context.Context, caller, id uuid.UUID, skip, limit int32) (DeliveryPage, error) {
	return bots.CountedPage(ctx, s.pool, "deliveries", ErrNotFound,
		s.q.WebhookDeliveryCount, db.WebhookDeliveryCountParams{WebhookID: id, Caller: caller},
		s.q.WebhookDeliveryList, db.WebhookDeliveryListParams{WebhookID: id, Caller: caller, Off: skip, Lim: limit},
		deliveryFromDB)
}

// Delivery returns one delivery of one of the caller's webhooks.
func (s *Service) Delivery(ctx context.Context, caller, webhookID uuid.UUID, id int64) (Delivery, error) {
	row, err := s.q.WebhookDeliveryGet(ctx, s.pool, db.WebhookDeliveryGetParams{DeliveryID: id, WebhookID: webhookID, Caller: caller})
	if err != nil {
		return Delivery{}, bots.RowError(err, ErrDeliveryNotFound, "get delivery")
	}
	return deliveryFromDB(db.WebhookDeliveryListRow(row)), nil
}

// Redeliver queues the event of one of the caller's webhook's deliveries again, to the same
// webhook, and returns the new delivery. It is the same message, with the same webhook-id.
// The webhook must be enabled (ErrDisabled) and the event not pending for it, by this
// delivery or an earlier redelivery (ErrPending): one pending delivery of an event per
// webhook, so that concurrent redeliveries queue it once.
func (s *Service) Redeliver(ctx context.Context, caller, webhookID uuid.UUID, id int64) (Delivery, error) {
	row, err := bots.InTx(ctx, s.pool, func(tx pgx.Tx) (db.WebhookDeliveryRedeliverRow, error) {
		row, err := s.q.WebhookDeliveryRedeliver(ctx, tx, db.WebhookDeliveryRedeliverParams{DeliveryID: id, WebhookID: webhookID, Caller: caller})
		if err != nil {
			return row, err
		}
		return row, s.q.WebhookQueueWake(ctx, tx)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, s.notRedelivered(ctx, caller, webhookID, id)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("redeliver: %w", err)
	}
	return deliveryFromDB(db.WebhookDeliveryListRow(row)), nil
}

// notRedelivered tells why a redelivery queued nothing: the delivery is not one of the
// caller's webhook's (ErrDeliveryNotFound), the webhook is disabled (ErrDisabled), or else
// the event is pending for it (ErrPending).
func (s *Service) notRedelivered(ctx context.Context, caller, webhookID uuid.UUID, id int64) error {
	enabled, err := s.q.WebhookDeliveryRedeliverMiss(ctx, s.pool, db.WebhookDeliveryRedeliverMissParams{DeliveryID: id, WebhookID: webhookID, Caller: caller})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrDeliveryNotFound
	case err != nil:
		return fmt.Errorf("read delivery: %w", err)
	case !enabled:
		return ErrDisabled
	}
	return ErrPending
}

func deliveryFromDB(r db.WebhookDeliveryListRow) Delivery {
	return Delivery{ID: r.ID, BotID: r.BotID, EventID: r.EventID, EventType: r.EventType, State: string(r.State),
		Attempts: r.Attempts, LastStatus: r.LastStatus, LastError: r.LastError, LatencyMs: r.LastLatencyMs,
		NextAttemptAt: r.NextAttemptAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// missed tells why a conditional write of a webhook matched no row: the webhook is not the
// caller's (ErrNotFound), or its version was not allowed (*PreconditionError).
func (s *Service) missed(ctx context.Context, caller, id uuid.UUID) error {
	version, err := s.q.WebhookVersion(ctx, s.pool, db.WebhookVersionParams{ID: id, Caller: caller})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read webhook version: %w", err)
	}
	return &PreconditionError{Version: version}
}

// versions is the precondition as the conditional writes take it: whether to check the
// version, and the versions allowed.
func (p *Precondition) versions() (bool, []int64) {
	if p == nil || p.Any {
		return false, []int64{}
	}
	return true, append([]int64{}, p.Versions...)
}

func fromDB(r db.Webhook) Webhook {
	return Webhook{ID: r.ID, URL: r.Url, Events: r.Events, Description: r.Description, Enabled: r.Enabled,
		FailingSince: r.FailingSince, DisabledAt: r.DisabledAt, DisabledReason: r.DisabledReason,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Secret: r.Secret}
}

func withoutSecret(r db.Webhook) Webhook {
	w := fromDB(r)
	w.Secret = nil
	return w
}

// Policy says which endpoints webhooks may send to. The zero value is production's: https
// only, and never to an address Forbidden names.
type Policy struct {
	// AllowHTTP lets webhooks use plain http URLs (WEBHOOK_ALLOW_HTTP).
	AllowHTTP bool
	// AllowPrivate lets webhooks reach the addresses Forbidden names (WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
}

// checkURL refuses a URL that is not absolute http(s), not https unless AllowHTTP, whose
// port is outside 1-65535 (no connection could ever be made), or whose host is a literal
// address Forbidden names unless AllowPrivate. A host name is resolved, and
// its addresses checked, at every delivery instead: what it resolves to can change.
func (p Policy) checkURL(raw string) error {
	invalid := func(msg string) error {
		return &bots.ValidationError{Fields: []bots.FieldError{{Field: "url", Message: msg}}}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" || u.Opaque != "" {
		return invalid("must be an absolute URL, such as https://hooks.example.com/chatsphere")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	default:
		return invalid("must be an https URL")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalid("must have a port from 1 to 65535, or none for the scheme's own")
		}
	}
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil && !p.AllowPrivate && Forbidden(addr) {
		return invalid("must not point at an address that is " + nonPublic)
	}
	return nil
}
