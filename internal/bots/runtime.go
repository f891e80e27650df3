package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/db"
)

// RuntimeSelector picks the version a configuration read returns: by alias, by number, or,
// with neither, the bot's latest active version.
type RuntimeSelector struct {
	Alias   *string
	Version *int32
}

// RuntimeConfig is the configuration of an active version, as a chat runtime runs it.
type RuntimeConfig struct {
	BotID   uuid.UUID
	Version int32
	// Alias is the alias the version was read by; nil when read by number or as the latest.
	Alias *string
	Configuration
	// Prepared is what training prepared, as JSON.
	Prepared json.RawMessage
}

// NotReadyError says that the version a read picked is not active; Number is 0 when the bot
// has no active version at all.
type NotReadyError struct {
	Number int32
	Status Status
}

func (e *NotReadyError) Error() string {
	if e.Number == 0 {
		return "the bot has no active version yet"
	}
	return fmt.Sprintf("version %d of the bot is not active (it is %s)", e.Number, e.Status)
}

// runtimeBot is what a configuration read by alias or number depends on, as one caller may
// see it: found is false when the caller may not see the bot. Which version is the latest
// active one is not kept: it changes with every edit that is active at once and every
// training that finishes, which would each have to announce themselves to every replica.
type runtimeBot struct {
	found   bool
	aliases map[string]int32
}

// RuntimeConfig returns the configuration of the version of bot id that sel picks, to whoever
// may see the bot: ErrNotFound for a bot (or version) the caller may not see, ErrAliasNotFound
// for a missing alias, and a *NotReadyError when the version picked is not active. Reads by
// alias and number are served from the runtime cache when they can be (see runtimeCache);
// the latest active version is looked up in the database each time, on the standby of
// ReadPool when there is one.
func (s *Service) RuntimeConfig(ctx context.Context, caller, id uuid.UUID, sel RuntimeSelector) (RuntimeConfig, error) {
	var number int32
	switch {
	case sel.Alias != nil || sel.Version != nil:
		bot, err := s.runtimeBot(ctx, caller, id)
		if err != nil {
			return RuntimeConfig{}, err
		}
		if !bot.found {
			return RuntimeConfig{}, ErrNotFound
		}
		if sel.Version != nil {
			number = *sel.Version
			break
		}
		n, ok := bot.aliases[*sel.Alias]
		if !ok {
			return RuntimeConfig{}, ErrAliasNotFound
		}
		number = n
	default:
		var n int32
		err := s.read(ctx, func(conn db.DBTX) (err error) {
			n, err = s.q.BotLatestActive(ctx, conn, db.BotLatestActiveParams{BotID: id, Caller: caller})
			return err
		})
		switch {
		case err != nil:
			return RuntimeConfig{}, RowError(err, ErrNotFound, "find the latest active version")
		case n == 0:
			return RuntimeConfig{}, &NotReadyError{}
		}
		number = n
	}
	v, err := s.runtimeVersion(ctx, caller, id, number)
	if err != nil {
		return RuntimeConfig{}, err
	}
	return RuntimeConfig{BotID: id, Version: number, Alias: sel.Alias, Configuration: v.Configuration, Prepared: v.prepared}, nil
}

// runtimeBot reads what a configuration read depends on, from the cache or the database.
func (s *Service) runtimeBot(ctx context.Context, caller, id uuid.UUID) (runtimeBot, error) {
	key := runtimeBotKey{bot: id, caller: caller}
	if b, ok := s.runtime.bot(key); ok {
		return b, nil
	}
	mark := s.runtime.mark()
	row, err := s.q.BotRuntime(ctx, s.pool, db.BotRuntimeParams{BotID: id, Caller: caller})
	var b runtimeBot
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return runtimeBot{}, fmt.Errorf("read bot for its configuration: %w", err)
	default:
		b = runtimeBot{found: true}
		if err := json.Unmarshal(row, &b.aliases); err != nil {
			return runtimeBot{}, fmt.Errorf("read aliases: %w", err)
		}
	}
	s.runtime.keepBot(mark, key, b)
	return b, nil
}

// runtimeVersion is one active version's configuration and prepared configuration.
type runtimeVersion struct {
	Configuration
	prepared json.RawMessage
}

// runtimeVersion reads version number of bot id, from the cache or the database; only active
// versions are kept, since only they never change again.
func (s *Service) runtimeVersion(ctx context.Context, caller, id uuid.UUID, number int32) (runtimeVersion, error) {
	key := versionKey{bot: id, number: number}
	if v, ok := s.runtime.version(key); ok {
		return v, nil
	}
	row, err := s.q.VersionRuntime(ctx, s.pool, db.VersionRuntimeParams{BotID: id, Number: number, Caller: caller})
	switch {
	case err != nil:
		return runtimeVersion{}, RowError(err, ErrNotFound, "read version for its configuration")
	case row.Status != db.BotStatusActive:
		return runtimeVersion{}, &NotReadyError{Number: number, Status: Status(row.Status)}
	}
	v := runtimeVersion{
		Configuration: Configuration{Model: row.Model, Temperature: row.Temperature, SystemPrompt: row.SystemPrompt},
		prepared:      row.PreparedConfig,
	}
	s.runtime.keepVersion(key, v)
	return v, nil
}

// forgetIfWritten forgets what the runtime read path keeps of bot id once a write of it has
// committed without error, so that this process reads its own writes at once; the other
// processes hear of it from the database (statusfeed). Only writes that can change what the
// cache keeps call it: who may see the bot (delete, restore, is_public) and its aliases.
// Versions it keeps never change, and the latest active version is not kept.
func (s *Service) forgetIfWritten(id uuid.UUID, err *error) {
	if *err == nil {
		s.runtime.forget(id)
	}
}
