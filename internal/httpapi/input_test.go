package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Tests of how strictly the contract reads a request: every query parameter the client sent
// is either read or refused.

// inFieldMessage is the message of the only error of a 422 that names location:field.
func inFieldMessage(t *testing.T, res *response, location, field string) string {
	t.Helper()
	p := valNamesOnly(t, res, location, field)
	return (*p.Errors)[0].Message
}

// The query parameters of every operation, with a value each accepts.
var inQueryParams = []struct {
	op, path, name, value string
}{
	{"ListBots", "/api/v1/bots", "q", "zzz"},
	{"ListBots", "/api/v1/bots", "status", "active"},
	{"ListBots", "/api/v1/bots", "model", "gpt-4o-mini"},
	{"ListBots", "/api/v1/bots", "is_public", "true"},
	{"ListBots", "/api/v1/bots", "limit", "1"},
	{"ListBots", "/api/v1/bots", "skip", "0"},
	{"ListBots", "/api/v1/bots", "sort", "name"},
	{"StatusEvents", "/status-events", "limit", "1"},
	{"StatusEvents", "/status-events", "skip", "0"},
}

// A ";" in the query string is not a separator, and a parameter that holds one is refused by
// name rather than dropped (Go's query parser would drop the whole pair).
func TestQuerySemicolonIsRefusedByName(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Support"})
	target := func(path string) string {
		if strings.HasPrefix(path, "/status-events") {
			return botPath(bot.Id, path)
		}
		return path
	}
	for _, p := range inQueryParams {
		t.Run(p.op+"With"+valCamel(p.name)+"HoldingASemicolonNamesIt", func(t *testing.T) {
			t.Parallel()
			res := e.get(u, target(p.path)+"?"+p.name+"="+p.value+";yyy")
			p422 := valNamesOnly(t, res, "query", p.name)
			require.Contains(t, p422.Detail, "%3B")
		})
		t.Run(p.op+"With"+valCamel(p.name)+"AfterASemicolonNamesThePair", func(t *testing.T) {
			t.Parallel()
			res := e.get(u, target(p.path)+"?x;"+p.name+"="+p.value)
			valNamesOnly(t, res, "query", "x;"+p.name)
		})
	}
	t.Run("QWithAPercentEncodedSemicolonIsRead", func(t *testing.T) {
		t.Parallel()
		res := e.get(u, "/api/v1/bots?q=zzz%3Byyy")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		var list api.BotList
		res.decode(t, &list)
		require.Zero(t, list.Total)
	})
	t.Run("DeleteWithConfirmHoldingASemicolonDeletesNothing", func(t *testing.T) {
		t.Parallel()
		victim := e.createBot(u, map[string]any{"name": "Kept"})
		res := e.delete(u, botPath(victim.Id)+"?confirm=true;x", nil)
		valNamesOnly(t, res, "query", "confirm")
		require.Equal(t, http.StatusOK, e.get(u, botPath(victim.Id)).code)
	})
	t.Run("AMalformedPercentEscapeIsRefusedByName", func(t *testing.T) {
		t.Parallel()
		res := e.get(u, "/api/v1/bots?q=%zz")
		msg := inFieldMessage(t, res, "query", "q")
		require.Contains(t, msg, "%25")
	})
}

// A parameter that holds one value is refused by name when it is given twice.
func TestRepeatedQueryParameterIsRefusedByName(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Support"})
	for _, p := range inQueryParams {
		t.Run(p.op+"With"+valCamel(p.name)+"GivenTwiceNamesIt", func(t *testing.T) {
			t.Parallel()
			path := p.path
			if strings.HasPrefix(path, "/status-events") {
				path = botPath(bot.Id, path)
			}
			res := e.get(u, path+"?"+p.name+"="+p.value+"&"+p.name+"="+p.value)
			require.Equal(t, "must be given once", inFieldMessage(t, res, "query", p.name))
		})
	}
	t.Run("DeleteWithConfirmGivenTwiceDeletesNothing", func(t *testing.T) {
		t.Parallel()
		victim := e.createBot(u, map[string]any{"name": "Kept"})
		res := e.delete(u, botPath(victim.Id)+"?confirm=true&confirm=true", nil)
		valNamesOnly(t, res, "query", "confirm")
		require.Equal(t, http.StatusOK, e.get(u, botPath(victim.Id)).code)
	})
	t.Run("ARepeatIsListedNextToOtherInvalidParameters", func(t *testing.T) {
		t.Parallel()
		res := e.get(u, "/api/v1/bots?limit=1&limit=2&sort=bogus")
		p := valProblem(t, res, http.StatusUnprocessableEntity, valTypeValidation)
		require.ElementsMatch(t, []string{"query:limit", "query:sort"}, fieldsOf(p))
	})
}
