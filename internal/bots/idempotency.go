package bots

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/db"
)

// IdempotencyTTL is how long the bot created by a request with an Idempotency-Key is
// handed back to retries of that request.
const IdempotencyTTL = 24 * time.Hour

// Errors of idempotent requests.
var (
	// ErrKeyInFlight means another request with the same key has not finished yet.
	ErrKeyInFlight = errors.New("a request with this idempotency key is still in progress")
	// ErrKeyReused means the key was first used for a different request.
	ErrKeyReused = errors.New("this idempotency key was used for a different request")
)

// Idempotent runs create at most once per user and key within IdempotencyTTL. The bot create
// made is kept under the key in create's own transaction, together with whatever create
// wrote and the hash of the request, so that a retry of the same request (same hash) gets
// that bot back, replayed, as it was created and without create running again. A retry
// while the first request runs gets ErrKeyInFlight; the key used with another request hash
// gets ErrKeyReused. When create fails, nothing is kept and a retry runs create afresh.
// Without a key, create simply runs in a transaction.
func (s *Service) Idempotent(ctx context.Context, user uuid.UUID, key string, hash []byte, create func(tx pgx.Tx) (Bot, error)) (bot Bot, replayed bool, err error) {
	if key == "" {
		bot, err = InTx(ctx, s.pool, create)
		return bot, false, err
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
			var kept keptBot
			if err := json.Unmarshal(stored.Bot, &kept); err != nil {
				return fmt.Errorf("read the bot kept under an idempotency key: %w", err)
			}
			bot, replayed = Bot(kept), true
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("read idempotency key: %w", err)
		}
		if bot, err = create(tx); err != nil {
			return err
		}
		kept, err := json.Marshal(keptBot(bot))
		if err != nil {
			return fmt.Errorf("keep the bot under an idempotency key: %w", err)
		}
		return s.q.IdempotencyPut(ctx, tx, db.IdempotencyPutParams{UserID: user, Key: key, RequestHash: hash, Bot: kept})
	})
	return bot, replayed, err
}

// keptBot is a Bot as an idempotency key keeps it, in the JSON of idempotency_keys.bot: every
// field, times to the nanosecond and with their offset, so that a replay shows the bot
// exactly as the first answer did. It converts to and from Bot, so the two cannot drift.
type keptBot struct {
	ID      uuid.UUID `json:"id"`
	OwnerID uuid.UUID `json:"owner_id"`
	Settings
	Status        Status    `json:"status"`
	StatusMessage *string   `json:"status_message"`
	Version       int64     `json:"version"`
	ConfigVersion int32     `json:"config_version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
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
