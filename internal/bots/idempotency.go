package bots

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/internal/idempotency"
)

// Idempotent runs create at most once per user and Idempotency-Key (see idempotency.Once),
// keeping the bot it made as keptBot, so that a replay shows the bot exactly as the first
// answer did, whatever happened to it since.
func (s *Service) Idempotent(ctx context.Context, user uuid.UUID, key string, hash []byte, create func(tx pgx.Tx) (Bot, error)) (Bot, bool, error) {
	kept, replayed, err := idempotency.Once(ctx, s.pool, idempotency.Bots, user, key, hash, func(tx pgx.Tx) (keptBot, error) {
		bot, err := create(tx)
		return keptBot(bot), err
	})
	return Bot(kept), replayed, err
}

// keptBot is a Bot as an idempotency key keeps it, in the JSON of idempotency_keys.resource: every
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

// PurgeIdempotencyKeys deletes the idempotency keys of every scope older than
// idempotency.TTL. The periodic purge job (training.PurgeArgs) runs it.
func (s *Service) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	return idempotency.Purge(ctx, s.pool)
}
