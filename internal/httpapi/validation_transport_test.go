package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

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
