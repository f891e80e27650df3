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

// namTwins are pairs of names that look the same, or differ only in case in the sense of
// Unicode full case folding: each pair is one name.
var namTwins = []struct{ name, first, second string }{
	{"ComposedAndDecomposedAccent", "Caf\u00e9", "Cafe\u0301"},
	{"SharpSAndDoubleS", "Straße", "STRASSE"},
	{"GreekFinalSigmaAndCapitalSigma", "ΟΔΟΣ", "οδος"},
	{"MicroSignAndGreekMu", "\u00b5 assistant", "\u03bc assistant"},
	{"ZeroWidthSpaceInside", "Support", "Sup\u200bport"},
}

// namTaken requires a name-taken problem.
func namTaken(t *testing.T, res *response) {
	t.Helper()
	p := res.problem(t, http.StatusConflict)
	require.Equal(t, "/problems/name-taken", p.Type)
}

func TestNamesThatLookTheSameAreOneName(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range namTwins {
		e.run(t, "Create"+c.name+"IsTaken", func(t *testing.T, e *env, u user) {
			e.createBot(u, map[string]any{"name": c.first})
			namTaken(t, e.post(u, "/api/v1/bots", map[string]any{"name": c.second, "model": "gpt-4o"}))
			require.Equal(t, 1, valBotsOf(t, e, u.id))
		})
		e.run(t, "RenameTo"+c.name+"IsTaken", func(t *testing.T, e *env, u user) {
			e.createBot(u, map[string]any{"name": c.first})
			other := e.createBot(u, map[string]any{"name": "Other"})
			namTaken(t, e.put(u, botPath(other.Id), map[string]any{"name": c.second}, nil))
		})
		e.run(t, "DuplicateNamed"+c.name+"IsTaken", func(t *testing.T, e *env, u user) {
			src := e.createBot(u, map[string]any{"name": c.first})
			namTaken(t, e.post(u, botPath(src.Id, "/duplicate"), map[string]any{"name": c.second}))
		})
		e.run(t, "RestoreOf"+c.name+"IsTaken", func(t *testing.T, e *env, u user) {
			deleted := e.createBot(u, map[string]any{"name": c.first})
			require.Equal(t, http.StatusOK, e.delete(u, botPath(deleted.Id)+"?confirm=true", nil).code)
			e.createBot(u, map[string]any{"name": c.second})
			namTaken(t, e.post(u, botPath(deleted.Id, "/restore"), nil))
		})
	}
	t.Run("AnotherOwnerMayUseTheName", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		e.createBot(newUser(t), map[string]any{"name": "Straße"})
		e.createBot(newUser(t), map[string]any{"name": "STRASSE"})
	})
	e.run(t, "RenamingABotToItsOwnNameInAnotherFormIsAllowed", func(t *testing.T, e *env, u user) {
		bot := e.createBot(u, map[string]any{"name": "Straße"})
		res := e.put(u, botPath(bot.Id), map[string]any{"name": "STRASSE"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
}

func TestNamesAreStoredInNFC(t *testing.T) {
	t.Parallel()
	e, u, created := setupBot(t, map[string]any{"name": "  Cafe\u0301 "})
	require.Equal(t, "Caf\u00e9", created.Name)
	var stored string
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT name FROM bots WHERE id = $1", created.Id).Scan(&stored))
	require.Equal(t, "Caf\u00e9", stored)

	res := e.put(u, botPath(created.Id), map[string]any{"name": "Cre\u0300me"}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, "Cr\u00e8me", valRepresentation(t, res).Name)
}

func TestNamesThatHideOrReorderTextAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct{ name, value string }{
		{"Escape", "Support\x1b[2J"},
		{"Newline", "Support\nassistant"},
		{"RightToLeftOverride", "invoice\u202egpj.exe"},
		{"LeftToRightOverride", "a\u202db"},
		{"RightToLeftEmbedding", "a\u202bb"},
		{"FirstStrongIsolate", "a\u2068b"},
		{"PopDirectionalIsolate", "a\u2069b"},
		{"OnlyZeroWidthSpaces", "\u200b\u200b\u200b"},
		{"OnlyByteOrderMarkAndSpaces", " \ufeff "},
		{"OnlyUnicodeWhitespace", "\u00a0\u2003\u3000"},
	} {
		e.run(t, "Create"+c.name, func(t *testing.T, e *env, u user) {
			valNamesOnly(t, e.post(u, "/api/v1/bots", map[string]any{"name": c.value, "model": "gpt-4o"}), "body", "name")
			require.Zero(t, valBotsOf(t, e, u.id))
		})
		e.run(t, "Rename"+c.name, func(t *testing.T, e *env, u user) {
			bot := e.createBot(u, map[string]any{"name": "Kept"})
			valNamesOnly(t, e.put(u, botPath(bot.Id), map[string]any{"name": c.value}, nil), "body", "name")
			res := e.get(u, botPath(bot.Id))
			require.Equal(t, "Kept", valRepresentation(t, res).Name)
		})
		e.run(t, "DuplicateNamed"+c.name, func(t *testing.T, e *env, u user) {
			src := e.createBot(u, map[string]any{"name": "Source"})
			valNamesOnly(t, e.post(u, botPath(src.Id, "/duplicate"), map[string]any{"name": c.value}), "body", "name")
			require.Equal(t, 1, valBotsOf(t, e, u.id))
		})
	}
}

// namSetLegacyName gives a bot a name stored before the name rules, as the migration left it.
func namSetLegacyName(t *testing.T, e *env, id uuid.UUID, name, fold string) {
	t.Helper()
	_, err := e.pool.Exec(context.Background(), "UPDATE bots SET name = $2, name_fold = $3 WHERE id = $1", id, name, fold)
	require.NoError(t, err)
}

func TestDefaultCopyNamesFollowTheNameRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.run(t, "ACopyNameTakenInAnotherCaseIsSkipped", func(t *testing.T, e *env, u user) {
		src := e.createBot(u, map[string]any{"name": "Straße"})
		e.createBot(u, map[string]any{"name": "STRASSE (COPY)"})
		res := e.post(u, botPath(src.Id, "/duplicate"), nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, "Straße (copy 2)", valRepresentation(t, res).Name)
	})
	e.run(t, "ACopyOfALegacyNameDropsWhatHidesOrReordersText", func(t *testing.T, e *env, u user) {
		src := e.createBot(u, map[string]any{"name": "Placeholder"})
		namSetLegacyName(t, e, src.Id, "invoice\u202egpj\x1b.exe", "invoice\u202egpj\x1b.exe")
		res := e.post(u, botPath(src.Id, "/duplicate"), nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, "invoicegpj.exe (copy)", valRepresentation(t, res).Name)
	})
	t.Run("ACopyOfAPublicBotWithANameInNFDIsInNFC", func(t *testing.T) {
		t.Parallel()
		e, owner, u := e.authzFor(t), newUser(t), newUser(t)
		src := e.createBot(owner, map[string]any{"name": "Placeholder", "is_public": true})
		namSetLegacyName(t, e, src.Id, "Cafe\u0301", "cafe\u0301")
		res := e.post(u, botPath(src.Id, "/duplicate"), nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Equal(t, "Caf\u00e9 (copy)", valRepresentation(t, res).Name)
	})
}

// namClash makes bot the newer of two live bots with one name, as migration 0008 leaves them
// when names stored before the folding turn out to be the same name.
func namClash(t *testing.T, e *env, id uuid.UUID, name, fold string) {
	t.Helper()
	_, err := e.pool.Exec(context.Background(),
		"UPDATE bots SET name = $2, name_fold = $3, name_clash = true WHERE id = $1", id, name, fold)
	require.NoError(t, err)
}

func TestBotsWhoseNamesClashedWhenFoldingBeganStayUsable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	setupClash := func(t *testing.T) (*env, user, api.BotResponse, api.BotResponse) {
		e, u := e.authzFor(t), newUser(t)
		older := e.createBot(u, map[string]any{"name": "Straße"})
		newer := e.createBot(u, map[string]any{"name": "Placeholder"})
		namClash(t, e, newer.Id, "STRASSE", "strasse")
		return e, u, older, newer
	}
	t.Run("BothAreReadListedAndFound", func(t *testing.T) {
		t.Parallel()
		e, u, _, newer := setupClash(t)
		require.Equal(t, "STRASSE", valRepresentation(t, e.get(u, botPath(newer.Id))).Name)
		page := lstList(e, u, url.Values{"q": {"strasse"}, "sort": {"name"}})
		require.Equal(t, []string{"STRASSE", "Straße"}, lstNames(page.Items))
	})
	t.Run("TheNewerKeepsItsNameThroughEdits", func(t *testing.T) {
		t.Parallel()
		e, u, _, newer := setupClash(t)
		for _, body := range []map[string]any{{"name": "STRASSE"}, {"description": "Edited"}, {"name": "strasse"}} {
			res := e.put(u, botPath(newer.Id), body, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
		}
	})
	t.Run("RenamedToAnotherNameItIsHeldToTheRule", func(t *testing.T) {
		t.Parallel()
		e, u, _, newer := setupClash(t)
		res := e.put(u, botPath(newer.Id), map[string]any{"name": "Renamed"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		namTaken(t, e.put(u, botPath(newer.Id), map[string]any{"name": "STRASSE"}, nil))
	})
	t.Run("RestoredItIsHeldToTheRule", func(t *testing.T) {
		t.Parallel()
		e, u, _, newer := setupClash(t)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(newer.Id)+"?confirm=true", nil).code)
		namTaken(t, e.post(u, botPath(newer.Id, "/restore"), nil))
	})
	t.Run("WhenTheOlderIsDeletedTheNewerHoldsTheName", func(t *testing.T) {
		t.Parallel()
		e, u, older, _ := setupClash(t)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(older.Id)+"?confirm=true", nil).code)
		namTaken(t, e.post(u, "/api/v1/bots", map[string]any{"name": "strasse", "model": "gpt-4o"}))
	})
	t.Run("WhenTheOlderIsRenamedTheNewerHoldsTheName", func(t *testing.T) {
		t.Parallel()
		e, u, older, _ := setupClash(t)
		res := e.put(u, botPath(older.Id), map[string]any{"name": "Elsewhere"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		namTaken(t, e.post(u, "/api/v1/bots", map[string]any{"name": "strasse", "model": "gpt-4o"}))
	})
}

// nameRace runs one subtest a spelling: on a server of its own, a user sends at once the n
// requests that send makes of the spelling's names, one for each i; then check looks at what
// the winner, which nameRaceWinner finds, left behind.
func nameRace(t *testing.T, spellings map[string]func(i int) string, n, won int,
	send func(e *env, u user, name string, i int) request, check func(t *testing.T, e *env, u user, winner api.BotResponse)) {
	t.Helper()
	for label, spell := range spellings {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			e, u := setupUser(t)
			reqs := make([]request, n)
			for i := range reqs {
				reqs[i] = send(e, u, spell(i), i)
			}
			check(t, e, u, nameRaceWinner(t, e.race(reqs), won))
		})
	}
}

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
	create := func(_ *env, u user, name string, _ int) request {
		return request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: map[string]any{"name": name, "model": "gpt-4o-mini"}}
	}
	nameRace(t, spellings, 30, http.StatusCreated, create, func(t *testing.T, e *env, u user, winner api.BotResponse) {
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

func TestConcurrentRenamesToOneName(t *testing.T) {
	t.Parallel()
	spellings := map[string]func(i int) string{
		"SameNameLetsExactlyOneWin": func(int) string { return "Renamed" },
		"NamesDifferingInCaseLetExactlyOneWin": func(i int) string {
			return []string{"Renamed", "RENAMED", "renamed", "reNAMED", "ReNaMeD"}[i%5]
		},
	}
	// Each user has ten bots, "Bot 0" to "Bot 9", which all try to take the name at once.
	rename := func(e *env, u user, name string, i int) request {
		bot := e.createBot(u, map[string]any{"name": fmt.Sprintf("Bot %d", i)})
		return request{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: map[string]any{"name": name}}
	}
	nameRace(t, spellings, 10, http.StatusOK, rename, func(t *testing.T, e *env, u user, winner api.BotResponse) {
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
