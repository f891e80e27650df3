package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// The problem types a client can tell apart; each class of refusal has its own.
const (
	valTypeValidation = "/problems/validation"
	valTypeBadRequest = "/problems/bad-request"
	valTypeTooLarge   = "/problems/payload-too-large"
	valTypeMediaType  = "/problems/unsupported-media-type"
)

const (
	// valMaxBody is the largest body the contract promises to read (64 KiB).
	valMaxBody = 64 << 10
	// valValidModel is a catalog model id.
	valValidModel = "gpt-4o-mini"
	// valIdeographicSpace is U+3000, whitespace outside ASCII.
	valIdeographicSpace = "\u3000"
)

// valOutcome is what a table case expects of the server.
type valOutcome int

const (
	// valAccepted: the write succeeds.
	valAccepted valOutcome = iota
	// valInvalid: 422 /problems/validation naming the case's field.
	valInvalid
	// valUnreadable: 400 /problems/bad-request.
	valUnreadable
	// valRefused: some 4xx problem, never 5xx, and nothing written.
	valRefused
)

// valCase is one body the server must accept or refuse.
type valCase struct {
	name  string
	set   map[string]any // merged over a valid body (create), or the whole body (update)
	drop  string         // a field of the valid create body to leave out
	raw   string         // sent as is instead of set, when not empty
	want  valOutcome
	field string                                 // the body field a 422 must name
	check func(t *testing.T, bot valRepresented) // what an accepted body must store
}

// valRepresented is a bot as answered, both decoded and as raw JSON members, so that a test
// can see exactly how a number or a null was written.
type valRepresented struct {
	api.BotResponse
	raw map[string]json.RawMessage
}

// valRepresentation decodes a bot answer.
func valRepresentation(t *testing.T, res *response) valRepresented {
	t.Helper()
	var b valRepresented
	res.decode(t, &b.BotResponse)
	res.decode(t, &b.raw)
	return b
}

// valProblem requires a problem of the given status and type.
func valProblem(t *testing.T, res *response, status int, typ string) api.Problem {
	t.Helper()
	p := res.problem(t, status)
	require.Equal(t, typ, p.Type, string(res.body))
	return p
}

// valNamesOnly requires a 422 validation problem whose errors all name location:field, at
// least once.
func valNamesOnly(t *testing.T, res *response, location, field string) api.Problem {
	t.Helper()
	p := valProblem(t, res, http.StatusUnprocessableEntity, valTypeValidation)
	fields := fieldsOf(p)
	require.NotEmpty(t, fields, string(res.body))
	for _, f := range fields {
		require.Equal(t, location+":"+field, f, string(res.body))
	}
	return p
}

// valClientError requires a 4xx problem of one of the documented types.
func valClientError(t *testing.T, res *response) api.Problem {
	t.Helper()
	require.GreaterOrEqual(t, res.code, 400, string(res.body))
	require.Less(t, res.code, 500, string(res.body))
	p := res.problem(t, res.code)
	require.Contains(t, []string{valTypeBadRequest, valTypeValidation, valTypeTooLarge, valTypeMediaType}, p.Type)
	return p
}

// valExpect checks a refusal against the case's outcome.
func valExpect(t *testing.T, res *response, c valCase) {
	t.Helper()
	switch c.want {
	case valInvalid:
		valNamesOnly(t, res, "body", c.field)
	case valUnreadable:
		valProblem(t, res, http.StatusBadRequest, valTypeBadRequest)
	case valRefused:
		valClientError(t, res)
	default:
		t.Fatalf("valExpect called for an accepted case")
	}
}

// valBotsOf counts every bot row of owner, deleted or not, straight from the database.
func valBotsOf(t *testing.T, e *env, owner uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM bots WHERE owner_id = $1", owner).Scan(&n))
	return n
}

// valCreateBody is a valid create body with c applied.
func valCreateBody(c valCase) any {
	if c.raw != "" {
		return c.raw
	}
	body := map[string]any{"name": "Support assistant", "model": valValidModel}
	for k, v := range c.set {
		body[k] = v
	}
	if c.drop != "" {
		delete(body, c.drop)
	}
	return body
}

// valRawEquals checks how a member of an accepted bot was written.
func valRawEquals(field, want string) func(*testing.T, valRepresented) {
	return func(t *testing.T, b valRepresented) {
		require.Equal(t, want, string(b.raw[field]))
	}
}

func valNameIs(want string) func(*testing.T, valRepresented) {
	return func(t *testing.T, b valRepresented) {
		require.Equal(t, want, b.Name)
	}
}

// valBoundCases are the field bounds that create and update share.
func valBoundCases() []valCase {
	hundred := strings.Repeat("é", 100)
	return []valCase{
		{name: "NameOfOneHundredMultibyteCharactersIsAccepted", set: map[string]any{"name": hundred}, check: valNameIs(hundred)},
		{name: "NameOfOneHundredAndOneMultibyteCharactersIsRefused", set: map[string]any{"name": hundred + "é"}, want: valInvalid, field: "name"},
		{name: "NameIsStoredWithoutSurroundingWhitespace", set: map[string]any{"name": "  x  "}, check: valNameIs("x")},
		{name: "NameIsTrimmedOfUnicodeSpaces", set: map[string]any{"name": valIdeographicSpace + "x\t\n"}, check: valNameIs("x")},
		// maxLength applies to the value as sent (openapi.yaml validates before trimming).
		{name: "NameOfOneHundredCharactersPlusSurroundingSpacesIsRefused", set: map[string]any{"name": " " + hundred + " "}, want: valInvalid, field: "name"},
		{name: "EmptyNameIsRefused", set: map[string]any{"name": ""}, want: valInvalid, field: "name"},
		{name: "NameOfOnlyAsciiSpacesIsRefused", set: map[string]any{"name": "   "}, want: valInvalid, field: "name"},
		{name: "NameOfOnlyTabsAndNewlinesIsRefused", set: map[string]any{"name": "\t\n\r "}, want: valInvalid, field: "name"},
		{name: "NameOfOnlyIdeographicSpacesIsRefused", set: map[string]any{"name": strings.Repeat(valIdeographicSpace, 3)}, want: valInvalid, field: "name"},
		{name: "NameOfOnlyNoBreakSpacesIsRefused", set: map[string]any{"name": "\u00a0\u2003"}, want: valInvalid, field: "name"},
		{name: "NullNameIsRefused", set: map[string]any{"name": nil}, want: valInvalid, field: "name"},
		{name: "NumericNameIsRefused", set: map[string]any{"name": 42}, want: valInvalid, field: "name"},
		{name: "DescriptionOfFiveHundredMultibyteCharactersIsAccepted", set: map[string]any{"description": strings.Repeat("日", 500)},
			check: func(t *testing.T, b valRepresented) {
				require.Equal(t, strings.Repeat("日", 500), b.Description.MustGet())
			}},
		{name: "DescriptionOfFiveHundredAndOneMultibyteCharactersIsRefused", set: map[string]any{"description": strings.Repeat("日", 501)}, want: valInvalid, field: "description"},
		{name: "SystemPromptOfOneThousandMultibyteCharactersIsAccepted", set: map[string]any{"system_prompt": strings.Repeat("é", 1000)},
			check: func(t *testing.T, b valRepresented) { require.Equal(t, strings.Repeat("é", 1000), b.SystemPrompt) }},
		{name: "SystemPromptOfOneThousandAndOneMultibyteCharactersIsRefused", set: map[string]any{"system_prompt": strings.Repeat("é", 1001)}, want: valInvalid, field: "system_prompt"},
		{name: "NullSystemPromptIsRefused", set: map[string]any{"system_prompt": nil}, want: valInvalid, field: "system_prompt"},
		{name: "TemperatureZeroIsAccepted", set: map[string]any{"temperature": 0}, check: valRawEquals("temperature", "0")},
		{name: "TemperatureTwoIsAccepted", set: map[string]any{"temperature": 2}, check: valRawEquals("temperature", "2")},
		{name: "TemperaturePointSevenIsReturnedExactly", raw: `{"temperature":0.7}`, check: valRawEquals("temperature", "0.7")},
		{name: "TemperatureOnePointTwoFiveIsReturnedExactly", set: map[string]any{"temperature": 1.25}, check: valRawEquals("temperature", "1.25")},
		{name: "TemperatureJustBelowZeroIsRefused", set: map[string]any{"temperature": -0.0001}, want: valInvalid, field: "temperature"},
		{name: "TemperatureJustAboveTwoIsRefused", set: map[string]any{"temperature": 2.0001}, want: valInvalid, field: "temperature"},
		{name: "TemperatureAsAStringIsRefused", set: map[string]any{"temperature": "0.7"}, want: valInvalid, field: "temperature"},
		{name: "NullTemperatureIsRefused", set: map[string]any{"temperature": nil}, want: valInvalid, field: "temperature"},
		{name: "TemperatureTooLargeForAnyFloatIsRefused", raw: `{"temperature":1e400}`, want: valRefused},
		{name: "IsPublicAsANumberIsRefused", set: map[string]any{"is_public": 1}, want: valInvalid, field: "is_public"},
		{name: "IsPublicAsAStringIsRefused", set: map[string]any{"is_public": "true"}, want: valInvalid, field: "is_public"},
		{name: "NullIsPublicIsRefused", set: map[string]any{"is_public": nil}, want: valInvalid, field: "is_public"},
		{name: "IsPublicTrueIsAccepted", set: map[string]any{"is_public": true}, check: func(t *testing.T, b valRepresented) { require.True(t, b.IsPublic) }},
		{name: "UnknownModelIsRefused", set: map[string]any{"model": "gpt-9"}, want: valInvalid, field: "model"},
		{name: "EmptyModelIsRefused", set: map[string]any{"model": ""}, want: valInvalid, field: "model"},
		{name: "ModelDifferingOnlyInCaseIsRefused", set: map[string]any{"model": "GPT-4O-MINI"}, want: valInvalid, field: "model"},
		{name: "NullModelIsRefused", set: map[string]any{"model": nil}, want: valInvalid, field: "model"},
		{name: "RetiredCatalogModelIsAccepted", set: map[string]any{"model": "gpt-3.5-turbo"},
			check: func(t *testing.T, b valRepresented) { require.Equal(t, "gpt-3.5-turbo", b.Model) }},
	}
}

// One answer lists every offending field, whether the schema or a business rule refuses it.
func TestSeveralInvalidFieldsAreAllListed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// An update goes to a bot of the subtest's user, made for it.
	create := func(body map[string]any) request {
		return request{method: http.MethodPost, path: "/api/v1/bots", body: body}
	}
	update := func(body map[string]any) request { return request{method: http.MethodPut, body: body} }
	for name, c := range map[string]struct {
		req  request
		want []string
	}{
		"CreateListsEveryBrokenType": {
			create(map[string]any{"name": "", "model": valValidModel, "temperature": 3, "is_public": "yes", "foo": 1}),
			[]string{"body:name", "body:temperature", "body:is_public", "body:foo"},
		},
		// The example of openapi.yaml's 422 response: a bound and an unknown model together.
		"CreateListsAnUnknownModelNextToATemperatureOutOfRange": {
			create(map[string]any{"name": "Support", "model": "gpt-9", "temperature": 3}),
			[]string{"body:temperature", "body:model"},
		},
		"CreateListsAnUnknownModelNextToANulInTheDescription": {
			create(map[string]any{"name": "Support", "model": "gpt-9", "description": "a\x00b"}),
			[]string{"body:model", "body:description"},
		},
		"CreateListsBothMissingRequiredFields": {
			create(map[string]any{"description": "no name, no model"}),
			[]string{"body:name", "body:model"},
		},
		"UpdateListsEveryBrokenBound": {
			update(map[string]any{"name": strings.Repeat("é", 101), "system_prompt": strings.Repeat("é", 1001),
				"description": strings.Repeat("日", 501), "id": uuid.NewString()}),
			[]string{"body:name", "body:system_prompt", "body:description", "body:id"},
		},
	} {
		e.run(t, name, func(t *testing.T, e *env, u user) {
			existing := 0
			if c.req.method == http.MethodPut {
				c.req.path, existing = botPath(e.createBot(u, map[string]any{"name": "Support"}).Id), 1
			}
			c.req.as = &u
			res := e.do(c.req)
			p := valProblem(t, res, http.StatusUnprocessableEntity, valTypeValidation)
			got := fieldsOf(p)
			for _, f := range c.want {
				require.Contains(t, got, f, string(res.body))
			}
			require.Subset(t, c.want, got, "an error names a field that is valid")
			require.Equal(t, existing, valBotsOf(t, e, u.id))
		})
	}
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

// JSON Schema counts 1.0 and 1e0 as the integer 1: a body field typed integer takes them as
// the validator does, instead of the generated server refusing them with 400.
func TestAnIntegerMayBeWrittenWithAFractionOrAnExponent(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
	for _, body := range []string{`{"version": 1.0}`, `{"version": 1e0}`, `{"version": 10E-1}`, `{"version": 0.2e1}`, `{"version": 2.000}`} {
		res := e.put(u, aliasPath(bot, "production"), body, nil)
		require.Contains(t, []int{http.StatusCreated, http.StatusOK}, res.code, "%s: %s", body, res.body)
		var alias api.BotAlias
		res.decode(t, &alias)
		want := int32(1)
		if body == `{"version": 0.2e1}` || body == `{"version": 2.000}` {
			want = 2
		}
		require.EqualValues(t, want, alias.Version, body)
	}
	p := e.put(u, aliasPath(bot, "production"), `{"version": 1.5}`, nil).problem(t, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body:version"}, fieldsOf(p), "a fraction is still refused")
}

// A parameter the server refuses is named with what is wrong with it: the bound an integer
// too large for any integer breaks, not "must be an integer"; an empty value as such. A
// boolean takes true and false, and the other spellings clients have sent (1, t, TRUE, ...),
// but not yes.
func TestParameterMessagesSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Kept"})
	stream := botPath(bot.Id, "/status/stream")
	for _, c := range []struct {
		method, path string
		lines        http.Header
		field, says  string
	}{
		{http.MethodGet, "/api/v1/bots?limit=2147483648", nil, "query:limit", "must be at most 100"},
		{http.MethodGet, "/api/v1/bots?limit=-99999999999999999999", nil, "query:limit", "must be at least 1"},
		{http.MethodGet, "/api/v1/bots?skip=99999999999999999999", nil, "query:skip", "must be at most 1000000000"},
		{http.MethodGet, "/api/v1/bots?limit=", nil, "query:limit", "is empty; it must be an integer"},
		{http.MethodGet, stream, http.Header{"Last-Event-ID": {"99999999999999999999"}}, "header:Last-Event-ID", "must be at most 9223372036854775807"},
		{http.MethodGet, stream, http.Header{"Last-Event-ID": {""}}, "header:Last-Event-ID", "is empty; it must be an integer"},
		{http.MethodGet, "/api/v1/bots?is_public=", nil, "query:is_public", "is empty; it must be true or false"},
		{http.MethodGet, "/api/v1/bots?is_public=yes", nil, "query:is_public", "must be true or false"},
		{http.MethodDelete, botPath(bot.Id) + "?confirm=", nil, "query:confirm", "is empty; it must be true or false"},
		{http.MethodDelete, botPath(bot.Id) + "?confirm=yes", nil, "query:confirm", "must be true or false"},
	} {
		p := e.do(request{method: c.method, path: c.path, as: &u, lines: c.lines}).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, []string{c.field}, fieldsOf(p), c.path)
		require.Equal(t, c.says, (*p.Errors)[0].Message, "%s %v", c.path, c.lines)
	}
	require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code, "the bot was not deleted")
	for query, public := range map[string]bool{"true": true, "1": true, "t": true, "TRUE": true, "True": true,
		"false": false, "0": false, "f": false, "FALSE": false, "False": false} {
		page := decoded[api.BotList](t, e.get(u, "/api/v1/bots?is_public="+query))
		require.Len(t, page.Items, map[bool]int{true: 0, false: 1}[public], "is_public=%s", query)
	}
}
