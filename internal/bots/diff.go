package bots

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/gen/db"
)

// PatchOp is one JSON Patch (RFC 6902) operation on a configuration,
// `{"model", "temperature", "system_prompt"}`.
type PatchOp struct {
	Op    string
	Path  string
	Value any
}

// Diff is the JSON Patch that turns version Against's configuration into version Number's.
type Diff struct {
	Number, Against int32
	Ops             []PatchOp
}

// VersionDiff returns the patch from version against to version number of a bot the caller
// may see; against nil means the previous version. ErrNotFound when the caller may not see
// the bot or it has no such version; a ValidationError naming against for version 1 without
// against, which has no previous version. Versions are immutable in configuration, so the
// result for a pair never changes.
func (s *Service) VersionDiff(ctx context.Context, caller, id uuid.UUID, number int32, against *int32) (Diff, error) {
	from := number - 1
	if against != nil {
		from = *against
	}
	// Version 1 without against still reads the pair (1, 1), so that a bot the caller may
	// not see is not found before the missing parameter is named.
	rows, err := s.q.BotVersionPair(ctx, s.pool, db.BotVersionPairParams{BotID: id, Number: number, Against: max(from, 1), Caller: caller})
	if err != nil {
		return Diff{}, fmt.Errorf("read versions %d and %d: %w", from, number, err)
	}
	var to, base *db.BotVersionPairRow
	for i := range rows {
		if rows[i].Number == number {
			to = &rows[i]
		}
		if rows[i].Number == from {
			base = &rows[i]
		}
	}
	if to == nil {
		return Diff{}, ErrNotFound
	}
	if from < 1 {
		var v ValidationError
		v.add("against", "is required for version 1, which has no previous version")
		return Diff{}, &v
	}
	if base == nil {
		return Diff{}, ErrNotFound
	}
	return Diff{Number: number, Against: from, Ops: patch(*base, *to)}, nil
}

// patch returns one replace per field of the configuration that differs from a to b, in the
// order of the representation; an empty, non-nil patch when they are equal.
func patch(a, b db.BotVersionPairRow) []PatchOp {
	ops := []PatchOp{}
	if a.Model != b.Model {
		ops = append(ops, PatchOp{Op: "replace", Path: "/model", Value: b.Model})
	}
	if a.Temperature != b.Temperature {
		ops = append(ops, PatchOp{Op: "replace", Path: "/temperature", Value: b.Temperature})
	}
	if a.SystemPrompt != b.SystemPrompt {
		ops = append(ops, PatchOp{Op: "replace", Path: "/system_prompt", Value: b.SystemPrompt})
	}
	return ops
}
