package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

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
		{name: "NegativeSkipIsRefused", query: "skip=-1", field: "skip"},
		{name: "NonNumericSkipIsRefused", query: "skip=abc", field: "skip"},
		{name: "HugeSkipIsRefused", query: "skip=99999999999999999999", field: "skip"},
		{name: "SkipJustOverItsMaximumIsRefused", query: "skip=1000000001", field: "skip"},
		{name: "UnknownSortIsRefused", query: "sort=bogus", field: "sort"},
		{name: "SortByAnUnlistedColumnIsRefused", query: "sort=owner_id", field: "sort"},
		{name: "UnknownStatusIsRefused", query: "status=bogus", field: "status"},
		{name: "StatusDifferingOnlyInCaseIsRefused", query: "status=ACTIVE", field: "status"},
		{name: "IsPublicMaybeIsRefused", query: "is_public=maybe", field: "is_public"},
		{name: "QOfTwoHundredAndOneCharactersIsRefused", query: "q=" + url.QueryEscape(strings.Repeat("é", 201)), field: "q"},
		{name: "EmptyQIsRefused", query: "q=", field: "q"},
		{name: "EmptyModelIsRefused", query: "model=", field: "model"},
		{name: "ModelOfOneHundredAndOneCharactersIsRefused", query: "model=" + strings.Repeat("m", 101), field: "model"},
		{name: "InvalidUtf8InQIsBadRequest", query: "q=%FF", bad: true},
		{name: "InvalidUtf8InAParameterNameIsBadRequest", query: "%FF=1", bad: true},
		{name: "NulInQIsBadRequest", query: "q=%00", bad: true},
		{name: "NulInModelIsBadRequest", query: "model=gpt%00", bad: true},
		{name: "LimitOfOneIsAccepted", query: "limit=1", total: 1, items: 1},
		{name: "LimitOfOneHundredIsAccepted", query: "limit=100", total: 1, items: 1},
		{name: "SkipOfZeroIsAccepted", query: "skip=0", total: 1, items: 1},
		{name: "SkipAtItsMaximumIsAccepted", query: "skip=1000000000", total: 1, items: 0},
		{name: "QOfTwoHundredMultibyteCharactersIsAccepted", query: "q=" + url.QueryEscape(strings.Repeat("é", 200)), total: 0, items: 0},
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
				valNamesOnly(t, res, "query", c.field)
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

// A bot id that is not a UUID is a validation problem on the path, for every operation on a
// bot, and never reaches the database as a 500.
func TestMalformedBotIdsInThePath(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	valid := uuid.NewString()
	ids := map[string]string{
		"Letters":               "abc",
		"Digits":                "123",
		"UuidWithATrailingChar": valid + "0",
		"UuidWithATrailingX":    valid + "x",
		"UuidMissingAChar":      valid[:len(valid)-1],
		"Nul":                   "%00",
		"EncodedSpace":          "%20",
	}
	ops := []struct {
		name   string
		method string
		suffix string
		body   any
	}{
		{name: "Get", method: http.MethodGet},
		{name: "Put", method: http.MethodPut, body: map[string]any{"name": "x"}},
		{name: "Delete", method: http.MethodDelete, suffix: "?confirm=true"},
		{name: "Restore", method: http.MethodPost, suffix: "/restore"},
		{name: "Duplicate", method: http.MethodPost, suffix: "/duplicate"},
		{name: "Train", method: http.MethodPost, suffix: "/train"},
	}
	for idName, id := range ids {
		for _, op := range ops {
			t.Run(op.name+"With"+idName+"AsTheIdNamesBotId", func(t *testing.T) {
				t.Parallel()
				res := e.do(request{method: op.method, path: "/api/v1/bots/" + id + op.suffix, as: &u, body: op.body})
				valNamesOnly(t, res, "path", "bot_id")
			})
		}
	}
	t.Run("NothingWasWritten", func(t *testing.T) {
		t.Parallel()
		require.Zero(t, valBotsOf(t, e, u.id))
	})
}
