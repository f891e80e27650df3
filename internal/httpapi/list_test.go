package httpapi_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// lstList fetches one page of u's bots with the given query and fails unless it gets 200.
func lstList(e *env, u user, query url.Values) api.BotList {
	e.t.Helper()
	path := "/api/v1/bots"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	res := e.get(u, path)
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	var list api.BotList
	res.decode(e.t, &list)
	return list
}

// lstNames returns the names of a page's bots, sorted, to compare pages as sets; nil for an
// empty page.
func lstNames(items []api.BotResponse) []string {
	var names []string
	for _, b := range items {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return names
}

// lstIDs returns the ids of a page's bots in page order.
func lstIDs(items []api.BotResponse) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(items))
	for _, b := range items {
		ids = append(ids, b.Id)
	}
	return ids
}

// lstSetStatus sets the status of bots directly, as the training worker will.
func lstSetStatus(e *env, status string, ids ...uuid.UUID) {
	e.t.Helper()
	var msg *string
	if status == "error" {
		msg = new("training failed")
	}
	tag, err := e.pool.Exec(context.Background(),
		`UPDATE bots SET status = $1, status_message = $2 WHERE id = ANY($3)`, status, msg, ids)
	require.NoError(e.t, err)
	require.Equal(e.t, int64(len(ids)), tag.RowsAffected())
}

// lstCountOutcomes checks that every 409 of raced responses (already checked against the
// spec) is a name-taken problem, and counts the responses by status.
func lstCountOutcomes(t *testing.T, out []*response) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for _, res := range out {
		counts[res.code]++
		if res.code == http.StatusConflict {
			require.Equal(t, "/problems/name-taken", res.problem(t, http.StatusConflict).Type)
		}
	}
	return counts
}

func TestListDefaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	var created []api.BotResponse
	for i := range 25 {
		created = append(created, e.createBot(u, map[string]any{"name": fmt.Sprintf("Bot %02d", i)}))
	}
	newestFirst := slices.Clone(created)
	slices.SortFunc(newestFirst, func(a, b api.BotResponse) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), bytes.Compare(b.Id[:], a.Id[:]))
	})

	t.Run("ResponseHasExactlyItemsTotalSkipAndLimit", func(t *testing.T) {
		t.Parallel()
		res := e.authzFor(t).get(u, "/api/v1/bots")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		var raw map[string]json.RawMessage
		res.decode(t, &raw)
		require.ElementsMatch(t, []string{"items", "total", "skip", "limit"}, slices.Collect(maps.Keys(raw)))
	})
	t.Run("FirstPageHasTheTwentyNewestBots", func(t *testing.T) {
		t.Parallel()
		list := lstList(e.authzFor(t), u, nil)
		require.Equal(t, int32(0), list.Skip)
		require.Equal(t, int32(20), list.Limit)
		require.Equal(t, int64(25), list.Total, "total counts every bot, not the page")
		require.Equal(t, lstIDs(newestFirst[:20]), lstIDs(list.Items))
	})
	t.Run("ExplicitDefaultsGiveTheSamePage", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		implicit := lstList(e, u, nil)
		explicit := lstList(e, u, url.Values{"skip": {"0"}, "limit": {"20"}, "sort": {"-created_at"}})
		require.Equal(t, implicit, explicit)
	})
	t.Run("ItemsAreFullBots", func(t *testing.T) {
		t.Parallel()
		list := lstList(e.authzFor(t), u, url.Values{"limit": {"1"}})
		require.Len(t, list.Items, 1)
		require.Equal(t, newestFirst[0], list.Items[0])
		require.Equal(t, int64(25), list.Total)
	})
	t.Run("UserWithoutBotsGetsAnEmptyArray", func(t *testing.T) {
		t.Parallel()
		res := e.authzFor(t).get(newUser(t), "/api/v1/bots")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.JSONEq(t, `{"items":[],"total":0,"skip":0,"limit":20}`, string(res.body))
	})
}

// lstRow is a bot as the table holds it, to compute the order the list must follow.
type lstRow struct {
	id                   uuid.UUID
	name                 string
	createdAt, updatedAt time.Time
}

func TestListPagesVisitEveryBotOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	u, other := newUser(t), newUser(t)

	// ASCII names in mixed case, so that the expected name order is plain lower-casing.
	words := []string{
		"Atlas", "bison", "Comet", "delta", "Ember", "falcon", "Glacier", "harbor", "Iris",
		"jasper", "Kestrel", "lumen", "Meadow", "nova", "Orbit", "pixel", "Quartz", "raven",
		"Summit", "tundra", "Umber", "vortex", "Willow", "xenon", "Yarrow",
	}
	var mine []uuid.UUID
	for i, w := range words {
		mine = append(mine, e.createBot(u, map[string]any{"name": w, "is_public": i%3 == 0}).Id)
	}
	// Another user's bots, public ones included, must never show up.
	e.createBot(other, map[string]any{"name": "Atlas", "is_public": true})
	e.createBot(other, map[string]any{"name": "Zephyr", "is_public": true})
	e.createBot(other, map[string]any{"name": "hidden"})
	// Some updates, so that the update order differs from the creation order.
	for _, id := range []uuid.UUID{mine[20], mine[2], mine[11]} {
		res := e.put(u, botPath(id), map[string]any{"temperature": 1.1}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	}
	// A deleted bot, which must appear on no page.
	gone := e.createBot(u, map[string]any{"name": "Gone"})
	require.Equal(t, http.StatusOK, e.delete(u, botPath(gone.Id)+"?confirm=true", nil).code)
	// Ties: ten bots (and the deleted one) share both timestamps; five more share only
	// updated_at.
	_, err := e.pool.Exec(ctx, `UPDATE bots SET created_at = '2026-01-01T00:00:00Z', updated_at = '2026-01-01T00:00:00Z'
		WHERE owner_id = $1 AND (id = ANY($2) OR id = $3)`, u.id, mine[5:15], gone.Id)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE bots SET updated_at = '2030-01-01T00:00:00Z' WHERE id = ANY($1)`, mine[17:22])
	require.NoError(t, err)

	pgRows, err := e.pool.Query(ctx,
		`SELECT id, name, created_at, updated_at FROM bots WHERE owner_id = $1 AND deleted_at IS NULL`, u.id)
	require.NoError(t, err)
	var rows []lstRow
	for pgRows.Next() {
		var r lstRow
		require.NoError(t, pgRows.Scan(&r.id, &r.name, &r.createdAt, &r.updatedAt))
		rows = append(rows, r)
	}
	require.NoError(t, pgRows.Err())
	require.Len(t, rows, len(words))

	byID := func(a, b lstRow) int { return bytes.Compare(a.id[:], b.id[:]) }
	ascending := map[string]func(a, b lstRow) int{
		"created_at": func(a, b lstRow) int { return cmp.Or(a.createdAt.Compare(b.createdAt), byID(a, b)) },
		"updated_at": func(a, b lstRow) int { return cmp.Or(a.updatedAt.Compare(b.updatedAt), byID(a, b)) },
		"name": func(a, b lstRow) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), byID(a, b))
		},
	}
	sorts := []struct{ param, sentence string }{
		{"created_at", "OldestFirst"},
		{"-created_at", "NewestFirst"},
		{"updated_at", "LeastRecentlyUpdatedFirst"},
		{"-updated_at", "MostRecentlyUpdatedFirst"},
		{"name", "ByName"},
		{"-name", "ByNameDescending"},
	}
	for _, s := range sorts {
		// Ascending sorts break ties by ascending id, descending sorts by descending id, so a
		// descending order is exactly the reverse of its ascending one.
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, ascending[strings.TrimPrefix(s.param, "-")])
		if strings.HasPrefix(s.param, "-") {
			slices.Reverse(sorted)
		}
		var want []uuid.UUID
		for _, r := range sorted {
			want = append(want, r.id)
		}
		for _, size := range []int{1, 3, 7, 100} {
			t.Run(fmt.Sprintf("%sInPagesOf%dVisitsEveryBotOnceInOrder", s.sentence, size), func(t *testing.T) {
				t.Parallel()
				e := e.authzFor(t)
				var got []uuid.UUID
				for skip := 0; skip < len(rows); skip += size {
					page := lstList(e, u, url.Values{
						"sort": {s.param}, "skip": {fmt.Sprint(skip)}, "limit": {fmt.Sprint(size)},
					})
					require.Equal(t, int64(len(rows)), page.Total)
					require.Equal(t, int32(skip), page.Skip)
					require.Equal(t, int32(size), page.Limit)
					require.Len(t, page.Items, min(size, len(rows)-skip), "page at skip %d", skip)
					for _, b := range page.Items {
						require.Equal(t, u.id, b.OwnerId)
					}
					got = append(got, lstIDs(page.Items)...)
				}
				seen := map[uuid.UUID]int{}
				for _, id := range got {
					seen[id]++
				}
				for id, n := range seen {
					require.Equal(t, 1, n, "bot %s is on more than one page", id)
				}
				require.ElementsMatch(t, mine, got, "the pages hold exactly the caller's live bots")
				require.Equal(t, want, got, "the pages follow the %s order, ties broken by id", s.param)

				past := lstList(e, u, url.Values{"sort": {s.param}, "skip": {fmt.Sprint(len(rows))}, "limit": {fmt.Sprint(size)}})
				require.Empty(t, past.Items)
				require.Equal(t, int64(len(rows)), past.Total)
			})
		}
	}
}

func TestListSortsNamesIgnoringCase(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	// A case-sensitive (byte) order would put "Beta" and "Delta" before "alpha".
	for _, name := range []string{"gamma", "Delta", "alpha", "charlie", "Beta"} {
		e.createBot(u, map[string]any{"name": name})
	}
	cases := []struct {
		name, sort string
		want       []string
	}{
		{"AscendingPutsAlphaBeforeBeta", "name", []string{"alpha", "Beta", "charlie", "Delta", "gamma"}},
		{"DescendingPutsGammaBeforeDelta", "-name", []string{"gamma", "Delta", "charlie", "Beta", "alpha"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			list := lstList(e.authzFor(t), u, url.Values{"sort": {c.sort}})
			var got []string
			for _, b := range list.Items {
				got = append(got, b.Name)
			}
			require.Equal(t, c.want, got)
		})
	}
}

func TestListPageBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	e.createBot(u, map[string]any{"name": "First"})
	_, err := e.pool.Exec(context.Background(), `INSERT INTO bots (id, owner_id, name, name_fold, model, temperature, system_prompt, is_public)
		SELECT gen_random_uuid(), $1, 'Bulk ' || i, 'bulk ' || i, 'gpt-4o-mini', 0.7, '', false FROM generate_series(1, 104) AS i`, u.id)
	require.NoError(t, err)
	const total = 105

	cases := []struct {
		name        string
		skip, limit string
		items       int
	}{
		{"LimitOfOneGivesOneBot", "0", "1", 1},
		{"LimitOfHundredGivesAHundredBots", "0", "100", 100},
		{"LastPartialPageGivesTheRest", "100", "100", 5},
		{"SkipOneBeforeTheEndGivesTheLastBot", "104", "20", 1},
		{"SkipEqualToTotalGivesNothing", "105", "20", 0},
		{"SkipBeyondTotalGivesNothing", "1000", "20", 0},
		{"LargestSkipGivesNothing", "1000000000", "100", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			list := lstList(e.authzFor(t), u, url.Values{"skip": {c.skip}, "limit": {c.limit}})
			require.Len(t, list.Items, c.items)
			require.NotNil(t, list.Items)
			require.Equal(t, int64(total), list.Total)
			require.Equal(t, c.skip, fmt.Sprint(list.Skip))
			require.Equal(t, c.limit, fmt.Sprint(list.Limit))
		})
	}
}

func TestListRefusesOutOfRangeParameters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	e.createBot(u, map[string]any{"name": "Only"})

	cases := []struct {
		name, param, value string
	}{
		{"NegativeSkip", "skip", "-1"},
		{"SkipOverTheMaximum", "skip", "1000000001"},
		{"SkipThatIsNotANumber", "skip", "ten"},
		{"HugeSkip", "skip", "99999999999999999999999999"},
		{"LimitOfZero", "limit", "0"},
		{"NegativeLimit", "limit", "-5"},
		{"LimitOverAHundred", "limit", "101"},
		{"FractionalLimit", "limit", "1.5"},
		{"UnknownSort", "sort", "size"},
		{"SortInUpperCase", "sort", "NAME"},
		{"UnknownStatus", "status", "deleted"},
		{"IsPublicThatIsNotABoolean", "is_public", "yes"},
		{"QOver200Characters", "q", strings.Repeat("日", 201)},
		{"ModelOver100Characters", "model", strings.Repeat("é", 101)},
	}
	for _, c := range cases {
		t.Run(c.name+"IsRefused", func(t *testing.T) {
			t.Parallel()
			res := e.authzFor(t).get(u, "/api/v1/bots?"+url.Values{c.param: {c.value}}.Encode())
			p := res.problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, "/problems/validation", p.Type)
			require.Equal(t, []string{"query:" + c.param}, fieldsOf(p))
		})
	}
	accepted := []struct {
		name, param, value string
	}{
		{"QOf200Characters", "q", strings.Repeat("日", 200)},
		{"ModelOf100Characters", "model", strings.Repeat("é", 100)},
	}
	for _, c := range accepted {
		t.Run(c.name+"IsAccepted", func(t *testing.T) {
			t.Parallel()
			list := lstList(e.authzFor(t), u, url.Values{c.param: {c.value}})
			require.Empty(t, list.Items)
			require.Equal(t, int64(0), list.Total)
		})
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u, other := newUser(t), newUser(t)
	supportBot := e.createBot(u, map[string]any{"name": "Support bot", "model": "gpt-4o-mini", "is_public": true})
	e.createBot(u, map[string]any{"name": "Support desk", "description": "Tickets", "model": "claude-3-haiku"})
	sales := e.createBot(u, map[string]any{"name": "Sales helper", "description": "Finds SUPPORT leads", "model": "claude-3-haiku", "is_public": true})
	billing := e.createBot(u, map[string]any{"name": "Billing", "model": "gpt-4o"})
	e.createBot(u, map[string]any{"name": "Archive", "model": "gpt-4o-mini"})
	lstSetStatus(e, "active", supportBot.Id, billing.Id)
	lstSetStatus(e, "error", sales.Id)
	// Another user's bots that match every filter must never be counted.
	theirs := e.createBot(other, map[string]any{"name": "Support bot", "model": "gpt-4o-mini", "is_public": true})
	lstSetStatus(e, "active", theirs.Id)

	cases := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"StatusActive", url.Values{"status": {"active"}}, []string{"Billing", "Support bot"}},
		{"StatusError", url.Values{"status": {"error"}}, []string{"Sales helper"}},
		{"StatusTraining", url.Values{"status": {"training"}}, []string{"Archive", "Support desk"}},
		{"Model", url.Values{"model": {"claude-3-haiku"}}, []string{"Sales helper", "Support desk"}},
		{"ModelMatchesExactly", url.Values{"model": {"gpt-4o"}}, []string{"Billing"}},
		{"ModelNobodyUses", url.Values{"model": {"mistral-small"}}, nil},
		{"ModelOutsideTheCatalog", url.Values{"model": {"gpt"}}, nil},
		{"PublicOnly", url.Values{"is_public": {"true"}}, []string{"Sales helper", "Support bot"}},
		{"PrivateOnly", url.Values{"is_public": {"false"}}, []string{"Archive", "Billing", "Support desk"}},
		{"SearchInNameOrDescription", url.Values{"q": {"support"}}, []string{"Sales helper", "Support bot", "Support desk"}},
		{"SearchAndPrivate", url.Values{"q": {"support"}, "is_public": {"false"}}, []string{"Support desk"}},
		{"SearchAndStatus", url.Values{"q": {"support"}, "status": {"active"}}, []string{"Support bot"}},
		{"SearchModelAndPublic", url.Values{"q": {"Support"}, "model": {"claude-3-haiku"}, "is_public": {"true"}}, []string{"Sales helper"}},
		{"StatusAndPrivate", url.Values{"status": {"active"}, "is_public": {"false"}}, []string{"Billing"}},
		{"FiltersThatExcludeEachOther", url.Values{"q": {"support"}, "status": {"training"}, "model": {"gpt-4o-mini"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name+"FiltersItemsAndTotal", func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			list := lstList(e, u, c.query)
			require.Equal(t, c.want, lstNames(list.Items))
			require.Equal(t, int64(len(c.want)), list.Total)

			// The total is over the filtered bots, not the page.
			q := maps.Clone(c.query)
			q.Set("limit", "1")
			page := lstList(e, u, q)
			require.Len(t, page.Items, min(1, len(c.want)))
			require.Equal(t, int64(len(c.want)), page.Total)
		})
	}
}

func TestListSearch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u, other := newUser(t), newUser(t)
	for _, b := range []map[string]any{
		{"name": "100% sure"},
		{"name": "100 percent"},
		{"name": "a_b"},
		{"name": "axb"},
		{"name": `back\slash`},
		{"name": "Support bot"},
		{"name": "Notes", "description": "Mentions a zebra crossing"},
		{"name": "Éclair"},
		{"name": "Plain", "description": "Nothing special"},
	} {
		e.createBot(u, b)
	}
	// Another user's matching bots, even public ones, are never found.
	e.createBot(other, map[string]any{"name": "100% sure", "is_public": true})
	e.createBot(other, map[string]any{"name": "a_b", "is_public": true})

	cases := []struct {
		name, q string
		want    []string
	}{
		{"UpperCaseFindsMixedCaseName", "SUPP", []string{"Support bot"}},
		{"WordOnlyInTheDescription", "ZEBRA", []string{"Notes"}},
		{"SubstringInTheMiddle", "ort b", []string{"Support bot"}},
		{"PercentIsLiteral", "%", []string{"100% sure"}},
		{"PercentInsideTextIsLiteral", "0% s", []string{"100% sure"}},
		{"PercentDoesNotMatchAnything", "%sure", nil},
		{"UnderscoreIsLiteral", "_", []string{"a_b"}},
		{"UnderscoreDoesNotMatchAnyCharacter", "a_b", []string{"a_b"}},
		{"UnderscoreIgnoringCase", "A_B", []string{"a_b"}},
		{"BackslashIsLiteral", `\`, []string{`back\slash`}},
		{"BackslashBeforeALetterIsLiteral", `k\s`, []string{`back\slash`}},
		{"CommonPrefix", "100", []string{"100 percent", "100% sure"}},
		{"MultibyteIgnoringCase", "éCL", []string{"Éclair"}},
		{"NoMatch", "nothing here", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			list := lstList(e.authzFor(t), u, url.Values{"q": {c.q}})
			require.Equal(t, c.want, lstNames(list.Items), "q=%q", c.q)
			require.Equal(t, int64(len(c.want)), list.Total)
			for _, b := range list.Items {
				require.Equal(t, u.id, b.OwnerId)
			}
		})
	}
}

func TestListShowsOnlyTheCallersLiveBots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u, other := newUser(t), newUser(t)
	one := e.createBot(u, map[string]any{"name": "Mine one"})
	two := e.createBot(u, map[string]any{"name": "Mine two", "is_public": true})
	three := e.createBot(u, map[string]any{"name": "Mine three"})
	theirPublic := e.createBot(other, map[string]any{"name": "Mine one", "is_public": true})
	theirPrivate := e.createBot(other, map[string]any{"name": "Theirs"})

	list := lstList(e, u, nil)
	require.ElementsMatch(t, []uuid.UUID{one.Id, two.Id, three.Id}, lstIDs(list.Items))
	require.Equal(t, int64(3), list.Total)
	require.ElementsMatch(t, []uuid.UUID{theirPublic.Id, theirPrivate.Id}, lstIDs(lstList(e, other, nil).Items))

	public := lstList(e, u, url.Values{"is_public": {"true"}})
	require.Equal(t, []uuid.UUID{two.Id}, lstIDs(public.Items), "another user's public bot is not the caller's")
	require.Equal(t, int64(1), public.Total)

	named := lstList(e, u, url.Values{"q": {"Mine one"}})
	require.Equal(t, []uuid.UUID{one.Id}, lstIDs(named.Items))

	res := e.delete(u, botPath(three.Id)+"?confirm=true", nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	list = lstList(e, u, nil)
	require.ElementsMatch(t, []uuid.UUID{one.Id, two.Id}, lstIDs(list.Items), "a deleted bot leaves the list")
	require.Equal(t, int64(2), list.Total)
	searched := lstList(e, u, url.Values{"q": {"three"}})
	require.Empty(t, searched.Items)
	require.Equal(t, int64(0), searched.Total)
	training := lstList(e, u, url.Values{"status": {"training"}, "is_public": {"false"}})
	require.Equal(t, []uuid.UUID{one.Id}, lstIDs(training.Items))
	require.Equal(t, int64(1), training.Total)

	res = e.post(u, botPath(three.Id, "/restore"), nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	list = lstList(e, u, nil)
	require.ElementsMatch(t, []uuid.UUID{one.Id, two.Id, three.Id}, lstIDs(list.Items), "a restored bot comes back")
	require.Equal(t, int64(3), list.Total)
	searched = lstList(e, u, url.Values{"q": {"three"}})
	require.Equal(t, []uuid.UUID{three.Id}, lstIDs(searched.Items))
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
			e := setup(t)
			u := newUser(t)
			var reqs []request
			for i := range 30 {
				reqs = append(reqs, request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: map[string]any{"name": spell(i), "model": "gpt-4o-mini"}})
			}
			out := e.race(reqs)

			counts := lstCountOutcomes(t, out)
			require.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusConflict: 29}, counts)
			var winner api.BotResponse
			for _, res := range out {
				if res.code == http.StatusCreated {
					res.decode(t, &winner)
				}
			}
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
			e := setup(t)
			u := newUser(t)
			var reqs []request
			for i := range 10 {
				bot := e.createBot(u, map[string]any{"name": fmt.Sprintf("Bot %d", i)})
				reqs = append(reqs, request{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: map[string]any{"name": spell(i)}})
			}
			out := e.race(reqs)

			counts := lstCountOutcomes(t, out)
			require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusConflict: 9}, counts)
			var winner api.BotResponse
			for _, res := range out {
				if res.code == http.StatusOK {
					res.decode(t, &winner)
				}
			}
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
