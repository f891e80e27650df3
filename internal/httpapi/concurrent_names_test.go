package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// nameRaceWinner checks that exactly one of raced responses (already checked against the
// spec) has status won and every other is a name-taken 409, and returns the winner's bot.
func nameRaceWinner(t *testing.T, out []*response, won int) api.BotResponse {
	t.Helper()
	counts := map[int]int{}
	var winner api.BotResponse
	for _, res := range out {
		counts[res.code]++
		switch res.code {
		case won:
			res.decode(t, &winner)
		case http.StatusConflict:
			require.Equal(t, "/problems/name-taken", res.problem(t, http.StatusConflict).Type)
		}
	}
	require.Equal(t, map[int]int{won: 1, http.StatusConflict: len(out) - 1}, counts)
	return winner
}

func TestConcurrentCreatesWithOneName(t *testing.T) {
	t.Parallel()
	// Each spelling is the same name once trimmed and compared ignoring case.
	spellings := map[string]func(i int) string{
		"SameNameLetsExactlyOneWin": func(int) string { return "Race" },
		"NamesDifferingInCaseLetExactlyOneWin": func(i int) string {
			var b strings.Builder
			if i%4 == 0 {
				b.WriteString("  ")
			}
			for j, r := range "racer" {
				if i&(1<<j) != 0 {
					r = r - 'a' + 'A'
				}
				b.WriteRune(r)
			}
			return b.String()
		},
	}
	for name, spell := range spellings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, u := setupUser(t)
			var reqs []request
			for i := range 30 {
				reqs = append(reqs, request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: map[string]any{"name": spell(i), "model": "gpt-4o-mini"}})
			}
			winner := nameRaceWinner(t, e.race(reqs), http.StatusCreated)
			var rows int
			var stored uuid.UUID
			require.NoError(t, e.pool.QueryRow(context.Background(),
				`SELECT count(*) OVER (), id FROM bots WHERE owner_id = $1`, u.id).Scan(&rows, &stored))
			require.Equal(t, 1, rows, "the losers left no row behind")
			require.Equal(t, winner.Id, stored)
			list := lstList(e, u, nil)
			require.Equal(t, int64(1), list.Total)
			require.Equal(t, []uuid.UUID{winner.Id}, lstIDs(list.Items))
		})
	}
}

func TestConcurrentRenamesToOneName(t *testing.T) {
	t.Parallel()
	spellings := map[string]func(i int) string{
		"SameNameLetsExactlyOneWin": func(int) string { return "Renamed" },
		"NamesDifferingInCaseLetExactlyOneWin": func(i int) string {
			return []string{"Renamed", "RENAMED", "renamed", "reNAMED", "ReNaMeD"}[i%5]
		},
	}
	for name, spell := range spellings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, u := setupUser(t)
			var reqs []request
			for i := range 10 {
				bot := e.createBot(u, map[string]any{"name": fmt.Sprintf("Bot %d", i)})
				reqs = append(reqs, request{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: map[string]any{"name": spell(i)}})
			}
			winner := nameRaceWinner(t, e.race(reqs), http.StatusOK)
			require.Equal(t, "renamed", strings.ToLower(winner.Name))

			// The losers keep their names and versions: a refused rename writes nothing.
			pgRows, err := e.pool.Query(context.Background(),
				`SELECT id, name, version FROM bots WHERE owner_id = $1 AND deleted_at IS NULL`, u.id)
			require.NoError(t, err)
			renamed := 0
			for pgRows.Next() {
				var id uuid.UUID
				var name string
				var version int64
				require.NoError(t, pgRows.Scan(&id, &name, &version))
				if id == winner.Id {
					renamed++
					require.Equal(t, winner.Name, name)
					require.Equal(t, int64(2), version)
					continue
				}
				require.True(t, strings.HasPrefix(name, "Bot "), "bot %s was renamed to %q", id, name)
				require.Equal(t, int64(1), version, "bot %s changed", id)
			}
			require.NoError(t, pgRows.Err())
			require.Equal(t, 1, renamed)
			list := lstList(e, u, url.Values{"q": {"renamed"}})
			require.Equal(t, int64(1), list.Total)
			require.Equal(t, []uuid.UUID{winner.Id}, lstIDs(list.Items))
		})
	}
}
