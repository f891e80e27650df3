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
	list := decoded[api.BotList](e.t, res)
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

func TestListDefaults(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
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
	e, u := setupUser(t)
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
	e, u := setupUser(t)
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

// The bounds of the list's query parameters are checked and named; text that no column
// could hold is unreadable; the edges of each range are accepted.
func TestListQueryParameters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := newUser(t)
	e.createBot(owner, map[string]any{"name": "Support", "description": "help desk"})
	cases := []struct {
		name  string
		query string
		field string // the query parameter a 422 names; "" means accepted
		bad   bool   // 400 bad-request
		total int64  // the page's total when accepted
		items int    // the page's length when accepted
	}{
		{name: "LimitOfZeroIsRefused", query: "limit=0", field: "limit"},
		{name: "LimitOfOneHundredAndOneIsRefused", query: "limit=101", field: "limit"},
		{name: "NegativeLimitIsRefused", query: "limit=-1", field: "limit"},
		{name: "QMatchingTheDescriptionIsAccepted", query: "q=HELP", total: 1, items: 1},
		{name: "LimitInExponentNotationIsRefused", query: "limit=1e99", field: "limit"},
		{name: "FractionalLimitIsRefused", query: "limit=1.5", field: "limit"},
		{name: "NonNumericLimitIsRefused", query: "limit=abc", field: "limit"},
		{name: "LimitBeyondAnyIntegerIsRefused", query: "limit=99999999999999999999", field: "limit"},
		{name: "EmptyLimitIsRefused", query: "limit=", field: "limit"},
		{name: "LimitOfMinusFiveIsRefused", query: "limit=-5", field: "limit"},
		{name: "NegativeSkipIsRefused", query: "skip=-1", field: "skip"},
		{name: "NonNumericSkipIsRefused", query: "skip=abc", field: "skip"},
		{name: "HugeSkipIsRefused", query: "skip=99999999999999999999", field: "skip"},
		{name: "SkipJustOverItsMaximumIsRefused", query: "skip=1000000001", field: "skip"},
		{name: "SkipThatIsAWordIsRefused", query: "skip=ten", field: "skip"},
		{name: "SkipOfTwentySixDigitsIsRefused", query: "skip=99999999999999999999999999", field: "skip"},
		{name: "UnknownSortIsRefused", query: "sort=bogus", field: "sort"},
		{name: "SortByAnUnlistedColumnIsRefused", query: "sort=owner_id", field: "sort"},
		{name: "SortBySizeIsRefused", query: "sort=size", field: "sort"},
		{name: "SortInUpperCaseIsRefused", query: "sort=NAME", field: "sort"},
		{name: "UnknownStatusIsRefused", query: "status=bogus", field: "status"},
		{name: "StatusDifferingOnlyInCaseIsRefused", query: "status=ACTIVE", field: "status"},
		{name: "DeletedStatusIsRefused", query: "status=deleted", field: "status"},
		{name: "IsPublicMaybeIsRefused", query: "is_public=maybe", field: "is_public"},
		{name: "IsPublicYesIsRefused", query: "is_public=yes", field: "is_public"},
		{name: "QOfTwoHundredAndOneCharactersIsRefused", query: "q=" + url.QueryEscape(strings.Repeat("é", 201)), field: "q"},
		{name: "QOfTwoHundredAndOneCJKCharactersIsRefused", query: "q=" + url.QueryEscape(strings.Repeat("日", 201)), field: "q"},
		{name: "EmptyQIsRefused", query: "q=", field: "q"},
		{name: "EmptyModelIsRefused", query: "model=", field: "model"},
		{name: "ModelOfOneHundredAndOneCharactersIsRefused", query: "model=" + strings.Repeat("m", 101), field: "model"},
		{name: "ModelOfOneHundredAndOneMultibyteCharactersIsRefused", query: "model=" + url.QueryEscape(strings.Repeat("é", 101)), field: "model"},
		{name: "InvalidUtf8InQIsBadRequest", query: "q=%FF", bad: true},
		{name: "InvalidUtf8InAParameterNameIsBadRequest", query: "%FF=1", bad: true},
		{name: "NulInQIsBadRequest", query: "q=%00", bad: true},
		{name: "NulInModelIsBadRequest", query: "model=gpt%00", bad: true},
		{name: "LimitOfOneIsAccepted", query: "limit=1", total: 1, items: 1},
		{name: "LimitOfOneHundredIsAccepted", query: "limit=100", total: 1, items: 1},
		{name: "SkipOfZeroIsAccepted", query: "skip=0", total: 1, items: 1},
		{name: "SkipAtItsMaximumIsAccepted", query: "skip=1000000000", total: 1, items: 0},
		{name: "QOfTwoHundredMultibyteCharactersIsAccepted", query: "q=" + url.QueryEscape(strings.Repeat("é", 200)), total: 0, items: 0},
		{name: "QOfTwoHundredCJKCharactersIsAccepted", query: "q=" + url.QueryEscape(strings.Repeat("日", 200)), total: 0, items: 0},
		{name: "ModelOfOneHundredMultibyteCharactersIsAccepted", query: "model=" + url.QueryEscape(strings.Repeat("é", 100)), total: 0, items: 0},
		{name: "DescendingNameSortIsAccepted", query: "sort=-name", total: 1, items: 1},
		{name: "IsPublicFalseIsAccepted", query: "is_public=false", total: 1, items: 1},
		{name: "StatusTrainingIsAccepted", query: "status=training", total: 1, items: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := e.get(owner, "/api/v1/bots?"+c.query)
			switch {
			case c.bad:
				valProblem(t, res, http.StatusBadRequest, valTypeBadRequest)
			case c.field != "":
				require.Equal(t, []string{"query:" + c.field}, fieldsOf(valNamesOnly(t, res, "query", c.field)))
			default:
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				list := decoded[api.BotList](t, res)
				require.Equal(t, c.total, list.Total)
				require.Len(t, list.Items, c.items)
			}
		})
	}
	t.Run("SeveralBadParametersAreAllNamed", func(t *testing.T) {
		t.Parallel()
		res := e.get(owner, "/api/v1/bots?limit=0&skip=-1&sort=bogus&status=bogus&is_public=maybe")
		p := valProblem(t, res, http.StatusUnprocessableEntity, valTypeValidation)
		require.ElementsMatch(t, []string{"query:limit", "query:skip", "query:sort", "query:status", "query:is_public"}, fieldsOf(p))
	})
	t.Run("DefaultsAreEchoedInThePage", func(t *testing.T) {
		t.Parallel()
		list := lstList(e.authzFor(t), owner, nil)
		require.Equal(t, int32(0), list.Skip)
		require.Equal(t, int32(20), list.Limit)
		require.Equal(t, int64(1), list.Total)
	})
	t.Run("AVeryLongQueryStringOfJunkParametersNeverFailsTheServer", func(t *testing.T) {
		t.Parallel()
		var q strings.Builder
		for i := range 20000 {
			fmt.Fprintf(&q, "junk%d=%d&", i, i)
		}
		q.WriteString("limit=5")
		res := e.get(owner, "/api/v1/bots?"+q.String())
		require.Less(t, res.code, 500, string(res.body))
		if res.code != http.StatusOK {
			valClientError(t, res)
			return
		}
		list := decoded[api.BotList](t, res)
		require.Equal(t, int64(1), list.Total)
	})
	t.Run("RepeatedJunkValuesOfOneParameterNeverFailTheServer", func(t *testing.T) {
		t.Parallel()
		res := e.get(owner, "/api/v1/bots?"+strings.Repeat("limit=5&", 5000)+"limit=abc")
		require.Less(t, res.code, 500, string(res.body))
		if res.code != http.StatusOK {
			valClientError(t, res)
		}
	})
}

// The unfiltered total of a list comes from a counter kept by a trigger; whatever happens to
// the bots, it must equal a count of the live ones.
func TestTheLiveBotCounterMatchesTheBots(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		var counter, live int64
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT coalesce(sum(live), 0) FROM bot_counts WHERE owner_id = $1", u.id).Scan(&counter))
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM bots WHERE owner_id = $1 AND deleted_at IS NULL", u.id).Scan(&live))
		require.Equal(t, live, counter, step)
		var page api.BotList
		e.get(u, "/api/v1/bots?limit=1").decode(t, &page)
		require.Equal(t, live, page.Total, step)
	}

	creates := make([]request, 20)
	for i := range creates {
		creates[i] = request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: fmt.Sprintf(`{"name":"Bot %d","model":"gpt-4o"}`, i)}
	}
	for i, res := range e.race(creates) {
		require.Equal(t, http.StatusCreated, res.code, "create of Bot %d", i)
	}
	check("after concurrent creates")

	first := e.createBot(u, map[string]any{"name": "First"})
	copied := e.post(u, botPath(first.Id, "/duplicate"), nil)
	require.Equal(t, http.StatusCreated, copied.code)
	check("after a duplicate")

	require.Equal(t, http.StatusOK, e.delete(u, botPath(first.Id), map[string]string{"If-Match": "*"}).code)
	check("after a delete")
	require.Equal(t, http.StatusOK, e.post(u, botPath(first.Id, "/restore"), nil).code)
	check("after a restore")

	require.Equal(t, http.StatusOK, e.delete(u, botPath(first.Id), map[string]string{"If-Match": "*"}).code)
	_, err := e.pool.Exec(ctx, "UPDATE bots SET deleted_at = now() - interval '40 days' WHERE id = $1", first.Id)
	require.NoError(t, err)
	_, err = e.svc.PurgeDeleted(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	check("after a purge")

	// A failed write changes no count.
	e.post(u, "/api/v1/bots", map[string]any{"name": "Bot 1", "model": "gpt-4o"}).problem(t, http.StatusConflict)
	check("after a refused create")
}
