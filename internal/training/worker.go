package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/chatsphere/bots/internal/bots"
)

// QueueName is the River queue of training jobs.
const QueueName = "training"

// Args is the training job of one version of a bot.
type Args struct {
	BotID  uuid.UUID `json:"bot_id"`
	Number int32     `json:"number"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "train_bot" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueName} }

// Config tunes the training jobs; config.Load reads it, with its defaults, from the
// environment.
type Config struct {
	// Workers is how many jobs this process works at once; 0 means it only queues jobs.
	Workers int
	// MaxAttempts is how often a job runs before its bot goes to error.
	MaxAttempts int
	// RetryBackoff is the wait before the second attempt; it doubles with each attempt.
	RetryBackoff time.Duration
	// JobTimeout bounds one attempt.
	JobTimeout time.Duration
	// RescueAfter is when a job left running by a crashed process is run again.
	RescueAfter time.Duration
	// MinDuration is the least time a training takes (0 in production); it makes the
	// training status observable in demonstrations and crash tests.
	MinDuration time.Duration
	// DeletedRetention is how long a deleted bot can be restored before it is purged.
	DeletedRetention time.Duration
	// PurgeInterval is how often the purge runs (on one worker process at a time).
	PurgeInterval time.Duration
}

// worker works training jobs with a Trainer.
type worker struct {
	river.WorkerDefaults[Args]
	svc     *bots.Service
	trainer Trainer
	cfg     Config
	logger  *slog.Logger
}

// Work trains the job's version, unless it is no longer in training, and records the
// outcome.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	bot, current, err := w.svc.TrainingTarget(ctx, job.Args.BotID, job.Args.Number)
	if err != nil {
		return err
	}
	if !current {
		w.logger.Debug("training job with nothing to train dropped", slog.String("bot_id", job.Args.BotID.String()), slog.Int("version", int(job.Args.Number)))
		return nil
	}
	if w.cfg.MinDuration > 0 {
		select {
		case <-time.After(w.cfg.MinDuration):
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	prepared, err := w.trainer.Prepare(ctx, bot)
	var outcome bots.Outcome
	switch {
	case IsConfigError(err):
		msg := err.Error()
		outcome = bots.Outcome{Status: bots.StatusError, Message: &msg}
	case err != nil:
		// River retries after NextRetry; after the last attempt, lastAttempt puts the bot in
		// error.
		return err
	default:
		raw, err := json.Marshal(prepared)
		if err != nil {
			return fmt.Errorf("encode prepared configuration: %w", err)
		}
		outcome = bots.Outcome{Status: bots.StatusActive, Prepared: raw}
	}
	recorded, err := w.svc.FinishTraining(ctx, job.Args.BotID, job.Args.Number, outcome)
	if err != nil {
		return err
	}
	w.logger.Info("training finished", slog.String("bot_id", job.Args.BotID.String()),
		slog.Int("version", int(job.Args.Number)), slog.String("status", string(outcome.Status)),
		slog.Bool("recorded", recorded), slog.Int("attempt", job.Attempt))
	return nil
}

// lastAttempt is the River error handler that ends a training whose last attempt failed,
// however it failed: an error, a timeout or a panic. River calls it after each failed attempt,
// with a context that outlives the attempt's timeout, so the bot is put in error like any
// final failure instead of staying in training once River discards the job.
type lastAttempt struct{ w *worker }

// HandleError implements river.ErrorHandler.
func (h lastAttempt) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	reason := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		reason = fmt.Sprintf("it took longer than %s", h.w.cfg.JobTimeout)
	}
	h.fail(ctx, job, reason)
	return nil
}

// HandlePanic implements river.ErrorHandler.
func (h lastAttempt) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	// The client works webhook deliveries too: the message names the job's kind.
	h.w.logger.LogAttrs(ctx, slog.LevelError, "job panicked", slog.String("kind", job.Kind), slog.Int64("job_id", job.ID),
		slog.Int("attempt", job.Attempt), slog.String("panic", fmt.Sprint(panicVal)), slog.String("trace", trace))
	h.fail(ctx, job, fmt.Sprintf("panic: %v", panicVal))
	return nil
}

// fail puts the bot of a training job in error when the job has used up its attempts.
func (h lastAttempt) fail(ctx context.Context, job *rivertype.JobRow, reason string) {
	if job.Kind != (Args{}).Kind() || job.Attempt < job.MaxAttempts {
		return
	}
	var args Args
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
		h.w.logger.LogAttrs(ctx, slog.LevelError, "decode failed training job", slog.Int64("job_id", job.ID), slog.String("error", err.Error()))
		return
	}
	msg := bots.TrainingFailedMessage(job.Attempt, reason)
	recorded, err := h.w.svc.FinishTraining(ctx, args.BotID, args.Number, bots.Outcome{Status: bots.StatusError, Message: &msg})
	if err != nil {
		h.w.logger.LogAttrs(ctx, slog.LevelError, "record failed training", slog.String("bot_id", args.BotID.String()), slog.String("error", err.Error()))
		return
	}
	h.w.logger.Info("training failed", slog.String("bot_id", args.BotID.String()),
		slog.Int("version", int(args.Number)), slog.Bool("recorded", recorded), slog.Int("attempt", job.Attempt))
}

// NextRetry backs off exponentially from RetryBackoff, up to a minute.
func (w *worker) NextRetry(job *river.Job[Args]) time.Time {
	wait := time.Duration(float64(w.cfg.RetryBackoff) * math.Pow(2, float64(job.Attempt-1)))
	return time.Now().Add(min(wait, time.Minute))
}

// Timeout bounds one attempt.
func (w *worker) Timeout(*river.Job[Args]) time.Duration { return w.cfg.JobTimeout }

// Client is the River client of the service: it queues training jobs in the callers'
// transactions and, when configured with workers, works them.
type Client struct {
	river  *river.Client[pgx.Tx]
	worker *worker
	cfg    Config
	insert *river.InsertOpts // the queue of the trainings this client queues
	works  bool              // whether the client works any queue
}

var _ bots.TrainingQueue = (*Client)(nil)

// Option changes how NewClient builds a client.
type Option func(*options)

type options struct {
	queue      string
	middleware []rivertype.Middleware
	also       []alsoWorked
}

// alsoWorked is a kind of job other than training that the client works.
type alsoWorked struct {
	queue   string
	workers int
	add     func(*river.Workers) error
}

// AlsoWorks makes the client work another kind of job, on its own queue with workers at once
// (0: the client only knows the kind). The service has one River client for all its jobs:
// River's maintenance, such as the rescue of jobs a crash left running, runs on one client
// of the database, which must know every kind of job to handle it.
func AlsoWorks[T river.JobArgs](queue string, workers int, worker river.Worker[T]) Option {
	return func(o *options) {
		o.also = append(o.also, alsoWorked{queue: queue, workers: workers, add: func(ws *river.Workers) error {
			return river.AddWorkerSafely(ws, worker)
		}})
	}
}

// WithMiddleware runs River middleware around every job the client queues and works (in
// order, the first outermost), such as tracing's.
func WithMiddleware(mw ...rivertype.Middleware) Option {
	return func(o *options) { o.middleware = append(o.middleware, mw...) }
}

// OnQueue puts the trainings the client queues, and the ones it works, on queue instead of
// QueueName, so that clients on different queues share a database without working each
// other's trainings (each on its own pool, for example). Purges stay on QueueName.
func OnQueue(queue string) Option { return func(o *options) { o.queue = queue } }

// NewClient builds the River client on pool. The bot service that training reports to is
// given to Start, since the service itself queues through this client.
func NewClient(pool *pgxpool.Pool, trainer Trainer, cfg Config, logger *slog.Logger, opts ...Option) (*Client, error) {
	o := options{queue: QueueName}
	for _, opt := range opts {
		opt(&o)
	}
	w := &worker{trainer: trainer, cfg: cfg, logger: logger}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, err
	}
	purge := &purgeWorker{svc: func() *bots.Service { return w.svc }, retention: cfg.DeletedRetention, logger: logger}
	if err := river.AddWorkerSafely(workers, purge); err != nil {
		return nil, err
	}
	for _, a := range o.also {
		if err := a.add(workers); err != nil {
			return nil, err
		}
	}
	rc := &river.Config{
		Workers:              workers,
		ErrorHandler:         lastAttempt{w},
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// River fetches at most as many jobs as it has free workers, at most once per
		// FetchCooldown (100 ms by default): 40 trainings a second for 4 workers, fewer than
		// the creates one server answers, so the backlog grew under load. At 10 ms a server
		// keeps up; with nothing queued, River fetches only when notified or polling.
		FetchCooldown: 10 * time.Millisecond,
		Logger:        slog.New(warnings{logger.Handler()}).With(slog.String("component", "jobs")),
		Middleware:    o.middleware,
	}
	queues := map[string]river.QueueConfig{}
	for _, a := range o.also {
		if a.workers > 0 {
			queues[a.queue] = river.QueueConfig{MaxWorkers: a.workers}
		}
	}
	if cfg.Workers > 0 {
		queues[o.queue] = river.QueueConfig{MaxWorkers: cfg.Workers}
		if cfg.PurgeInterval > 0 {
			// Periodic jobs run on the elected leader only, whichever process that is.
			rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
				river.PeriodicInterval(cfg.PurgeInterval),
				func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true},
			)}
		}
	}
	if len(queues) > 0 {
		rc.Queues = queues
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("create the job client: %w", err)
	}
	return &Client{river: client, worker: w, cfg: cfg, insert: &river.InsertOpts{Queue: o.queue}, works: len(queues) > 0}, nil
}

// QueueTraining implements bots.TrainingQueue.
func (c *Client) QueueTraining(ctx context.Context, tx pgx.Tx, bot uuid.UUID, number int32) error {
	_, err := c.river.InsertTx(ctx, tx, Args{BotID: bot, Number: number}, c.insert)
	return err
}

// Start starts working jobs for svc when the client has workers; it returns at once.
func (c *Client) Start(ctx context.Context, svc *bots.Service) error {
	if !c.works {
		return nil
	}
	c.worker.svc = svc
	return c.river.Start(ctx)
}

// Stop stops fetching jobs and waits for the running ones to finish, until ctx ends; jobs
// still running then are left for another process to rescue.
func (c *Client) Stop(ctx context.Context) error {
	if !c.works {
		return nil
	}
	return c.river.Stop(ctx)
}

// warnings passes on only warnings and errors: the job queue reports its routine work at
// info level, which would drown the request logs.
type warnings struct{ slog.Handler }

func (h warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnings{h.Handler.WithAttrs(attrs)}
}

func (h warnings) WithGroup(name string) slog.Handler {
	return warnings{h.Handler.WithGroup(name)}
}
