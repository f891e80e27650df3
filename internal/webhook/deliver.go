package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/gen/db"
)

// QueueName is the River queue of deliveries; the trigger that queues them names it too.
const QueueName = "webhooks"

// Args is the job of one delivery. The trigger bot_events_webhook (migration
// 0018_webhooks.sql) inserts these jobs with this kind, queue and JSON.
type Args struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "webhook_delivery" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueName} }

// Config tunes the deliveries; config.Load reads it, with its defaults, from the environment.
type Config struct {
	// Workers is how many deliveries this process sends at once; 0: none.
	Workers int
	// RetryFor is how long after its event a failing delivery is retried before it fails.
	RetryFor time.Duration
	// RetryBackoff is about the wait before the second attempt; it doubles with each attempt,
	// up to MaxBackoff, each wait varied by up to a quarter either way (jitter).
	RetryBackoff time.Duration
	// DisableAfter is how long every attempt to reach an endpoint may fail before the next
	// failed attempt disables its webhook (WEBHOOK_DISABLE_AFTER); 0: never.
	DisableAfter time.Duration
	// Policy says which endpoints may be registered and reached.
	Policy Policy
}

// MaxBackoff is the longest wait between two attempts of a delivery.
const MaxBackoff = time.Hour

// keptAnswer is how much of a failed answer's body a delivery keeps.
const keptAnswer = 1024

// Worker sends deliveries; the service's River client works it (training.AlsoWorks), on
// QueueName.
type Worker struct {
	river.WorkerDefaults[Args]
	pool   *pgxpool.Pool
	q      *db.Queries
	cfg    Config
	client *http.Client
	logger *slog.Logger
}

// NewWorker returns the worker of deliveries on pool.
func NewWorker(pool *pgxpool.Pool, cfg Config, logger *slog.Logger) *Worker {
	return &Worker{pool: pool, q: db.New(), cfg: cfg, client: newClient(cfg.Policy.AllowPrivate, cfg.Workers), logger: logger}
}

// Work sends one delivery and records the attempt. A delivery whose webhook or bot is gone,
// or that is no longer pending, is dropped; a failed attempt is retried (an error to River)
// at NextRetry; one made once RetryFor has passed since the delivery was queued fails it. An
// attempt that the process cut off itself (ctx cancelled: a stop that ran out of time) is no
// failure of the endpoint: it is made again later and not recorded as an attempt.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	d, err := w.q.WebhookDeliveryForSending(ctx, w.pool, job.Args.DeliveryID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read delivery: %w", err)
	}
	if d.State != db.WebhookDeliveryStatePending {
		return nil
	}
	if !d.Enabled { // disabled by a write that did not end its deliveries
		msg := "not sent: the webhook was disabled"
		return w.notSent(ctx, db.WebhookDeliveryNotSentParams{ID: job.Args.DeliveryID, State: db.WebhookDeliveryStateFailed, LastError: &msg})
	}
	body, err := eventJSON(event{ID: d.EventID, BotID: d.BotID, Type: d.Type, Actor: d.Actor,
		RequestID: d.RequestID, CreatedAt: d.CreatedAt, Data: d.Data})
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}

	start := time.Now()
	secrets := [][]byte{d.Secret}
	if d.PreviousSecret != nil { // rotated within 24 hours: both sign
		secrets = append(secrets, d.PreviousSecret)
	}
	status, failure := w.send(ctx, d.Url, secrets, messageID(d.EventID), body)
	latency := int32(time.Since(start).Milliseconds())
	ok := failure == ""
	if !ok && errors.Is(ctx.Err(), context.Canceled) {
		next := w.NextRetry(job)
		if err := w.notSent(ctx, db.WebhookDeliveryNotSentParams{ID: job.Args.DeliveryID, State: db.WebhookDeliveryStatePending, NextAttemptAt: &next}); err != nil {
			return err
		}
		return fmt.Errorf("attempt cut off as the process stops: %w", context.Cause(ctx))
	}
	rec := db.WebhookDeliveryRecordParams{State: db.WebhookDeliveryStateDelivered, LatencyMs: &latency, EndpointOk: &ok,
		Attempts: d.Attempts, AttemptedAt: start}
	if status != 0 {
		s := int32(status)
		rec.LastStatus = &s
	}
	if ok {
		_, err := w.record(ctx, job.Args.DeliveryID, rec)
		return err
	}
	rec.LastError = &failure
	if job.Attempt >= job.MaxAttempts || !time.Now().Before(d.QueuedAt.Add(w.cfg.RetryFor)) {
		rec.State = db.WebhookDeliveryStateFailed
		if _, err := w.record(ctx, job.Args.DeliveryID, rec); err != nil {
			return err
		}
		return river.JobCancel(fmt.Errorf("delivery failed after %d attempts: %s", job.Attempt, failure))
	}
	next := w.NextRetry(job)
	rec.State = db.WebhookDeliveryStatePending
	rec.NextAttemptAt = &next
	enabled, err := w.record(ctx, job.Args.DeliveryID, rec)
	if err != nil {
		return err
	}
	if !enabled { // disabled, by this attempt or while it was on its way; record ended the delivery
		return river.JobCancel(fmt.Errorf("webhook disabled after this attempt: %s", failure))
	}
	return errors.New(failure)
}

// recordTimeout bounds the writes that record how a job went, which run even when the job's
// context is done.
const recordTimeout = 5 * time.Second

// notSent records that a delivery was not sent this time (see WebhookDeliveryNotSent), even
// when the job's context is done.
func (w *Worker) notSent(ctx context.Context, p db.WebhookDeliveryNotSentParams) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := w.q.WebhookDeliveryNotSent(ctx, w.pool, p); err != nil {
		return fmt.Errorf("record delivery not sent: %w", err)
	}
	return nil
}

// record stores an attempt's outcome, even when the attempt used up the job's time, with
// what it says of the endpoint (see WebhookDeliveryRecord), and answers whether the webhook
// is still enabled. When it is not, the webhook's pending deliveries, this one among them,
// end as failed in the same transaction, with the reason.
func (w *Worker) record(ctx context.Context, id int64, rec db.WebhookDeliveryRecordParams) (enabled bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	rec.ID = id
	rec.DisableAfterSeconds = w.cfg.DisableAfter.Seconds()
	err = pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		row, err := w.q.WebhookDeliveryRecord(ctx, tx, rec)
		if errors.Is(err, pgx.ErrNoRows) { // changed since the attempt began: nothing recorded
			enabled = true
			return nil
		}
		if err != nil {
			return err
		}
		if enabled = row.Enabled; !enabled {
			return w.q.WebhookDeliveryFailDisabled(ctx, tx, row.WebhookID)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record delivery attempt: %w", err)
	}
	return enabled, nil
}

// send posts body to url, signed with each of secrets (space-separated signatures, as
// Standard Webhooks has it during a rotation); it returns the answer's status (0 without one)
// and, for a failed attempt, why it failed: the error, or the status and the start of the
// answer, if it had one.
func (w *Worker) send(ctx context.Context, url string, secrets [][]byte, id string, body []byte) (int, string) {
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ChatSphere-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", timestamp)
	signatures := make([]string, len(secrets))
	for i, secret := range secrets {
		signatures[i] = Sign(secret, id, timestamp, body)
	}
	req.Header.Set("webhook-signature", strings.Join(signatures, " "))
	res, err := w.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	kept, _ := io.ReadAll(io.LimitReader(res.Body, keptAnswer))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, ""
	}
	why := fmt.Sprintf("the endpoint answered %d", res.StatusCode)
	if answer := strings.ToValidUTF8(strings.ReplaceAll(string(kept), "\x00", ""), "\uFFFD"); answer != "" {
		why += ": " + answer
	}
	return res.StatusCode, why
}

// NextRetry implements river.Worker: the delivery's next attempt, as Work records it. It is
// the backoff's, but never later than RetryFor after the delivery was queued, so that the
// last attempt is made when RetryFor ends (an attempt then that fails is the last). The job
// was inserted in the transaction that queued the delivery, so its CreatedAt is the
// delivery's created_at.
func (w *Worker) NextRetry(job *river.Job[Args]) time.Time {
	next := time.Now().Add(w.backoff(job.ID, job.Attempt))
	if deadline := job.CreatedAt.Add(w.cfg.RetryFor); next.After(deadline) {
		return deadline
	}
	return next
}

// Timeout implements river.Worker: one attempt, and the reads and writes around it.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return RequestTimeout + 10*time.Second }

// backoff is the wait after a job's attempt failed: RetryBackoff doubled per earlier attempt,
// at most MaxBackoff, times a jitter between 0.75 and 1.25. The jitter is drawn from the job
// and the attempt, so that Work (which records it) and NextRetry (which schedules it) agree.
func (w *Worker) backoff(job int64, attempt int) time.Duration {
	wait := min(float64(w.cfg.RetryBackoff)*math.Pow(2, float64(max(attempt-1, 0))), float64(MaxBackoff))
	h := fnv.New64a()
	_ = binary.Write(h, binary.LittleEndian, [2]int64{job, int64(attempt)})
	jitter := 0.75 + 0.5*float64(h.Sum64()>>11)/float64(1<<53)
	return time.Duration(wait * jitter)
}

// event is a bot's event as deliveries send it.
type event struct {
	ID        int64
	BotID     uuid.UUID
	Type      string
	Actor     string
	RequestID *string
	CreatedAt time.Time
	Data      json.RawMessage
}

// eventJSON is the body of a delivery of e: the event byte for byte as
// GET /api/v1/bots/{bot_id}/events shows it. It is encoded from the same generated type
// (api.BotEvent), as the API encodes it (with encoding/json's HTML escaping, which also
// escapes U+2028 and U+2029), and then, as the API's writer does on the way out
// (httpapi.jsonWriter), with \u003c, \u003e and \u0026 written as <, > and &.
func eventJSON(e event) ([]byte, error) {
	out := api.BotEvent{Id: e.ID, BotId: e.BotID, Type: api.BotEventType(e.Type), Actor: e.Actor,
		CreatedAt: e.CreatedAt, Data: e.Data}
	out.RequestId.SetNull()
	if e.RequestID != nil {
		out.RequestId.Set(*e.RequestID)
	}
	escaped, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return unescapeHTML(escaped), nil
}

// htmlEscapes are the escapes of encoding/json's HTML escaping that the API undoes.
var htmlEscapes = map[string]byte{`\u003c`: '<', `\u003e`: '>', `\u0026`: '&'}

// unescapeHTML is src, a JSON document, with the escapes of htmlEscapes written as their
// characters. Only escapes are rewritten: an escaped backslash followed by u003c stays.
func unescapeHTML(src []byte) []byte {
	dst := make([]byte, 0, len(src))
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '\\')
		if j < 0 || i+j+1 == len(src) {
			return append(dst, src[i:]...)
		}
		dst, i = append(dst, src[i:i+j]...), i+j
		if c, ok := htmlEscapes[string(src[i:min(i+6, len(src))])]; ok {
			dst, i = append(dst, c), i+6
			continue
		}
		dst, i = append(dst, src[i], src[i+1]), i+2
	}
	return dst
}

// messageID is the webhook-id of the deliveries of an event: the same for every attempt and
// every endpoint, so that a receiver can drop what it already has.
func messageID(eventID int64) string { return "evt_" + strconv.FormatInt(eventID, 10) }

// Sign is the webhook-signature of a message, as Standard Webhooks specifies: v1, and the
// base64 of the HMAC-SHA256, keyed with the secret, of "id.timestamp.body".
func Sign(secret []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
