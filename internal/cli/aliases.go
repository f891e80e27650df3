package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// aliasMove is an alias that apply points at a version: from is its version now, 0 when the
// bot does not have it.
type aliasMove struct {
	name     string
	from, to int32
}

func (a aliasMove) String() string {
	if a.from == 0 {
		return fmt.Sprintf("alias %s: new -> %d", a.name, a.to)
	}
	return fmt.Sprintf("alias %s: %d -> %d", a.name, a.from, a.to)
}

// aliasesToSet are the aliases of want that current does not have as want says, by name.
func aliasesToSet(want, current map[string]int32) []aliasMove {
	var moves []aliasMove
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if current[name] != want[name] {
			moves = append(moves, aliasMove{name: name, from: current[name], to: want[name]})
		}
	}
	return moves
}

// aliasesOf reads the bot's aliases as the file writes them; nil when it has none.
func aliasesOf(ctx context.Context, c *client.Client, id uuid.UUID) (map[string]int32, error) {
	list, err := c.Aliases(ctx, id)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := make(map[string]int32, len(list))
	for _, a := range list {
		out[a.Name] = a.Version
	}
	return out, nil
}

// setAliases points the bot's aliases as moves say, and reports each on w. It tries every
// move; the errors of those that fail are joined, the version not being active (409) said in
// terms of what to do about it.
func setAliases(ctx context.Context, c *client.Client, w io.Writer, bot string, id uuid.UUID, moves []aliasMove) error {
	var errs []error
	for _, m := range moves {
		_, err := c.SetAlias(ctx, id, m.name, m.to)
		var p *client.Problem
		switch {
		case errors.As(err, &p) && p.Type == "/problems/version-not-ready":
			errs = append(errs, fmt.Errorf("alias %s: version %d is not active (yet): %s; apply again once it is (bots watch %s)", m.name, m.to, p.Detail, id))
		case errors.As(err, &p) && p.Status == http.StatusNotFound:
			errs = append(errs, fmt.Errorf("alias %s: the bot has no version %d (bots versions %s)", m.name, m.to, id))
		case err != nil:
			errs = append(errs, fmt.Errorf("alias %s: %w", m.name, apiError(err)))
		default:
			report(w, "aliased", bot, fmt.Sprintf("%s -> %d", m.name, m.to))
		}
	}
	return errors.Join(errs...)
}
