package training

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/chatsphere/bots/internal/bots"
)

// PurgeArgs is the periodic job that deletes for good what is past keeping: bots deleted
// longer ago than the retention (bots.Service.PurgeDeleted), and idempotency keys older than
// idempotency.TTL (bots.Service.PurgeIdempotencyKeys). It also puts in error the bots
// whose last training attempt a crash cut short (bots.Service.FailAbandonedTrainings). It
// runs every PurgeInterval on the River leader, on the training queue's workers.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "purge" }

// InsertOpts implements river.JobArgsWithInsertOpts: one purge at a time is enough, so a
// purge is not queued while another waits or runs; a finished one does not hold back the
// next, which comes PurgeInterval later however short that is.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueName, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	}}}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	svc       func() *bots.Service
	retention time.Duration
	logger    *slog.Logger
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	deletedBots, err := w.svc().PurgeDeleted(ctx, w.retention)
	if err != nil {
		return err
	}
	expiredKeys, err := w.svc().PurgeIdempotencyKeys(ctx)
	if err != nil {
		return err
	}
	abandoned, err := w.svc().FailAbandonedTrainings(ctx)
	if err != nil {
		return err
	}
	w.logger.Info("purged", slog.Int64("deleted_bots", deletedBots), slog.Int64("idempotency_keys", expiredKeys),
		slog.Int64("abandoned_trainings", abandoned))
	return nil
}
