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

// Source is the write that recorded a version.
type Source string

// The writes that record a version.
const (
	SourceCreate    Source = "create"
	SourceUpdate    Source = "update"
	SourceDuplicate Source = "duplicate"
	SourceRevert    Source = "revert"
	// SourceTrain records a new training of an active version's configuration: the active
	// version itself never changes.
	SourceTrain Source = "train"
)

// Configuration is what a version fixes and training prepares.
type Configuration struct {
	Model        string
	Temperature  float64
	SystemPrompt string
}

// Version is one immutable configuration of a bot, with the status of its training. The
// bot's status is its latest version's.
type Version struct {
	Number int32
	Configuration
	Status        Status
	StatusMessage *string
	CreatedAt     time.Time
	CreatedBy     uuid.UUID
	Source        Source
	// RevertedFrom is the version a revert copied; nil for other sources.
	RevertedFrom *int32
}

// VersionPage is one page of a bot's versions and the number of versions in all.
type VersionPage = PageOf[Version]

// versionFromDB converts the generated row type at the one boundary where rows leave the
// data layer.
func versionFromDB(v db.BotVersion) Version {
	return Version{
		Number:        v.Number,
		Configuration: Configuration{Model: v.Model, Temperature: v.Temperature, SystemPrompt: v.SystemPrompt},
		Status:        Status(v.Status),
		StatusMessage: v.StatusMessage,
		CreatedAt:     v.CreatedAt,
		CreatedBy:     v.CreatedBy,
		Source:        Source(v.Source),
		RevertedFrom:  v.RevertedFrom,
	}
}

// Versions returns a page of a bot's versions, newest first, to whoever may see the bot.
func (s *Service) Versions(ctx context.Context, caller, id uuid.UUID, skip, limit int32) (VersionPage, error) {
	return CountedPage(ctx, s.pool, "versions", ErrNotFound,
		s.q.BotVersionCount, db.BotVersionCountParams{BotID: id, Caller: caller},
		s.q.BotVersionList, db.BotVersionListParams{BotID: id, Caller: caller, Off: skip, Lim: limit},
		versionFromDB)
}

// Version returns version number of a bot the caller may see; ErrNotFound when the bot has
// no such version, as when the caller may not see the bot.
func (s *Service) Version(ctx context.Context, caller, id uuid.UUID, number int32) (Version, error) {
	row, err := s.q.BotVersionGet(ctx, s.pool, db.BotVersionGetParams{BotID: id, Number: number, Caller: caller})
	if err != nil {
		return Version{}, RowError(err, ErrNotFound, "get version")
	}
	return versionFromDB(row), nil
}

// Revert records a new latest version of the caller's bot id with the configuration of
// version number, and returns it: active at once with its prepared configuration when
// version number is active, in training (with its job) otherwise. pre is checked against the
// bot, as for Update. ErrNotFound when the bot or the version does not exist for the caller.
func (s *Service) Revert(ctx context.Context, caller, id uuid.UUID, number int32, pre Precondition) (Version, error) {
	return InTx(ctx, s.pool, func(tx pgx.Tx) (Version, error) {
		if err := s.lockBot(ctx, tx, caller, id); err != nil {
			return Version{}, err
		}
		row, err := s.q.BotRevert(ctx, tx, db.BotRevertParams{
			ID:             id,
			Number:         number,
			Caller:         caller,
			CheckVersion:   pre.Required,
			Versions:       pre.versions(),
			ExceptVersions: pre.exceptVersions(),
			RequestID:      RequestID(ctx),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			// A version the bot does not have is missing whoever asks; anything else is
			// explained as for any write of the bot.
			_, err := s.q.BotVersionGet(ctx, tx, db.BotVersionGetParams{BotID: id, Number: number, Caller: caller})
			if err != nil {
				return Version{}, RowError(err, ErrNotFound, "get version")
			}
			return Version{}, s.explainMiss(ctx, tx, caller, id, false, pre)
		}
		if err != nil {
			return Version{}, writeError("revert bot", err)
		}
		v := versionFromDB(db.BotVersion(row))
		if v.Status == StatusTraining {
			if err := s.queue.QueueTraining(ctx, tx, id, v.Number); err != nil {
				return Version{}, fmt.Errorf("queue training: %w", err)
			}
		}
		return v, nil
	})
}
