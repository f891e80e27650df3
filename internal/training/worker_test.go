package training_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/training"
)

// env is a fresh database whose training jobs are worked, and the bot service on it.
type env struct {
	pool *pgxpool.Pool
	svc  *bots.Service
}

// setup works training jobs with trainer on a fresh database.
func setup(t *testing.T, trainer training.Trainer, cfg training.Config) env {
	t.Helper()
	pool := dbtest.Pool(t)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	jobs, err := training.NewClient(pool, trainer, cfg, logger)
	require.NoError(t, err)
	svc := bots.NewService(pool, jobs)
	require.NoError(t, jobs.Start(context.Background(), svc))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx)
	})
	return env{pool: pool, svc: svc}
}

// config works jobs at once, retrying after 10 ms, attempts times.
func config(attempts int) training.Config {
	return training.Config{Workers: 1, MaxAttempts: attempts, RetryBackoff: 10 * time.Millisecond,
		JobTimeout: 10 * time.Second, RescueAfter: time.Minute}
}

// trainUntilSettled creates a bot, which queues its training, and waits until the training
// has moved it out of training.
func trainUntilSettled(t *testing.T, e env) bots.Bot {
	t.Helper()
	ctx := context.Background()
	owner := uuid.New()
	require.NoError(t, e.svc.EnsureUser(ctx, owner))
	bot, err := bots.InTx(ctx, e.pool, func(tx pgx.Tx) (bots.Bot, error) {
		return e.svc.CreateTx(ctx, tx, owner, bots.CreateParams{Name: "Trained", Model: "gpt-4o-mini", Temperature: 0.7})
	})
	require.NoError(t, err)
	deadline := time.Now().Add(15 * time.Second)
	for bot.Status == bots.StatusTraining {
		require.True(t, time.Now().Before(deadline), "the bot is still in training")
		time.Sleep(10 * time.Millisecond)
		bot, err = e.svc.Get(ctx, owner, bot.ID)
		require.NoError(t, err)
	}
	return bot
}

// trainerFunc is a Trainer made of a function that counts its calls.
type trainerFunc struct {
	prepare func(ctx context.Context) (training.Prepared, error)
	calls   atomic.Int32
}

func (f *trainerFunc) Prepare(ctx context.Context, _ bots.Configuration) (training.Prepared, error) {
	f.calls.Add(1)
	return f.prepare(ctx)
}

func TestAPanickingTrainingIsRetriedThenPutsTheBotInError(t *testing.T) {
	t.Parallel()
	trainer := &trainerFunc{prepare: func(context.Context) (training.Prepared, error) {
		panic("the model provider's client crashed")
	}}
	bot := trainUntilSettled(t, setup(t, trainer, config(2)))
	require.Equal(t, bots.StatusError, bot.Status)
	require.NotNil(t, bot.StatusMessage)
	require.Equal(t, "training failed after 2 attempts: panic: the model provider's client crashed", *bot.StatusMessage)
	require.Equal(t, int32(2), trainer.calls.Load())
}

func TestATrainingFailingOnItsOnlyAttemptPutsTheBotInError(t *testing.T) {
	t.Parallel()
	trainer := &trainerFunc{prepare: func(context.Context) (training.Prepared, error) {
		return training.Prepared{}, errors.New("model provider unavailable")
	}}
	bot := trainUntilSettled(t, setup(t, trainer, config(1)))
	require.Equal(t, bots.StatusError, bot.Status)
	require.NotNil(t, bot.StatusMessage)
	require.Equal(t, "training failed after 1 attempt: model provider unavailable", *bot.StatusMessage)
}

func TestATrainingTimingOutOnItsLastAttemptPutsTheBotInError(t *testing.T) {
	t.Parallel()
	trainer := &trainerFunc{prepare: func(ctx context.Context) (training.Prepared, error) {
		<-ctx.Done() // a provider that never answers
		return training.Prepared{}, ctx.Err()
	}}
	cfg := config(1)
	cfg.JobTimeout = 100 * time.Millisecond
	bot := trainUntilSettled(t, setup(t, trainer, cfg))
	require.Equal(t, bots.StatusError, bot.Status)
	require.NotNil(t, bot.StatusMessage)
	require.Equal(t, "training failed after 1 attempt: it took longer than 100ms", *bot.StatusMessage)
}

// discardLikeTheRescuer makes the training jobs of version number of bot what River's rescuer
// leaves of a job whose last attempt was cut short by a crash: discarded, its attempts used
// up, and no error handler called.
func discardLikeTheRescuer(t *testing.T, e env, bot uuid.UUID, number int32) {
	t.Helper()
	tag, err := e.pool.Exec(context.Background(), `UPDATE river_job
		SET state = 'discarded', attempt = max_attempts, attempted_at = now(), finalized_at = now()
		WHERE kind = 'train_bot' AND args->>'bot_id' = $1 AND (args->>'number')::int = $2`, bot.String(), number)
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected(), "the training job of the version")
}

func TestTheUpkeepPutsInErrorAVersionWhoseLastAttemptACrashCutShort(t *testing.T) {
	t.Parallel()
	cfg := config(3)
	cfg.Workers = 0 // the jobs stay queued until the test discards them
	e := setup(t, nil, cfg)
	ctx := context.Background()
	owner := uuid.New()
	require.NoError(t, e.svc.EnsureUser(ctx, owner))
	create := func(name string) bots.Bot {
		bot, err := bots.InTx(ctx, e.pool, func(tx pgx.Tx) (bots.Bot, error) {
			return e.svc.CreateTx(ctx, tx, owner, bots.CreateParams{Name: name, Model: "gpt-4o-mini", Temperature: 0.7})
		})
		require.NoError(t, err)
		return bot
	}
	const crashed = "training failed after 3 attempts: the process working on it stopped"
	abandoned := create("Abandoned")
	discardLikeTheRescuer(t, e, abandoned.ID, 1)
	// Edited during its first training: version 1 is abandoned, version 2 has its own job.
	edited := create("Edited")
	prompt := "Answer in French."
	newer, err := e.svc.Update(ctx, owner, edited.ID, bots.UpdateParams{SystemPrompt: &prompt})
	require.NoError(t, err)
	require.Equal(t, bots.StatusTraining, newer.Status)
	require.Equal(t, int32(2), newer.ConfigVersion)
	discardLikeTheRescuer(t, e, edited.ID, 1)
	// Trained again after the crash: a second job of the same version is still queued.
	retrained := create("Retrained")
	discardLikeTheRescuer(t, e, retrained.ID, 1)
	_, err = e.svc.Train(ctx, owner, retrained.ID, bots.Precondition{})
	require.NoError(t, err)

	failed, err := e.svc.FailAbandonedTrainings(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), failed, "version 1 of Abandoned and of Edited")
	got, err := e.svc.Get(ctx, owner, abandoned.ID)
	require.NoError(t, err)
	require.Equal(t, bots.StatusError, got.Status)
	require.NotNil(t, got.StatusMessage)
	require.Equal(t, crashed, *got.StatusMessage)
	changed := bots.EventType("bot.status_changed")
	events, err := e.svc.Events(ctx, owner, abandoned.ID, &changed, 0, 1)
	require.NoError(t, err)
	require.Len(t, events.Items, 1)
	require.Equal(t, bots.ActorSystem, events.Items[0].Actor, "the upkeep's change is the system's")
	require.Nil(t, events.Items[0].RequestID)
	require.JSONEq(t, `{"from":"training","to":"error","message":"`+crashed+`"}`, string(events.Items[0].Data))
	v1, err := e.svc.Version(ctx, owner, edited.ID, 1)
	require.NoError(t, err)
	require.Equal(t, bots.StatusError, v1.Status, "a superseded version is failed on its own")
	require.Equal(t, crashed, *v1.StatusMessage)
	got, err = e.svc.Get(ctx, owner, edited.ID)
	require.NoError(t, err)
	require.Equal(t, bots.StatusTraining, got.Status, "the newer version's job will train it")
	require.Equal(t, newer.Version, got.Version, "the bot does not change with a superseded version")
	got, err = e.svc.Get(ctx, owner, retrained.ID)
	require.NoError(t, err)
	require.Equal(t, bots.StatusTraining, got.Status, "the version's second job will train it")

	failed, err = e.svc.FailAbandonedTrainings(ctx)
	require.NoError(t, err)
	require.Zero(t, failed, "a version is put in error once")
}

// The purge runs every PurgeInterval, however short: a finished purge does not hold back the
// next one, only a purge still queued or running does.
func TestThePurgeRunsEveryPurgeInterval(t *testing.T) {
	t.Parallel()
	cfg := config(1)
	cfg.PurgeInterval = 50 * time.Millisecond
	e := setup(t, nil, cfg)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var finished int
		require.NoError(t, e.pool.QueryRow(t.Context(),
			`SELECT count(*) FROM river_job WHERE kind = 'purge' AND state = 'completed'`).Scan(&finished))
		if finished >= 3 {
			return
		}
		require.True(t, time.Now().Before(deadline), "%d purges finished in 30 s", finished)
		time.Sleep(20 * time.Millisecond)
	}
}
