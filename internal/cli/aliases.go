package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
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

// aliasesOf reads the bot's aliases as the file writes them.
func aliasesOf(ctx context.Context, c *client.Client, id uuid.UUID) (map[string]int32, error) {
	return nil, nil // TODO versions SDK
}

// setAliases points the bot's aliases as moves say, and reports each on w.
func setAliases(ctx context.Context, c *client.Client, w io.Writer, id uuid.UUID, moves []aliasMove) error {
	return nil
}
