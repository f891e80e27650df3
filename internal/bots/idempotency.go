package bots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/db"
)

// IdempotencyTTL is how long the response to a request with an Idempotency-Key is replayed.
const IdempotencyTTL = 24 * time.Hour

// Errors of idempotent requests.
var (
	// ErrKeyInFlight means another request with the same key has not finished yet.
	ErrKeyInFlight = errors.New("a request with this idempotency key is still in progress")
	// ErrKeyReused means the key was first used for a different request.
	ErrKeyReused = errors.New("this idempotency key was used for a different request")
)

// Replay is a response stored under an idempotency key.
type Replay struct {
	Status   int
	Body     []byte
	Location string
	ETag     string
}

// Idempotent runs fn at most once per user and key within IdempotencyTTL. fn's response is
// stored in fn's own transaction, together with whatever fn wrote, so that a retry of the
// same request (same hash) gets it back, replayed, without fn running again. A retry while
// the first request runs gets ErrKeyInFlight; the key used with another request hash gets
// ErrKeyReused. When fn fails, nothing is stored and a retry runs fn afresh. Without a key,
// fn simply runs in a transaction.
func (s *Service) Idempotent(ctx context.Context, user uuid.UUID, key string, hash []byte, fn func(tx pgx.Tx) (Replay, error)) (out Replay, replayed bool, err error) {
	if key == "" {
		out, err = InTx(ctx, s.pool, fn)
		return out, false, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		locked, err := s.q.IdempotencyTryLock(ctx, tx, db.IdempotencyTryLockParams{UserID: user, Key: key})
		if err != nil {
			return fmt.Errorf("lock idempotency key: %w", err)
		}
		if !locked {
			return ErrKeyInFlight
		}
		stored, err := s.q.IdempotencyGet(ctx, tx, db.IdempotencyGetParams{
			UserID: user, Key: key, TtlSeconds: IdempotencyTTL.Seconds(),
		})
		switch {
		case err == nil && !bytes.Equal(stored.RequestHash, hash):
			return ErrKeyReused
		case err == nil:
			out, replayed = Replay{
				Status: int(stored.ResponseStatus), Body: stored.ResponseBody,
				Location: deref(stored.Location), ETag: deref(stored.Etag),
			}, true
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read idempotency key: %w", err)
		}
		if out, err = fn(tx); err != nil {
			return err
		}
		return s.q.IdempotencyPut(ctx, tx, db.IdempotencyPutParams{
			UserID: user, Key: key, RequestHash: hash,
			ResponseStatus: int32(out.Status), ResponseBody: out.Body,
			Location: nonEmpty(out.Location), Etag: nonEmpty(out.ETag),
		})
	})
	return out, replayed, err
}

// PurgeIdempotencyKeys deletes the keys older than IdempotencyTTL, which retries no longer
// get back. The periodic purge job (training.PurgeArgs) runs it.
func (s *Service) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	n, err := s.q.IdempotencyPurge(ctx, s.pool, IdempotencyTTL.Seconds())
	if err != nil {
		return n, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
