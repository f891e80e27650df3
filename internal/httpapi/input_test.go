package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Tests of how strictly the contract reads a request: every query parameter the client sent
// is either read or refused, and JSON bodies are I-JSON.

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

// A JSON body is I-JSON (RFC 7493): no member name twice in one object, at any depth, and no
// Unicode noncharacter, written raw or escaped. Nothing is written for such a body.
func TestRequestBodyIsIJSON(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const head = `{"name":"Support","model":"gpt-4o-mini"`
	cases := []struct {
		name   string
		body   string
		want   int    // 201 or 400; 422 for a field error
		detail string // what a 400's detail must name
	}{
		{name: "IsPublicTwiceIsRefused", body: head + `,"is_public":false,"is_public":true}`, want: 400, detail: `"is_public"`},
		{name: "NameTwiceIsRefused", body: `{"name":"a","name":"b","model":"gpt-4o-mini"}`, want: 400, detail: `"name"`},
		{name: "AnEscapedSpellingOfTheSameNameIsRefused", body: head + `,"is_public":false,"is_\u0070ublic":true}`, want: 400, detail: `"is_public"`},
		{name: "ANameTwiceInANestedObjectIsRefused", body: head + `,"foo":{"a":1,"a":2}}`, want: 400, detail: `"foo.a"`},
		{name: "ANameTwiceInAnObjectInAnArrayIsRefused", body: head + `,"foo":[{"a":1},{"b":1,"b":1}]}`, want: 400, detail: `"foo.1.b"`},
		{name: "TheSameNameInTwoObjectsIsNotADuplicate", body: head + `,"foo":{"a":1},"bar":[{"a":1},{"a":1}]}`, want: 422},
		{name: "RawNoncharacterFDD0IsRefused", body: head + `,"description":"a` + "\uFDD0" + `"}`, want: 400, detail: "U+FDD0"},
		{name: "RawNoncharacterFDEFIsRefused", body: head + `,"description":"` + "\uFDEF" + `"}`, want: 400, detail: "U+FDEF"},
		{name: "RawNoncharacterFFFEIsRefused", body: head + `,"description":"` + "\uFFFE" + `"}`, want: 400, detail: "U+FFFE"},
		{name: "RawNoncharacterFFFFIsRefused", body: head + `,"description":"` + "\uFFFF" + `"}`, want: 400, detail: "U+FFFF"},
		{name: "RawNoncharacterOfTheLastPlaneIsRefused", body: head + `,"description":"` + "\U0010FFFF" + `"}`, want: 400, detail: "U+10FFFF"},
		{name: "RawNoncharacterOfPlaneOneIsRefused", body: head + `,"description":"` + "\U0001FFFE" + `"}`, want: 400, detail: "U+1FFFE"},
		{name: "EscapedNoncharacterFDD0IsRefused", body: head + `,"description":"\ufdd0"}`, want: 400, detail: "U+FDD0"},
		{name: "EscapedNoncharacterFFFEIsRefused", body: head + `,"description":"\uFFFE"}`, want: 400, detail: "U+FFFE"},
		{name: "EscapedNoncharacterFFFFIsRefused", body: head + `,"description":"\uffff"}`, want: 400, detail: "U+FFFF"},
		{name: "EscapedSurrogatePairOfANoncharacterIsRefused", body: head + `,"description":"\ud83f\udffe"}`, want: 400, detail: "U+1FFFE"},
		{name: "EscapedSurrogatePairOfTheLastCodePointIsRefused", body: head + `,"description":"\udbff\udfff"}`, want: 400, detail: "U+10FFFF"},
		{name: "ANoncharacterInAMemberNameIsRefused", body: head + `,"\ufdd0":1}`, want: 400, detail: "U+FDD0"},
		{name: "TheCodePointBeforeTheNoncharactersIsAccepted", body: head + `,"description":"` + "\uFDCF" + `"}`, want: 201},
		{name: "TheCodePointAfterTheNoncharactersIsAccepted", body: head + `,"description":"\ufdf0"}`, want: 201},
		{name: "TheReplacementCharacterIsAccepted", body: head + `,"description":"` + "\uFFFD" + `\ufffd"}`, want: 201},
		{name: "TheCodePointBeforeANoncharacterOfPlaneOneIsAccepted", body: head + `,"description":"\ud83f\udffd"}`, want: 201},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			res := valCreate(e, u, strings.NewReader(c.body), "application/json")
			switch c.want {
			case http.StatusCreated:
				require.Equal(t, http.StatusCreated, res.code, string(res.body))
				return
			case http.StatusUnprocessableEntity:
				valProblem(t, res, http.StatusUnprocessableEntity, valTypeValidation)
			default:
				p := valProblem(t, res, http.StatusBadRequest, valTypeBadRequest)
				require.Contains(t, p.Detail, c.detail)
			}
			require.Zero(t, valBotsOf(t, e, u.id), "a refused create wrote a bot")
		})
	}
	t.Run("UpdateWithADuplicateNameChangesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		before := e.get(u, botPath(bot.Id))
		res := e.put(u, botPath(bot.Id), `{"is_public":false,"is_public":true}`, nil)
		valProblem(t, res, http.StatusBadRequest, valTypeBadRequest)
		require.JSONEq(t, string(before.body), string(e.get(u, botPath(bot.Id)).body))
	})
	t.Run("DuplicateWithADuplicateNameCopiesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		res := e.post(u, botPath(bot.Id, "/duplicate"), `{"name":"a","name":"b"}`)
		valProblem(t, res, http.StatusBadRequest, valTypeBadRequest)
		require.Equal(t, 1, valBotsOf(t, e, u.id))
	})
}
