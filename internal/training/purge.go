package training

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatsphere/bots/internal/bots"
)

// PurgeArgs is the periodic job that deletes for good what is past keeping: bots deleted
// longer ago than the retention, and expired idempotency keys.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "purge" }

// InsertOpts implements river.JobArgsWithInsertOpts: one purge at a time is enough.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueName, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	svc       func() *bots.Service
	retention time.Duration
	logger    *slog.Logger
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	bots, err := w.svc().PurgeDeleted(ctx, w.retention)
	if err != nil {
		return err
	}
	keys, err := w.svc().PurgeIdempotencyKeys(ctx)
	if err != nil {
		return err
	}
	w.logger.Info("purged", slog.Int64("deleted_bots", bots), slog.Int64("idempotency_keys", keys))
	return nil
}
