// Package idempotency makes creates safe to retry: a request with an Idempotency-Key (IETF
// draft "The Idempotency-Key HTTP Header Field") creates at most once per user, scope and key,
// and its retries get what it created back. It is the one home of the rule for every create
// that takes the header (bots, webhooks); the table is idempotency_keys.
package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/gen/db"
)

// TTL is how long what a request with an Idempotency-Key created is handed back to retries
// of that request.
const TTL = 24 * time.Hour

// Scope is the kind of resource a key's request creates. Each scope has keys of its own, so
// that one key used to create a bot and then a webhook creates both and replays neither as
// the other (idempotency_keys.scope lists them).
type Scope string

// The scopes of the creates that take an Idempotency-Key.
const (
	Bots     Scope = "bot"
	Webhooks Scope = "webhook"
)

// Errors of idempotent requests.
var (
	// ErrKeyInFlight means another request with the same key has not finished yet.
	ErrKeyInFlight = errors.New("a request with this idempotency key is still in progress")
	// ErrKeyReused means the key was first used for a different request.
	ErrKeyReused = errors.New("this idempotency key was used for a different request")
)

// Once runs create at most once per user, scope and key within TTL. What create made (T,
// encoded as JSON: give T JSON tags for every field a replay must show) is kept under the key
// in create's own transaction, together with whatever create wrote and the hash of the
// request, so that a retry of the same request (same hash) gets it back, replayed, as it was
// created and without create running again. A retry while the first request runs gets
// ErrKeyInFlight; the key used with another request hash gets ErrKeyReused. When create
// fails, nothing is kept and a retry runs create afresh. Without a key, create simply runs in
// a transaction.
func Once[T any](ctx context.Context, pool *pgxpool.Pool, scope Scope, user uuid.UUID, key string, hash []byte, create func(tx pgx.Tx) (T, error)) (made T, replayed bool, err error) {
	q := db.New()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if key == "" {
			made, err = create(tx)
			return err
		}
		locked, err := q.IdempotencyTryLock(ctx, tx, db.IdempotencyTryLockParams{UserID: user, Scope: string(scope), Key: key})
		if err != nil {
			return fmt.Errorf("lock idempotency key: %w", err)
		}
		if !locked {
			return ErrKeyInFlight
		}
		stored, err := q.IdempotencyGet(ctx, tx, db.IdempotencyGetParams{
			UserID: user, Scope: string(scope), Key: key, TtlSeconds: TTL.Seconds(),
		})
		switch {
		case err == nil && !bytes.Equal(stored.RequestHash, hash):
			return ErrKeyReused
		case err == nil:
			if err := json.Unmarshal(stored.Resource, &made); err != nil {
				return fmt.Errorf("read what an idempotency key kept: %w", err)
			}
			replayed = true
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read idempotency key: %w", err)
		}
		if made, err = create(tx); err != nil {
			return err
		}
		kept, err := json.Marshal(made)
		if err != nil {
			return fmt.Errorf("keep what a request created under its idempotency key: %w", err)
		}
		return q.IdempotencyPut(ctx, tx, db.IdempotencyPutParams{
			UserID: user, Scope: string(scope), Key: key, RequestHash: hash, Resource: kept,
		})
	})
	return made, replayed, err
}

// Purge deletes the keys older than TTL, which retries no longer get back. The periodic
// purge job (training.PurgeArgs) runs it.
func Purge(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	n, err := db.New().IdempotencyPurge(ctx, pool, TTL.Seconds())
	if err != nil {
		return n, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
