package bots

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/db"
)

// TrainingTarget returns the configuration that a training job for version number of bot
// id trains, and false when the job has nothing to do: the version is gone (its bot was
// purged) or no longer in training (another job of it finished first). A version is trained
// whatever happened to its bot since: a superseded version can still be aliased, and a
// deleted bot can be restored.
func (s *Service) TrainingTarget(ctx context.Context, id uuid.UUID, number int32) (Configuration, bool, error) {
	row, err := s.q.VersionForTraining(ctx, s.pool, db.VersionForTrainingParams{BotID: id, Number: number})
	if errors.Is(err, pgx.ErrNoRows) {
		return Configuration{}, false, nil
	}
	if err != nil {
		return Configuration{}, false, fmt.Errorf("load version for training: %w", err)
	}
	if row.Status != db.BotStatusTraining {
		return Configuration{}, false, nil
	}
	return Configuration{Model: row.Model, Temperature: row.Temperature, SystemPrompt: row.SystemPrompt}, true, nil
}

// Outcome is the result of training one version of a bot.
type Outcome struct {
	// Status is StatusActive or StatusError.
	Status Status
	// Message says what to fix, for StatusError.
	Message *string
	// Prepared is the runtime configuration (JSON), for StatusActive.
	Prepared []byte
}

// FinishTraining records the outcome of training version number of bot id, on the version
// and, when it is still the bot's latest, on the bot. It reports false, and changes nothing,
// when the version is no longer in training: the result is dropped.
// Like every write of a bot, it locks the bot first (see InTx).
func (s *Service) FinishTraining(ctx context.Context, id uuid.UUID, number int32, o Outcome) (bool, error) {
	return InTx(ctx, s.pool, func(tx pgx.Tx) (bool, error) {
		if err := s.q.VersionLockBot(ctx, tx, id); err != nil {
			return false, fmt.Errorf("lock bot: %w", err)
		}
		_, err := s.q.VersionFinishTraining(ctx, tx, db.VersionFinishTrainingParams{
			BotID:          id,
			Number:         number,
			Status:         db.BotStatus(o.Status),
			StatusMessage:  o.Message,
			PreparedConfig: o.Prepared,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, writeError("finish training", err)
		}
		return true, nil
	})
}

// StatusEvent is one change of a bot's status.
type StatusEvent struct {
	ID    int64
	BotID uuid.UUID
	// From is nil for the bot's first status.
	From      *Status
	To        Status
	Message   *string
	CreatedAt time.Time
}

// EventPage is one page of a bot's status history and the number of events in all.
type EventPage = PageOf[StatusEvent]

// StatusEvents returns a bot's status history, newest first, to whoever may see the bot.
func (s *Service) StatusEvents(ctx context.Context, caller, id uuid.UUID, skip, limit int32) (EventPage, error) {
	return CountedPage(ctx, s.pool, "status events", ErrNotFound,
		s.q.BotStatusEventCount, db.BotStatusEventCountParams{BotID: id, Caller: caller},
		s.q.BotStatusEventList, db.BotStatusEventListParams{BotID: id, Caller: caller, Off: skip, Lim: limit},
		eventFromDB)
}

// EventsAfterPage is the most events StatusEventsAfter returns at once: a caller catching up
// asks again, after the last one, while it gets full pages.
const EventsAfterPage = 100

// StatusEventsAfter returns the bot's status changes after event id after, oldest first (at
// most EventsAfterPage), to whoever may see the bot; ErrNotFound when the caller may not see
// it (any more).
func (s *Service) StatusEventsAfter(ctx context.Context, caller, id uuid.UUID, after int64) ([]StatusEvent, error) {
	rows, err := s.q.BotStatusEventsAfter(ctx, s.pool, db.BotStatusEventsAfterParams{BotID: id, After: after, Caller: caller, Lim: EventsAfterPage})
	if err != nil {
		return nil, fmt.Errorf("list status events: %w", err)
	}
	if len(rows) == 0 {
		// Nothing new, or nothing visible: only the bot itself tells.
		if _, err := s.Get(ctx, caller, id); err != nil {
			return nil, err
		}
	}
	return eventsFromDB(rows), nil
}

func eventsFromDB(rows []db.BotStatusEvent) []StatusEvent {
	out := make([]StatusEvent, len(rows))
	for i, r := range rows {
		out[i] = eventFromDB(r)
	}
	return out
}

func eventFromDB(r db.BotStatusEvent) StatusEvent {
	e := StatusEvent{ID: r.ID, BotID: r.BotID, To: Status(r.ToStatus), Message: r.Message, CreatedAt: r.CreatedAt}
	if r.FromStatus.Valid {
		from := Status(r.FromStatus.BotStatus)
		e.From = &from
	}
	return e
}

// TrainingFailedMessage is the status message of a bot whose training failed on its last
// attempt, for the reason given.
func TrainingFailedMessage(attempts int, reason string) string {
	unit := "attempts"
	if attempts == 1 {
		unit = "attempt"
	}
	return fmt.Sprintf("training failed after %d %s: %s", attempts, unit, reason)
}

// FailAbandonedTrainings puts in error the versions left in training by a job that River
// discarded without a result, and returns how many. River's rescuer discards a job whose last
// attempt was cut short by a crash of the process working it, and calls no error handler, so
// without this such a version (and its bot, when it is the latest) would stay in training,
// with no job. A version that another job will still train is left to it. The periodic purge
// job (training.PurgeArgs) runs it.
func (s *Service) FailAbandonedTrainings(ctx context.Context) (int64, error) {
	rows, err := s.q.TrainingAbandoned(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("find abandoned trainings: %w", err)
	}
	var failed int64
	for _, r := range rows {
		msg := TrainingFailedMessage(int(r.Attempt), "the process working on it stopped")
		recorded, err := s.FinishTraining(ctx, r.BotID, r.Number, Outcome{Status: StatusError, Message: &msg})
		if err != nil {
			return failed, err
		}
		if recorded {
			failed++
		}
	}
	return failed, nil
}
