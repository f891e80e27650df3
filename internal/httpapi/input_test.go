package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/httpapi"
)

// Tests of how strictly the contract reads a request: every query parameter the client sent
// is either read or refused, JSON bodies are I-JSON, and no body is read with a coding or on
// an operation that does not take one.

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

// inTarget is the target of an operation of inQueryParams on bot: the status events are the
// bot's, the list is everyone's.
func inTarget(bot api.BotResponse, path string) string {
	if strings.HasPrefix(path, "/status-events") {
		return botPath(bot.Id, path)
	}
	return path
}

// A query string that could be read two ways is refused by name rather than read one way: a
// ";" is not a separator, and a parameter that holds one is refused rather than dropped (Go's
// query parser would drop the whole pair); a parameter that holds one value is refused when
// it is given twice.
func TestQuerySemicolonOrRepeatIsRefusedByName(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})
	spellings := []struct {
		says  string // what the subtest's name says of the parameter
		query func(name, value string) string
		check func(t *testing.T, res *response, name string)
	}{
		{"HoldingASemicolonNamesIt", func(name, value string) string { return "?" + name + "=" + value + ";yyy" },
			func(t *testing.T, res *response, name string) {
				require.Contains(t, valNamesOnly(t, res, "query", name).Detail, "%3B")
			}},
		{"AfterASemicolonNamesThePair", func(name, value string) string { return "?x;" + name + "=" + value },
			func(t *testing.T, res *response, name string) { valNamesOnly(t, res, "query", "x;"+name) }},
		{"GivenTwiceNamesIt", func(name, value string) string { return "?" + name + "=" + value + "&" + name + "=" + value },
			func(t *testing.T, res *response, name string) {
				require.Equal(t, "must be given once", inFieldMessage(t, res, "query", name))
			}},
	}
	for _, s := range spellings {
		for _, p := range inQueryParams {
			t.Run(p.op+"With"+camel(p.name)+s.says, func(t *testing.T) {
				t.Parallel()
				s.check(t, e.get(u, inTarget(bot, p.path)+s.query(p.name, p.value)), p.name)
			})
		}
	}
	// A delete whose confirm is not one valid value deletes nothing.
	for name, query := range map[string]string{
		"DeleteWithConfirmHoldingASemicolonDeletesNothing": "?confirm=true;x",
		"DeleteWithConfirmGivenTwiceDeletesNothing":        "?confirm=true&confirm=true",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			victim := e.createBot(u, map[string]any{"name": "Kept"})
			valNamesOnly(t, e.delete(u, botPath(victim.Id)+query, nil), "query", "confirm")
			require.Equal(t, http.StatusOK, e.get(u, botPath(victim.Id)).code)
		})
	}
	t.Run("QWithAPercentEncodedSemicolonIsRead", func(t *testing.T) {
		t.Parallel()
		list := lstList(e.authzFor(t), u, url.Values{"q": {"zzz;yyy"}}) // q=zzz%3Byyy
		require.Zero(t, list.Total)
	})
	t.Run("AMalformedPercentEscapeIsRefusedByName", func(t *testing.T) {
		t.Parallel()
		res := e.get(u, "/api/v1/bots?q=%zz")
		msg := inFieldMessage(t, res, "query", "q")
		require.Contains(t, msg, "%25")
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
			res := e.post(u, "/api/v1/bots", c.body)
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

// inGzip compresses s.
func inGzip(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// inUnsupportedCoding requires the 415 of a content coding the API does not read.
func inUnsupportedCoding(t *testing.T, res *response) {
	t.Helper()
	p := valProblem(t, res, http.StatusUnsupportedMediaType, valTypeMediaType)
	require.Equal(t, "identity", res.header.Get("Accept-Encoding"))
	require.Contains(t, p.Detail, "Content-Encoding")
}

// A body is read only as sent (identity): any other Content-Encoding is refused with 415 and
// Accept-Encoding: identity, whether the body is really compressed or not.
func TestContentEncodingOtherThanIdentityIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const valid = `{"name":"Support","model":"gpt-4o-mini"}`
	with := func(coding string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "Content-Encoding": coding}
	}
	for _, c := range []struct {
		name   string
		body   []byte
		coding string
	}{
		{"CreateWithBrotliOverAPlainBodyIsRefused", []byte(valid), "br"},
		{"CreateWithAGzippedBodyIsRefused", inGzip(t, valid), "gzip"},
		{"CreateWithIdentityThenGzipIsRefused", []byte(valid), "identity, gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			inUnsupportedCoding(t, e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: c.body, header: with(c.coding)}))
			require.Zero(t, valBotsOf(t, e, u.id))
		})
	}
	t.Run("UpdateWithDeflateChangesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		before := e.get(u, botPath(bot.Id))
		inUnsupportedCoding(t, e.do(request{method: http.MethodPut, path: botPath(bot.Id), as: &u, body: []byte(`{"name":"Other"}`), header: with("deflate")}))
		require.JSONEq(t, string(before.body), string(e.get(u, botPath(bot.Id)).body))
	})
	t.Run("DuplicateWithGzipCopiesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		inUnsupportedCoding(t, e.do(request{method: http.MethodPost, path: botPath(bot.Id, "/duplicate"), as: &u, body: inGzip(t, `{}`), header: with("gzip")}))
		require.Equal(t, 1, valBotsOf(t, e, u.id))
	})
	t.Run("TrainWithAGzippedBodyQueuesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		inUnsupportedCoding(t, e.do(request{method: http.MethodPost, path: botPath(bot.Id, "/train"), as: &u, body: inGzip(t, `{}`), header: with("gzip")}))
		require.Len(t, e.jobsFor(bot.Id), 1, "only the create's training job")
	})
	t.Run("CreateWithIdentityIsAccepted", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: []byte(valid), header: with("Identity")})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
	})
	t.Run("AGetWithACodingButNoBodyIsAnswered", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		res := e.do(request{method: http.MethodGet, path: "/api/v1/bots", as: &u, header: map[string]string{"Content-Encoding": "gzip"}})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
}

// Operations that take no body refuse one: 413 over the limit, 415 otherwise, and nothing is
// written for the refused request.
func TestBodyOnAnOperationThatTakesNone(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})
	e.activate(bot.Id)
	deleted := e.createBot(u, map[string]any{"name": "Deleted"})
	require.Equal(t, http.StatusOK, e.delete(u, botPath(deleted.Id)+"?confirm=true", nil).code)
	huge := strings.Repeat("a", 300<<10)
	ops := []struct {
		name, method, path string
	}{
		{"Train", http.MethodPost, botPath(bot.Id, "/train")},
		{"Restore", http.MethodPost, botPath(deleted.Id, "/restore")},
		{"Delete", http.MethodDelete, botPath(bot.Id) + "?confirm=true"},
		{"Get", http.MethodGet, botPath(bot.Id)},
		{"List", http.MethodGet, "/api/v1/bots"},
		{"StatusEvents", http.MethodGet, botPath(bot.Id, "/status-events")},
		{"Models", http.MethodGet, "/api/v1/models"},
	}
	for _, op := range ops {
		t.Run(op.name+"WithAHugeTextBodyIsTooLarge", func(t *testing.T) {
			res := e.do(request{method: op.method, path: op.path, as: &u, body: []byte(huge), header: map[string]string{"Content-Type": "text/plain"}})
			valProblem(t, res, http.StatusRequestEntityTooLarge, valTypeTooLarge)
		})
		t.Run(op.name+"WithAJsonBodyIsRefused", func(t *testing.T) {
			res := e.do(request{method: op.method, path: op.path, as: &u, body: []byte(`{}`), header: map[string]string{"Content-Type": "application/json"}})
			p := valProblem(t, res, http.StatusUnsupportedMediaType, valTypeMediaType)
			require.Equal(t, "this operation takes no request body", p.Detail)
		})
	}
	t.Run("NothingWasWritten", func(t *testing.T) {
		got := e.get(u, botPath(bot.Id))
		require.Equal(t, http.StatusOK, got.code, "a refused delete deleted the bot")
		require.Equal(t, api.BotStatus("active"), valRepresentation(t, got).Status, "a refused train retrained the bot")
		require.Len(t, e.jobsFor(bot.Id), 1, "a refused train queued a job")
		require.Equal(t, http.StatusNotFound, e.get(u, botPath(deleted.Id)).code, "a refused restore restored the bot")
	})
	t.Run("TrainWithoutABodyIsAccepted", func(t *testing.T) {
		res := e.do(request{method: http.MethodPost, path: botPath(bot.Id, "/train"), as: &u})
		require.Equal(t, http.StatusAccepted, res.code, string(res.body))
	})
}

// Details and messages read as sentences.
func TestProblemTextReadsWell(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Run("AMissingBodyIsSaidPlainly", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		res := e.post(u, "/api/v1/bots", "")
		p := valNamesOnly(t, res, "body", "")
		require.Equal(t, "the body is required", p.Detail)
	})
	t.Run("ANumberBeyondAnyFloatIsOutOfRange", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		res := e.post(u, "/api/v1/bots", `{"name":"x","model":"gpt-4o-mini","temperature":1e309}`)
		require.Contains(t, inFieldMessage(t, res, "body", "temperature"), "out of range")
	})
	t.Run("ABoundIsWrittenInFull", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		res := e.get(u, "/api/v1/bots?skip=1000000001")
		require.Equal(t, "must be at most 1000000000", inFieldMessage(t, res, "query", "skip"))
	})
	t.Run("APatternWithoutAMessageIsQuoted", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: map[string]any{"name": "x", "model": valValidModel},
			header: map[string]string{"Idempotency-Key": "a b"}})
		require.Equal(t, `must match the pattern ^[\x21-\x7E]+$`, inFieldMessage(t, res, "header", "Idempotency-Key"))
	})
	t.Run("APathIdThatIsNotAUuidSaysUUID", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		require.Equal(t, "must be a UUID", inFieldMessage(t, e.get(u, "/api/v1/bots/abc"), "path", "bot_id"))
	})
	t.Run("AnEmptyUpdateSaysWhatToSend", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Support"})
		res := e.put(u, botPath(bot.Id), `{}`, nil)
		p := valNamesOnly(t, res, "body", "")
		require.Equal(t, "the body must set at least one field", p.Detail)
	})
}

// A rate-limited write says how long to wait in words that agree with the number.
func TestRateLimitedWriteSaysOneSecond(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{limits: httpapi.Limits{WriteRate: 1, WriteBurst: 1}})
	u := newUser(t)
	// A refused write costs a token too, and is answered before any database work, so the
	// next write comes well within the second.
	valNamesOnly(t, e.post(u, "/api/v1/bots", map[string]any{"model": valValidModel}), "body", "name")
	res := e.post(u, "/api/v1/bots", map[string]any{"name": "x", "model": valValidModel})
	p := valProblem(t, res, http.StatusTooManyRequests, "/problems/rate-limited")
	require.Equal(t, "1", res.header.Get("Retry-After"))
	require.Equal(t, "too many writes; retry in 1 second", p.Detail)
}

// A percent-encoded unreserved character is the character itself (RFC 3986 §2.3, §6.2.2.2):
// /aliases/pro%64uction is /aliases/production. Other escapes keep their meaning.
func TestPercentEncodedUnreservedCharactersInThePathAreTheCharacters(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
	require.Equal(t, http.StatusCreated, e.put(u, aliasPath(bot, "production"), map[string]any{"version": 1}, nil).code)

	id := bot.Id.String()
	escaped := fmt.Sprintf("%%%02X", id[0]) + id[1:]
	for _, path := range []string{
		"/api/v1/bots/" + id + "/aliases/pro%64uction",
		"/api/v1/bots/" + id + "/aliases/%70%72%6f%64%75%63%74%69%6F%6E",
		"/api/v1/bots/" + escaped + "/aliases/production",
		"/api/v1/%62ots/" + id + "/aliases/production",
	} {
		res := e.get(u, path)
		require.Equal(t, http.StatusOK, res.code, "%s: %s", path, res.body)
		var alias api.BotAlias
		res.decode(t, &alias)
		require.Equal(t, "production", alias.Name, path)
	}

	res := e.get(u, "/api/v1/bots%2F"+id)
	require.Equal(t, http.StatusNotFound, res.code, "%%2F is no path separator: %s", res.body)
	p := e.get(u, "/api/v1/bots/"+id+"/aliases/pro%2Fduction").problem(t, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"path:alias"}, fieldsOf(p))
}

// A header that takes one value (RFC 9110 §5.3) sent on several lines is refused with 400
// naming it, instead of the first line silently winning: two Authorization lines must not
// authenticate as either user.
func TestAHeaderThatTakesOneValueIsSentOnce(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	other := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Mine"})
	for _, c := range []struct {
		name   string
		method string
		path   string
		body   any
		lines  http.Header
	}{
		{"Authorization", http.MethodGet, botPath(bot.Id), nil,
			http.Header{"Authorization": {"Bearer " + u.token, "Bearer garbage"}}},
		{"Authorization", http.MethodGet, botPath(bot.Id), nil,
			http.Header{"Authorization": {"Bearer " + other.token, "Bearer " + u.token}}},
		{"Content-Type", http.MethodPut, botPath(bot.Id), map[string]any{"name": "Renamed"},
			http.Header{"Content-Type": {"text/plain"}}},
		{"Idempotency-Key", http.MethodPost, "/api/v1/bots", map[string]any{"name": "Twice", "model": "gpt-4o"},
			http.Header{"Idempotency-Key": {"a", "b"}}},
		{"Last-Event-ID", http.MethodGet, botPath(bot.Id, "/status/stream"), nil,
			http.Header{"Last-Event-Id": {"1", "2"}}},
	} {
		r := request{method: c.method, path: c.path, body: c.body, lines: c.lines}
		if c.name != "Authorization" {
			r.as = &u
		}
		p := e.do(r).problem(t, http.StatusBadRequest)
		require.Equal(t, "/problems/bad-request", p.Type, c.name)
		require.Equal(t, "the "+c.name+" header must be sent once", p.Detail)
	}
	require.Equal(t, 1, e.countBots(u))
	var got api.BotResponse
	e.get(u, botPath(bot.Id)).decode(t, &got)
	require.Equal(t, "Mine", got.Name, "nothing was changed")
}
