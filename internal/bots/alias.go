package bots

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/db"
)

var (
	// ErrVersionNotFound means the bot, which the caller may change, has no version with
	// the number an alias was to point at.
	ErrVersionNotFound = errors.New("no such version")
	// ErrTooManyAliases means a new alias was refused because the bot already has
	// MaxAliases aliases.
	ErrTooManyAliases = errors.New("too many aliases")
	// ErrAliasNotFound means the bot, which the caller may see, has no alias of that name.
	ErrAliasNotFound = errors.New("no such alias")
)

// MaxAliases is the most aliases a bot may have. It bounds what a list of them and the
// runtime cache's entry of a bot (which holds every alias) cost; a bot that had more before
// the limit keeps them, and may move or delete them, but creates no more.
const MaxAliases = 100

// AliasPreconditionError is ErrPreconditionFailed for an alias: Etag is the alias's current
// etag, 0 when the alias does not exist.
type AliasPreconditionError struct {
	Etag int64
}

func (e *AliasPreconditionError) Error() string { return "alias has changed" }

// Is makes errors.Is(err, ErrPreconditionFailed) hold.
func (e *AliasPreconditionError) Is(target error) bool { return target == ErrPreconditionFailed }

// Alias is a name the owner points at one of a bot's versions.
type Alias struct {
	Name      string
	Version   int32
	Etag      int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AliasMove is one entry of an alias's history: FromVersion is nil for its creation,
// ToVersion nil for its deletion.
type AliasMove struct {
	FromVersion *int32
	ToVersion   *int32
	ChangedBy   uuid.UUID
	ChangedAt   time.Time
}

// AliasMovePage is one page of an alias's history and the number of entries in all.
type AliasMovePage = PageOf[AliasMove]

// AliasCondition limits an alias write (HTTP If-Match and If-None-Match: *): MustExist
// refuses a new alias, Etags (when not nil) lists the etags the alias may have, and
// CreateOnly refuses an existing alias.
type AliasCondition struct {
	MustExist  bool
	Etags      []int64
	CreateOnly bool
}

func aliasFromDB(a db.BotAlias) Alias {
	return Alias{Name: a.Name, Version: a.Version, Etag: a.Etag, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// PutAlias points the caller's bot's alias at version, creating it (created is true) or
// moving it. The version must be active (a *NotReadyError, naming its status, otherwise):
// the write checks it in the same statement, so that the rule holds across replicas; the
// history records the move in the same transaction. A new alias is refused with
// ErrTooManyAliases when the bot already has MaxAliases: every alias write locks the bot
// first, so that concurrent creations count one after another.
func (s *Service) PutAlias(ctx context.Context, caller, id uuid.UUID, name string, version int32, c AliasCondition) (alias Alias, created bool, err error) {
	defer s.forgetIfWritten(id, &err)
	type result struct {
		alias   Alias
		created bool
	}
	r, err := InTx(ctx, s.pool, func(tx pgx.Tx) (result, error) {
		if err := s.lockBot(ctx, tx, caller, id); err != nil {
			return result{}, err
		}
		var row db.BotAlias
		var err error
		for retried := false; ; retried = true {
			if c.MustExist {
				row, err = s.q.BotAliasMove(ctx, tx, db.BotAliasMoveParams{BotID: id, Name: name, Version: version, Caller: caller, Etags: c.Etags, CreateOnly: c.CreateOnly})
			} else {
				row, err = s.q.BotAliasPut(ctx, tx, db.BotAliasPutParams{BotID: id, Name: name, Version: version, Caller: caller, CreateOnly: c.CreateOnly, MaxAliases: MaxAliases})
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				break
			}
			switch err := s.explainAliasMiss(ctx, tx, caller, id, name, c, &version); {
			case !errors.Is(err, errAliasWriteRaced):
				return result{}, err
			case retried:
				return result{}, ErrNotFound // see errAliasWriteRaced
			}
		}
		if err != nil {
			return result{}, fmt.Errorf("put alias: %w", err)
		}
		a := aliasFromDB(row)
		if row.MovedFrom != nil && *row.MovedFrom == row.Version {
			return result{alias: a}, nil // set to the version it had: nothing moved
		}
		move := db.BotAliasMoveRecordParams{BotID: id, Name: name, FromVersion: row.MovedFrom, ToVersion: &row.Version, Caller: caller, RequestID: RequestID(ctx)}
		if err := s.q.BotAliasMoveRecord(ctx, tx, move); err != nil {
			return result{}, fmt.Errorf("record alias move: %w", err)
		}
		return result{alias: a, created: row.MovedFrom == nil}, nil
	})
	return r.alias, r.created, err
}

// DeleteAlias deletes an alias of the caller's bot; etags, when not nil, lists the etags the
// alias may have. The history records the deletion.
func (s *Service) DeleteAlias(ctx context.Context, caller, id uuid.UUID, name string, etags []int64) (err error) {
	defer s.forgetIfWritten(id, &err)
	_, err = InTx(ctx, s.pool, func(tx pgx.Tx) (struct{}, error) {
		if err := s.lockBot(ctx, tx, caller, id); err != nil {
			return struct{}{}, err
		}
		row, err := s.q.BotAliasDelete(ctx, tx, db.BotAliasDeleteParams{BotID: id, Name: name, Caller: caller, Etags: etags})
		if errors.Is(err, pgx.ErrNoRows) {
			return struct{}{}, s.explainAliasMiss(ctx, tx, caller, id, name, AliasCondition{Etags: etags}, nil)
		}
		if err != nil {
			return struct{}{}, fmt.Errorf("delete alias: %w", err)
		}
		err = s.q.BotAliasMoveRecord(ctx, tx, db.BotAliasMoveRecordParams{BotID: id, Name: name, FromVersion: &row.Version, Caller: caller, RequestID: RequestID(ctx)})
		if err != nil {
			return struct{}{}, fmt.Errorf("record alias deletion: %w", err)
		}
		return struct{}{}, nil
	})
	return err
}

// errAliasWriteRaced is explainAliasMiss's answer to a put without a precondition that
// matched no row although the look after it finds nothing to refuse: the bot live and the
// caller's, the version active and room for the alias. Every alias write locks the bot
// first (lockBot), so nothing of the bot should change between the write and the look; if
// something still did, PutAlias runs the write once more in the same transaction, whose new
// statements see what has committed since (READ COMMITTED), and answers a second such miss
// with ErrNotFound. A precondition failure (412) is only ever the answer to a precondition
// the caller sent.
var errAliasWriteRaced = errors.New("alias write raced a change of its bot")

// explainAliasMiss says why an alias write under condition c matched no row, revealing
// nothing of a bot the caller may not see: the bot (see ownerAccess) first, then the alias's
// condition, since preconditions are evaluated before the request's content (RFC 9110
// §13.2.1), then the version (when version is not nil, a put), then the bot's number of
// aliases (for a new alias). The look comes after the write, so the bot or the alias may
// have changed in between; a 412 is only ever the answer to a precondition the caller sent.
// A delete's only precondition is its etags: it needs the alias whatever it carries, and
// If-Match: * is no precondition for it.
func (s *Service) explainAliasMiss(ctx context.Context, tx pgx.Tx, caller, id uuid.UUID, name string, c AliasCondition, version *int32) error {
	acc, err := s.ownerAccess(ctx, tx, caller, id)
	switch {
	case err != nil:
		return err
	case acc.Deleted:
		return ErrNotFound
	}
	a, err := s.q.BotAliasGet(ctx, tx, db.BotAliasGetParams{BotID: id, Name: name, Caller: caller})
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("get alias: %w", err)
	case !exists && version == nil:
		return ErrAliasNotFound // a delete of an alias that does not exist
	case !exists && c.MustExist:
		return &AliasPreconditionError{}
	case exists && (c.CreateOnly || c.Etags != nil && !slices.Contains(c.Etags, a.Etag)):
		return &AliasPreconditionError{Etag: a.Etag}
	}
	if version != nil {
		v, err := s.q.BotVersionGet(ctx, tx, db.BotVersionGetParams{BotID: id, Number: *version, Caller: caller})
		switch {
		case err != nil:
			return RowError(err, ErrVersionNotFound, "get version")
		case Status(v.Status) != StatusActive:
			return &NotReadyError{Number: v.Number, Status: Status(v.Status)}
		}
	}
	if !exists && version != nil {
		n, err := s.q.BotAliasCount(ctx, tx, id)
		switch {
		case err != nil:
			return fmt.Errorf("count aliases: %w", err)
		case n >= MaxAliases:
			return ErrTooManyAliases
		}
	}
	switch {
	case c.MustExist || c.Etags != nil || c.CreateOnly:
		// The alias changed between the write and this look, which a retry resolves the same
		// way.
		return &AliasPreconditionError{Etag: a.Etag}
	case version == nil:
		// A delete without a precondition: the alias (or the bot) was gone when the write ran
		// and is back since, and the answer is the one that was true when the write ran.
		return ErrAliasNotFound
	default:
		return errAliasWriteRaced
	}
}

// Alias returns an alias of a bot the caller may see.
func (s *Service) Alias(ctx context.Context, caller, id uuid.UUID, name string) (Alias, error) {
	row, err := s.q.BotAliasGet(ctx, s.pool, db.BotAliasGetParams{BotID: id, Name: name, Caller: caller})
	if err != nil {
		return Alias{}, RowError(err, ErrNotFound, "get alias")
	}
	return aliasFromDB(row), nil
}

// Aliases returns every alias of a bot the caller may see, by name.
func (s *Service) Aliases(ctx context.Context, caller, id uuid.UUID) ([]Alias, error) {
	if _, err := s.Get(ctx, caller, id); err != nil {
		return nil, err
	}
	rows, err := s.q.BotAliasList(ctx, s.pool, db.BotAliasListParams{BotID: id, Caller: caller})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	out := make([]Alias, len(rows))
	for i, r := range rows {
		out[i] = aliasFromDB(r)
	}
	return out, nil
}

// AliasHistory returns a page of an alias's moves, newest first, to whoever may see the bot.
// An alias that never existed has no history: ErrNotFound.
func (s *Service) AliasHistory(ctx context.Context, caller, id uuid.UUID, name string, skip, limit int32) (AliasMovePage, error) {
	total, err := s.q.BotAliasHistoryCount(ctx, s.pool, db.BotAliasHistoryCountParams{BotID: id, Name: name, Caller: caller})
	if err != nil {
		return AliasMovePage{}, fmt.Errorf("count alias moves: %w", err)
	}
	if total == 0 {
		return AliasMovePage{}, ErrNotFound
	}
	rows, err := s.q.BotAliasHistory(ctx, s.pool, db.BotAliasHistoryParams{BotID: id, Name: name, Caller: caller, Off: skip, Lim: limit})
	if err != nil {
		return AliasMovePage{}, fmt.Errorf("list alias moves: %w", err)
	}
	items := make([]AliasMove, len(rows))
	for i, r := range rows {
		items[i] = AliasMove{FromVersion: r.FromVersion, ToVersion: r.ToVersion, ChangedBy: r.ChangedBy, ChangedAt: r.ChangedAt}
	}
	return AliasMovePage{Items: items, Total: total}, nil
}
