package httpapi_test

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Every filter, alone and combined, selects the caller's live matching bots, with their
// total, on every page, under every sort the spec allows: each sort order has its own query
// with its own copy of the filters (sql/queries/bot_list.sql), so each is checked.
func TestListFilters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u, other := newUser(t), newUser(t)
	supportBot := e.createBot(u, map[string]any{"name": "Support bot", "model": "gpt-4o-mini", "is_public": true})
	e.createBot(u, map[string]any{"name": "Support desk", "description": "Tickets", "model": "claude-3-haiku"})
	sales := e.createBot(u, map[string]any{"name": "Sales helper", "description": "Finds SUPPORT leads", "model": "claude-3-haiku", "is_public": true})
	billing := e.createBot(u, map[string]any{"name": "Billing", "model": "gpt-4o"})
	e.createBot(u, map[string]any{"name": "Archive", "model": "gpt-4o-mini"})
	e.setStatus("active", "", supportBot.Id, billing.Id)
	e.setStatus("error", "training failed", sales.Id)
	// Another user's bots that match every filter must never be counted.
	theirs := e.createBot(other, map[string]any{"name": "Support bot", "model": "gpt-4o-mini", "is_public": true})
	e.setStatus("active", "", theirs.Id)
	// Nor a deleted bot of the caller's that matches every filter.
	gone := e.createBot(u, map[string]any{"name": "Support gone", "description": "Support", "model": "gpt-4o-mini", "is_public": true})
	e.setStatus("active", "", gone.Id)
	require.Equal(t, http.StatusOK, e.delete(u, botPath(gone.Id)+"?confirm=true", nil).code)

	cases := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"NoFilter", url.Values{}, []string{"Archive", "Billing", "Sales helper", "Support bot", "Support desk"}},
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
	for _, sort := range lstSorts(t) {
		t.Run("SortedBy"+lstSortName(sort), func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name+"FiltersItemsAndTotal", func(t *testing.T) {
					t.Parallel()
					e := e.authzFor(t)
					query := maps.Clone(c.query)
					query.Set("sort", sort)
					list := lstList(e, u, query)
					require.Equal(t, c.want, lstNames(list.Items))
					require.Equal(t, int64(len(c.want)), list.Total)

					// The total is over the filtered bots, not the page.
					q := maps.Clone(query)
					q.Set("limit", "1")
					page := lstList(e, u, q)
					require.Len(t, page.Items, min(1, len(c.want)))
					require.Equal(t, int64(len(c.want)), page.Total)

					// Pages of two visit every matching bot once, up to a page past the end
					// (which has no row to carry the total), each with the same total.
					var walked []api.BotResponse
					for skip := 0; ; skip += 2 {
						q.Set("limit", "2")
						q.Set("skip", strconv.Itoa(skip))
						page := lstList(e, u, q)
						require.Equal(t, int64(len(c.want)), page.Total, "skip=%d", skip)
						walked = append(walked, page.Items...)
						if len(page.Items) < 2 {
							break
						}
					}
					require.Equal(t, c.want, lstNames(walked))
				})
			}
		})
	}
}

// lstSorts are the sort orders of the list that openapi.yaml allows.
func lstSorts(t *testing.T) []string {
	t.Helper()
	doc, err := api.GetSwagger()
	require.NoError(t, err)
	param := doc.Paths.Find("/api/v1/bots").Get.Parameters.GetByInAndName("query", "sort")
	require.NotNil(t, param, "the list has a sort parameter")
	var sorts []string
	for _, v := range param.Schema.Value.Enum {
		sorts = append(sorts, v.(string))
	}
	require.NotEmpty(t, sorts)
	return sorts
}

// lstSortName names a sort order for a subtest: -created_at is CreatedAtDescending.
func lstSortName(sort string) string {
	if name, ok := strings.CutPrefix(sort, "-"); ok {
		return camel(name) + "Descending"
	}
	return camel(sort) + "Ascending"
}

// A search finds the caller's bots whose name or description holds the text: %, _ and \ are
// read as themselves, and case is ignored in the sense of Unicode full case folding, as are
// invisible characters. Each case searches the bots of one of two users: literal's, for how
// the text is read, and folded's, for how names and descriptions are folded.
func TestListSearch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	literal, folded, other := newUser(t), newUser(t), newUser(t)
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
		e.createBot(literal, b)
	}
	for _, b := range []map[string]any{
		{"name": "Straße helper"},
		{"name": "ΟΔΟΣ guide"},
		{"name": "Cafe\u0301 finder"},
		{"name": "Micro", "description": "Measures in \u00b5m"},
		{"name": "Sale", "description": "100% off, SALE_2026"},
		{"name": "Thousand", "description": "1000 items"},
		{"name": "Hidden", "description": "Sup\u200bport desk"},
	} {
		e.createBot(folded, b)
	}
	// Another user's matching bots, even public ones, are never found.
	e.createBot(other, map[string]any{"name": "100% sure", "is_public": true})
	e.createBot(other, map[string]any{"name": "a_b", "is_public": true})

	for name, c := range map[string]struct {
		as   user
		q    string
		want []string
	}{
		"UpperCaseFindsMixedCaseName":        {literal, "SUPP", []string{"Support bot"}},
		"WordOnlyInTheDescription":           {literal, "ZEBRA", []string{"Notes"}},
		"SubstringInTheMiddle":               {literal, "ort b", []string{"Support bot"}},
		"PercentIsLiteral":                   {literal, "%", []string{"100% sure"}},
		"PercentInsideTextIsLiteral":         {literal, "0% s", []string{"100% sure"}},
		"PercentDoesNotMatchAnything":        {literal, "%sure", nil},
		"UnderscoreIsLiteral":                {literal, "_", []string{"a_b"}},
		"UnderscoreDoesNotMatchAnyCharacter": {literal, "a_b", []string{"a_b"}},
		"UnderscoreIgnoringCase":             {literal, "A_B", []string{"a_b"}},
		"BackslashIsLiteral":                 {literal, `\`, []string{`back\slash`}},
		"BackslashBeforeALetterIsLiteral":    {literal, `k\s`, []string{`back\slash`}},
		"CommonPrefix":                       {literal, "100", []string{"100 percent", "100% sure"}},
		"MultibyteIgnoringCase":              {literal, "éCL", []string{"Éclair"}},
		"NoMatch":                            {literal, "nothing here", nil},
		"SharpSIsDoubleS":                    {folded, "STRASSE", []string{"Straße helper"}},
		"FinalSigma":                         {folded, "οδος", []string{"ΟΔΟΣ guide"}},
		"DecomposedAccentFindsComposed":      {folded, "CAFE\u0301", []string{"Café finder"}},
		"ComposedAccentFindsComposed":        {folded, "caf\u00e9", []string{"Café finder"}},
		"GreekMuFindsMicroSign":              {folded, "\u03bcm", []string{"Micro"}},
		"InvisibleCharactersAreIgnored":      {folded, "support", []string{"Hidden"}},
		"PercentInADescriptionIsLiteral":     {folded, "100%", []string{"Sale"}},
		"UnderscoreInADescriptionIsLiteral":  {folded, "e_2", []string{"Sale"}},
		"ShortTextStillMatches":              {folded, "ΟΣ", []string{"ΟΔΟΣ guide"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			list := lstList(e.authzFor(t), c.as, url.Values{"q": {c.q}, "sort": {"name"}})
			require.Equal(t, c.want, lstNames(list.Items), "q=%q", c.q)
			require.Equal(t, int64(len(c.want)), list.Total)
			for _, b := range list.Items {
				require.Equal(t, c.as.id, b.OwnerId)
			}
		})
	}
	t.Run("ASearchTextOfOnlyInvisibleCharactersIsRefused", func(t *testing.T) {
		t.Parallel()
		valNamesOnly(t, e.authzFor(t).get(literal, "/api/v1/bots?q="+url.QueryEscape("\u200b\ufeff")), "query", "q")
	})
}
