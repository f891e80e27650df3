package bots

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/gen/db"
)

// InTx runs fn in a transaction and commits only if fn succeeds.
//
// A transaction that writes a bot, or its versions, aliases or events, locks the bot's row
// first, in a statement of its own (lockBot; the training worker's VersionLockBot), and only
// then reads or writes anything else of the bot: the lock order that sql/queries/bots.sql
// states under "Lock order". A write that locks the bot inside the statement that updates it
// can deadlock with other writers of the bot.
//
// A deadlock is not retried: with one lock order there is none to retry, and a retry would
// hide a write that breaks the order.
func InTx[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, error)) (T, error) {
	var out T
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// lockBot locks the caller's bot id, deleted or not, until tx ends: the first statement of
// every transaction that writes it. A bot that is not the caller's is not locked, and the
// write that follows misses it.
func (s *Service) lockBot(ctx context.Context, tx pgx.Tx, caller, id uuid.UUID) error {
	if err := s.q.BotLock(ctx, tx, db.BotLockParams{ID: id, Caller: caller}); err != nil {
		return fmt.Errorf("lock bot: %w", err)
	}
	return nil
}
