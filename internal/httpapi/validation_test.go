package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

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

// Every bound of a new bot counts Unicode code points, types are strict, null is accepted
// only for description, and a refused create leaves no bot behind.
func TestCreateBodyBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := valBoundCases()
	for i, c := range cases {
		if c.raw != "" {
			// Raw bodies in the shared table set one field; a create needs the required ones.
			cases[i].raw = strings.Replace(c.raw, "{", `{"name":"Support assistant","model":"gpt-4o-mini",`, 1)
		}
	}
	cases = append(cases,
		valCase{name: "NullDescriptionIsAccepted", set: map[string]any{"description": nil},
			check: func(t *testing.T, b valRepresented) { require.Equal(t, "null", string(b.raw["description"])) }},
		valCase{name: "AbsentDescriptionIsAccepted",
			check: func(t *testing.T, b valRepresented) { require.True(t, b.Description.IsNull()) }},
		valCase{name: "MissingNameIsNamed", drop: "name", want: valInvalid, field: "name"},
		valCase{name: "MissingModelIsNamed", drop: "model", want: valInvalid, field: "model"},
		valCase{name: "TemperatureWithManyDigitsTooLargeForAnyFloatIsRefused",
			raw: `{"name":"x","model":"gpt-4o-mini","temperature":1` + strings.Repeat("0", 400) + `}`, want: valRefused},
		valCase{name: "NegativeTemperatureTooLargeForAnyFloatIsRefused",
			raw: `{"name":"x","model":"gpt-4o-mini","temperature":-1e400}`, want: valRefused},
		valCase{name: "IsPublicAsAHugeNumberIsRefused",
			raw: `{"name":"x","model":"gpt-4o-mini","is_public":1e400}`, want: valRefused},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			res := e.post(u, "/api/v1/bots", valCreateBody(c))
			if c.want != valAccepted {
				valExpect(t, res, c)
				require.Zero(t, valBotsOf(t, e, u.id), "a refused create wrote a bot")
				return
			}
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
			created := valRepresentation(t, res)
			if c.check != nil {
				c.check(t, created)
			}
			got := e.get(u, botPath(created.Id))
			require.Equal(t, http.StatusOK, got.code, string(got.body))
			if c.check != nil {
				c.check(t, valRepresentation(t, got))
			}
		})
	}
}

// A bot created with only the required fields gets the documented defaults.
func TestCreateFillsInDefaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	res := e.post(u, "/api/v1/bots", map[string]any{"name": "Minimal", "model": valValidModel})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	created := valRepresentation(t, res)
	require.Equal(t, "/api/v1/bots/"+created.Id.String(), res.header.Get("Location"))
	require.NotEmpty(t, res.header.Get("ETag"))
	got := e.get(u, botPath(created.Id))
	require.Equal(t, http.StatusOK, got.code, string(got.body))
	for source, b := range map[string]valRepresented{"Created": created, "Fetched": valRepresentation(t, got)} {
		t.Run(source+"BotHasTheDefaults", func(t *testing.T) {
			t.Parallel()
			require.Equal(t, "Minimal", b.Name)
			require.Equal(t, valValidModel, b.Model)
			require.Equal(t, u.id, b.OwnerId)
			require.Equal(t, "0.7", string(b.raw["temperature"]))
			require.Equal(t, "", b.SystemPrompt)
			require.False(t, b.IsPublic)
			require.Equal(t, "null", string(b.raw["description"]))
			require.Equal(t, api.BotStatus("training"), b.Status)
			require.Equal(t, "null", string(b.raw["status_message"]))
		})
	}
}

// valReadOnly are fields a client must not set, with plausible values, and one unknown field.
var valReadOnly = map[string]any{
	"id":             "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a",
	"owner_id":       "9b2e4f7c-1d3a-4e5b-8c6d-7e8f9a0b1c2d",
	"status":         "active",
	"status_message": "trained",
	"created_at":     "2024-01-01T00:00:00Z",
	"updated_at":     "2024-01-01T00:00:00Z",
	"version":        7,
	"deleted_at":     "2024-01-01T00:00:00Z",
	"foo":            "bar",
}

// Read-only and unknown fields are refused by name on every body, and nothing is written.
func TestReadOnlyAndUnknownFieldsAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for field, value := range valReadOnly {
		t.Run("CreateWith"+camel(field)+"IsRefused", func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			res := e.post(u, "/api/v1/bots", map[string]any{"name": "Support", "model": valValidModel, field: value})
			valNamesOnly(t, res, "body", field)
			require.Zero(t, valBotsOf(t, e, u.id))
		})
		t.Run("UpdateWith"+camel(field)+"IsRefused", func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Support", "description": "before"})
			before := e.get(u, botPath(bot.Id))
			res := e.put(u, botPath(bot.Id), map[string]any{"description": "after", field: value}, nil)
			valNamesOnly(t, res, "body", field)
			after := e.get(u, botPath(bot.Id))
			require.Equal(t, before.header.Get("ETag"), after.header.Get("ETag"), "a refused update changed the bot")
			require.Equal(t, "before", valRepresentation(t, after).Description.MustGet())
		})
		t.Run("DuplicateWith"+camel(field)+"IsRefused", func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Support"})
			res := e.post(u, botPath(bot.Id, "/duplicate"), map[string]any{field: value})
			valNamesOnly(t, res, "body", field)
			require.Equal(t, 1, valBotsOf(t, e, u.id), "a refused duplicate wrote a bot")
		})
	}
}

// One answer lists every offending field, whether the schema or a business rule refuses it.
func TestSeveralInvalidFieldsAreAllListed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := []struct {
		name   string
		method string
		body   map[string]any
		want   []string
	}{
		{
			name:   "CreateListsEveryBrokenType",
			method: http.MethodPost,
			body:   map[string]any{"name": "", "model": valValidModel, "temperature": 3, "is_public": "yes", "foo": 1},
			want:   []string{"body:name", "body:temperature", "body:is_public", "body:foo"},
		},
		{
			// The example of openapi.yaml's 422 response: a bound and an unknown model together.
			name:   "CreateListsAnUnknownModelNextToATemperatureOutOfRange",
			method: http.MethodPost,
			body:   map[string]any{"name": "Support", "model": "gpt-9", "temperature": 3},
			want:   []string{"body:temperature", "body:model"},
		},
		{
			name:   "CreateListsAnUnknownModelNextToANulInTheDescription",
			method: http.MethodPost,
			body:   map[string]any{"name": "Support", "model": "gpt-9", "description": "a\x00b"},
			want:   []string{"body:model", "body:description"},
		},
		{
			name:   "CreateListsBothMissingRequiredFields",
			method: http.MethodPost,
			body:   map[string]any{"description": "no name, no model"},
			want:   []string{"body:name", "body:model"},
		},
		{
			name:   "UpdateListsEveryBrokenBound",
			method: http.MethodPut,
			body: map[string]any{"name": strings.Repeat("é", 101), "system_prompt": strings.Repeat("é", 1001),
				"description": strings.Repeat("日", 501), "id": uuid.NewString()},
			want: []string{"body:name", "body:system_prompt", "body:description", "body:id"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			path, existing := "/api/v1/bots", 0
			if c.method == http.MethodPut {
				path, existing = botPath(e.createBot(u, map[string]any{"name": "Support"}).Id), 1
			}
			res := e.do(request{method: c.method, path: path, as: &u, body: c.body})
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

// PUT applies the bounds of create to each field it sets, needs at least one field, and
// accepts null only to clear the description; a refused update changes nothing.
func TestUpdateBodyBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := append(valBoundCases(),
		valCase{name: "EmptyObjectIsRefused", raw: `{}`, want: valInvalid, field: ""},
		valCase{name: "NullDescriptionClearsIt", set: map[string]any{"description": nil},
			check: func(t *testing.T, b valRepresented) { require.Equal(t, "null", string(b.raw["description"])) }},
		valCase{name: "ADescriptionOnlyChangesTheDescription", set: map[string]any{"description": "new"},
			check: func(t *testing.T, b valRepresented) {
				require.Equal(t, "new", b.Description.MustGet())
				require.Equal(t, "Original", b.Name)
				require.Equal(t, "1.5", string(b.raw["temperature"]))
				require.Equal(t, "prompt", b.SystemPrompt)
				require.False(t, b.IsPublic)
			}},
		valCase{name: "NulInTheNameIsRefused", set: map[string]any{"name": "a\x00b"}, want: valInvalid, field: "name"},
		valCase{name: "NulInTheSystemPromptIsRefused", set: map[string]any{"system_prompt": "a\x00b"}, want: valInvalid, field: "system_prompt"},
		valCase{name: "NulInTheDescriptionIsRefused", set: map[string]any{"description": "a\x00b"}, want: valInvalid, field: "description"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Original", "description": "old", "temperature": 1.5,
				"system_prompt": "prompt"})
			before := e.get(u, botPath(bot.Id))
			var body any = c.set
			if c.raw != "" {
				body = c.raw
			}
			res := e.put(u, botPath(bot.Id), body, nil)
			after := e.get(u, botPath(bot.Id))
			require.Equal(t, http.StatusOK, after.code, string(after.body))
			if c.want == valAccepted {
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				require.NotNil(t, c.check, "an accepted case must say what it stores")
				c.check(t, valRepresentation(t, res))
				c.check(t, valRepresentation(t, after))
				return
			}
			if c.want == valInvalid && c.field == "" {
				p := valProblem(t, res, http.StatusUnprocessableEntity, valTypeValidation)
				require.Equal(t, []string{"body:"}, fieldsOf(p))
			} else {
				valExpect(t, res, c)
			}
			require.Equal(t, before.header.Get("ETag"), after.header.Get("ETag"), "a refused update changed the bot")
			require.JSONEq(t, string(before.body), string(after.body))
		})
	}
}

// The body of a duplicate is optional; what it sets follows the rules of create.
func TestDuplicateBody(t *testing.T) {
	t.Parallel()
	e := setup(t)
	none := struct{}{}
	cases := []struct {
		name  string
		body  any // none: no body at all
		want  valOutcome
		field string
		copy  string // the copy's name when accepted
	}{
		{name: "NoBodyAtAllIsAccepted", body: none, copy: "Support (copy)"},
		{name: "EmptyObjectIsAccepted", body: `{}`, copy: "Support (copy)"},
		{name: "ANameOfItsOwnIsAccepted", body: map[string]any{"name": "  Copy  "}, copy: "Copy"},
		{name: "NameOfOneHundredMultibyteCharactersIsAccepted", body: map[string]any{"name": strings.Repeat("é", 100)}, copy: strings.Repeat("é", 100)},
		{name: "EmptyNameIsRefused", body: map[string]any{"name": ""}, want: valInvalid, field: "name"},
		{name: "NameOfOnlyIdeographicSpacesIsRefused", body: map[string]any{"name": valIdeographicSpace}, want: valInvalid, field: "name"},
		{name: "NameOfOneHundredAndOneMultibyteCharactersIsRefused", body: map[string]any{"name": strings.Repeat("é", 101)}, want: valInvalid, field: "name"},
		{name: "NullNameIsRefused", body: map[string]any{"name": nil}, want: valInvalid, field: "name"},
		{name: "NulInTheNameIsRefused", body: map[string]any{"name": "a\x00b"}, want: valInvalid, field: "name"},
		{name: "IsPublicAsAStringIsRefused", body: map[string]any{"is_public": "true"}, want: valInvalid, field: "is_public"},
		{name: "NullIsPublicIsRefused", body: map[string]any{"is_public": nil}, want: valInvalid, field: "is_public"},
		{name: "UnknownFieldIsRefused", body: map[string]any{"foo": "bar"}, want: valInvalid, field: "foo"},
		{name: "ModelCannotBeChangedOnACopy", body: map[string]any{"model": "gpt-4o"}, want: valInvalid, field: "model"},
		{name: "MalformedJsonIsBadRequest", body: `{"name":`, want: valUnreadable},
		{name: "JsonArrayIsRefused", body: `[]`, want: valRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			src := e.createBot(u, map[string]any{"name": "Support"})
			r := request{method: http.MethodPost, path: botPath(src.Id, "/duplicate"), as: &u, body: c.body}
			if c.body == none {
				r.body = nil
			}
			res := e.do(r)
			if c.want != valAccepted {
				valExpect(t, res, valCase{want: c.want, field: c.field})
				require.Equal(t, 1, valBotsOf(t, e, u.id), "a refused duplicate wrote a bot")
				return
			}
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
			copied := valRepresentation(t, res)
			require.Equal(t, c.copy, copied.Name)
			require.NotEqual(t, src.Id, copied.Id)
			require.Equal(t, 2, valBotsOf(t, e, u.id))
		})
	}
}

// valNested is depth levels of an array around a number.
func valNested(depth int) string {
	return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
}

// A body the server cannot read as I-JSON is refused with the problem type of its class
// (400, 413, 415), text fields cannot hold NUL, and no such request writes anything.
func TestRequestBodyTransport(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const valid = `{"name":"Support","model":"gpt-4o-mini"}`
	// hugeDescription is a valid JSON body of n bytes whose description is far too long.
	hugeDescription := func(n int) string {
		head, tail := `{"name":"Support","model":"gpt-4o-mini","description":"`, `"}`
		return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
	}
	type transportCase struct {
		name   string
		body   string
		ct     string // Content-Type; "-" sends none
		stream bool   // send without Content-Length
		status int
		typ    string
		field  string                                 // for 422
		check  func(t *testing.T, bot valRepresented) // for 201
	}
	cases := []transportCase{
		{name: "MalformedJsonIsBadRequest", body: `{"name":"Support",`, status: 400, typ: valTypeBadRequest},
		{name: "JsonWithATrailingCommaIsBadRequest", body: `{"name":"Support","model":"gpt-4o-mini",}`, status: 400, typ: valTypeBadRequest},
		{name: "SingleQuotedJsonIsBadRequest", body: `{'name':'Support','model':'gpt-4o-mini'}`, status: 400, typ: valTypeBadRequest},
		{name: "JsonFollowedByGarbageIsBadRequest", body: valid + `x`, status: 400, typ: valTypeBadRequest},
		{name: "TwoJsonObjectsAreBadRequest", body: valid + valid, status: 400, typ: valTypeBadRequest},
		{name: "BodyOverSixtyFourKibibytesIsTooLarge", body: hugeDescription(70 << 10), status: 413, typ: valTypeTooLarge},
		{name: "BodyOneByteOverTheLimitIsTooLarge", body: hugeDescription(valMaxBody + 1), status: 413, typ: valTypeTooLarge},
		{name: "BodyOverTheLimitWithoutContentLengthIsTooLarge", body: hugeDescription(70 << 10), stream: true, status: 413, typ: valTypeTooLarge},
		{name: "BodyOfExactlySixtyFourKibibytesIsRead", body: hugeDescription(valMaxBody), status: 422, typ: valTypeValidation, field: "description"},
		{name: "TextPlainIsUnsupported", body: valid, ct: "text/plain", status: 415, typ: valTypeMediaType},
		{name: "ApplicationXmlIsUnsupported", body: `<bot><name>Support</name></bot>`, ct: "application/xml", status: 415, typ: valTypeMediaType},
		{name: "FormEncodingIsUnsupported", body: `name=Support&model=gpt-4o-mini`, ct: "application/x-www-form-urlencoded", status: 415, typ: valTypeMediaType},
		{name: "MissingContentTypeWithABodyIsUnsupported", body: valid, ct: "-", status: 415, typ: valTypeMediaType},
		{name: "MalformedContentTypeIsUnsupported", body: valid, ct: "json;;", status: 415, typ: valTypeMediaType},
		{name: "JsonWithACharsetIsAccepted", body: valid, ct: "application/json; charset=utf-8", status: 201},
		{name: "InvalidUtf8ByteIsBadRequest", body: "{\"name\":\"Sup\xffport\",\"model\":\"gpt-4o-mini\"}", status: 400, typ: valTypeBadRequest},
		{name: "TruncatedUtf8SequenceIsBadRequest", body: "{\"name\":\"Support\xc3\",\"model\":\"gpt-4o-mini\"}", status: 400, typ: valTypeBadRequest},
		{name: "OverlongUtf8EncodingIsBadRequest", body: "{\"name\":\"Support\xc0\xaf\",\"model\":\"gpt-4o-mini\"}", status: 400, typ: valTypeBadRequest},
		{name: "Utf8EncodedSurrogateIsBadRequest", body: "{\"name\":\"Support\xed\xa0\x80\",\"model\":\"gpt-4o-mini\"}", status: 400, typ: valTypeBadRequest},
		{name: "LoneHighSurrogateEscapeIsBadRequest", body: `{"name":"\ud800","model":"gpt-4o-mini"}`, status: 400, typ: valTypeBadRequest},
		{name: "LoneLowSurrogateEscapeIsBadRequest", body: `{"name":"\udc00","model":"gpt-4o-mini"}`, status: 400, typ: valTypeBadRequest},
		{name: "HighSurrogateEscapeFollowedByTextIsBadRequest", body: `{"name":"\ud800x","model":"gpt-4o-mini"}`, status: 400, typ: valTypeBadRequest},
		{name: "TwoHighSurrogateEscapesAreBadRequest", body: `{"name":"\ud800\ud800","model":"gpt-4o-mini"}`, status: 400, typ: valTypeBadRequest},
		{name: "SurrogatePairInReverseOrderIsBadRequest", body: `{"name":"\ude00\ud83d","model":"gpt-4o-mini"}`, status: 400, typ: valTypeBadRequest},
		{name: "LoneSurrogateEscapeInAFieldNameIsBadRequest", body: `{"name":"Support","model":"gpt-4o-mini","\ud800":1}`, status: 400, typ: valTypeBadRequest},
		{name: "ValidSurrogatePairEscapeRoundTripsAsOneEmoji", body: `{"name":"\ud83d\ude00","model":"gpt-4o-mini"}`, status: 201,
			check: func(t *testing.T, b valRepresented) {
				require.Equal(t, "😀", b.Name)
				require.Equal(t, 1, utf8.RuneCountInString(b.Name))
			}},
		{name: "EscapedBackslashBeforeSurrogateTextIsNotASurrogate", body: `{"name":"\\ud800","model":"gpt-4o-mini"}`, status: 201,
			check: func(t *testing.T, b valRepresented) { require.Equal(t, `\ud800`, b.Name) }},
		{name: "EscapedBackslashPairBeforeAValidEscapeIsAccepted", body: `{"name":"\\\\\u00e9","model":"gpt-4o-mini"}`, status: 201,
			check: func(t *testing.T, b valRepresented) { require.Equal(t, `\\é`, b.Name) }},
		{name: "NulInTheNameIsNamed", body: `{"name":"Sup\u0000port","model":"gpt-4o-mini"}`, status: 422, typ: valTypeValidation, field: "name"},
		{name: "NulInTheDescriptionIsNamed", body: `{"name":"Support","model":"gpt-4o-mini","description":"\u0000"}`, status: 422, typ: valTypeValidation, field: "description"},
		{name: "NulInTheSystemPromptIsNamed", body: `{"name":"Support","model":"gpt-4o-mini","system_prompt":"a\u0000"}`, status: 422, typ: valTypeValidation, field: "system_prompt"},
		{name: "NulInTheModelIsNamed", body: `{"name":"Support","model":"gpt-4o-mini\u0000"}`, status: 422, typ: valTypeValidation, field: "model"},
		{name: "RawNulByteInsideAStringIsBadRequest", body: "{\"name\":\"Sup\x00port\",\"model\":\"gpt-4o-mini\"}", status: 400, typ: valTypeBadRequest},
		{name: "TenThousandUnclosedBracketsAreRefused", body: strings.Repeat("[", 10000), status: 400, typ: valTypeBadRequest},
		{name: "TenThousandNestedArraysAreRefused", body: valNested(10000)},
		{name: "TwentyThousandNestedArraysAreRefused", body: valNested(20000)},
		{name: "DeeplyNestedArraysInADescriptionAreRefused",
			body: `{"name":"Support","model":"gpt-4o-mini","description":` + valNested(9000) + `}`},
		{name: "DeeplyNestedObjectsAreRefused",
			body: `{"name":"Support","model":"gpt-4o-mini","foo":` + strings.Repeat(`{"a":`, 9000) + `1` + strings.Repeat(`}`, 9000) + `}`},
		{name: "AHugeNumberAsTheWholeBodyIsRefused", body: `1e400`},
		{name: "JsonNullAsTheWholeBodyIsRefused", body: `null`},
		{name: "AJsonArrayAsTheWholeBodyIsRefused", body: `[` + valid + `]`},
		{name: "AnEmptyBodyIsRefused", body: ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			r := request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: c.body, contentType: c.ct}
			if c.stream {
				r.body = io.MultiReader(strings.NewReader(c.body)) // unknown length: no Content-Length
			}
			if c.ct == "-" {
				r.header = map[string]string{"Content-Type": ""}
			}
			res := e.do(r)
			switch {
			case c.status == http.StatusCreated:
				require.Equal(t, http.StatusCreated, res.code, string(res.body))
				created := valRepresentation(t, res)
				if c.check != nil {
					c.check(t, created)
					got := e.get(u, botPath(created.Id))
					require.Equal(t, http.StatusOK, got.code)
					c.check(t, valRepresentation(t, got))
				}
				require.Equal(t, 1, valBotsOf(t, e, u.id))
				return
			case c.field != "":
				valNamesOnly(t, res, "body", c.field)
			case c.status != 0:
				valProblem(t, res, c.status, c.typ)
			default:
				valClientError(t, res)
			}
			require.Zero(t, valBotsOf(t, e, u.id), "a refused create wrote a bot")
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
				var list api.BotList
				res.decode(t, &list)
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
		res := e.get(owner, "/api/v1/bots")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		var list api.BotList
		res.decode(t, &list)
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
		var list api.BotList
		res.decode(t, &list)
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
	e := setup(t)
	u := newUser(t)
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
