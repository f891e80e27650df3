package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/ijson"
)

// singleValued lists the query parameters of an operation that take one value: every query
// parameter whose schema is not an array.
func singleValued(item *openapi3.PathItem, op *openapi3.Operation) map[string]bool {
	single := make(map[string]bool)
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range params {
			if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInQuery {
				continue
			}
			s := p.Value.Schema
			single[p.Value.Name] = s == nil || s.Value == nil || !s.Value.Type.Is("array")
		}
	}
	return single
}

// headerParameters lists the header parameters of an operation, by their names in openapi.yaml.
func headerParameters(item *openapi3.PathItem, op *openapi3.Operation) []string {
	var names []string
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range params {
			if p != nil && p.Value != nil && p.Value.In == openapi3.ParameterInHeader {
				names = append(names, p.Value.Name)
			}
		}
	}
	return names
}

// repeatedHeader returns the first header of names, or Authorization or Content-Type, sent
// on more than one line, or "" when each comes once at most. These headers take one value
// (RFC 9110 §5.3): which line would win is a guess the server does not make. The list headers
// If-Match and If-None-Match were joined into one line before (joinListHeaders).
func repeatedHeader(h http.Header, names []string) string {
	for _, name := range append([]string{"Authorization", "Content-Type"}, names...) {
		if len(h.Values(name)) > 1 {
			return name
		}
	}
	return ""
}

// undeclaredPrecondition returns why a write is refused that sends If-Match or If-None-Match
// although its operation, method and path as in openapi.yaml, does not declare that header,
// or "" when it sends none of them. Such a header would be ignored, and the write done even
// when the condition is false, which RFC 9110 §13.1.1 and §13.1.2 forbid: the client sent it
// as a guard, so the server refuses rather than writes without looking.
func undeclaredPrecondition(method, path string, h http.Header, declared []string) string {
	preconditions := []string{"If-Match", "If-None-Match"}
	for i, name := range preconditions {
		if len(h.Values(name)) == 0 || slices.Contains(declared, name) {
			continue
		}
		also := ""
		if other := preconditions[1-i]; slices.Contains(declared, other) {
			also = " (it evaluates " + other + " only)"
		}
		return fmt.Sprintf("%s %s does not evaluate %s%s; send the request without it", method, path, name, also)
	}
	return ""
}

// emptyIdempotencyKey notes an Idempotency-Key that is empty once unquoted (`""`), which
// would otherwise turn idempotency off without a word.
func emptyIdempotencyKey(h http.Header, names []string) []api.FieldError {
	const name = "Idempotency-Key"
	if lines, declared := h.Values(name), slices.Contains(names, name); declared && len(lines) == 1 && idempotencyKey(&lines[0]) == "" {
		return []api.FieldError{{Location: api.Header, Field: name,
			Message: "must not be empty, quoted or not; send a fresh key such as a UUID, or no header"}}
	}
	return nil
}

// queryFields reads the raw query string pair by pair and lists every parameter that Go's
// query parser would drop without a word (a pair holding ";", a malformed %-escape) or that
// is repeated although it takes one value. The parameters the validator sees are then
// exactly the ones the client sent. A name or value that no text
// column could hold (invalid UTF-8, NUL) makes the whole query string unreadable.
func queryFields(rawQuery string, single map[string]bool) (fields []api.FieldError, readable bool) {
	seen := make(map[string]int)
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, nameErr := url.QueryUnescape(rawName)
		if nameErr != nil {
			name = rawName
		}
		value, valueErr := url.QueryUnescape(rawValue)
		if valueErr != nil {
			value = rawValue
		}
		if !queryText(name) || !queryText(value) {
			return nil, false
		}
		switch {
		case strings.Contains(pair, ";"):
			fields = append(fields, api.FieldError{Location: api.Query, Field: name,
				Message: `contains a ";", which is not a separator here; percent-encode it as %3B`})
		case nameErr != nil || valueErr != nil:
			fields = append(fields, api.FieldError{Location: api.Query, Field: name,
				Message: `has a "%" that does not start a percent-encoded byte; write a literal "%" as %25`})
		}
		seen[name]++
		if seen[name] == 2 && single[name] {
			fields = append(fields, api.FieldError{Location: api.Query, Field: name, Message: "must be given once"})
		}
	}
	return fields, true
}

// queryText reports whether a decoded query name or value is text a column can hold.
func queryText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// identityOnly reports whether the Content-Encoding header, if any, names no coding but
// identity: the API reads bodies only as sent.
func identityOnly(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				return false
			}
		}
	}
	return true
}

// checkMembers refuses a body, already known to be valid JSON, that I-JSON (RFC 7493) forbids
// beyond UTF-8 and surrogates (package ijson): a member name twice in one object, compared
// exactly after unescaping, and Unicode noncharacters, raw or escaped, in names and strings.
// The message names the member as the validator names fields.
func checkMembers(body []byte) error {
	var dup *ijson.DuplicateError
	var non *ijson.NoncharacterError
	switch err := ijson.Check(body, ijson.Exact); {
	case errors.As(err, &dup):
		return fmt.Errorf("the request body has the member %q twice in one object; send each member once", strings.Join(dup.Path, "."))
	case errors.As(err, &non):
		return fmt.Errorf("the request body contains the Unicode noncharacter U+%04X, which I-JSON (RFC 7493) does not allow", non.Rune)
	case err != nil:
		return errNotJSON
	}
	return nil
}

var errNotJSON = errors.New("the request body is not valid JSON")

// seconds says a number of seconds in words: "1 second", "2 seconds".
func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

// plainNumber writes a bound as people write numbers: 1000000000, not 1e+09.
func plainNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// normalizePath decodes the percent-encoded unreserved characters of the request's path
// (letters, digits, "-", ".", "_", "~"), before routing: RFC 3986 (§2.3, §6.2.2.2) makes
// /aliases/pro%64uction and /aliases/production the same URI, and the router and the
// validator read the path as sent. Other escapes, such as %2F, keep their meaning and are
// left as they are.
func normalizePath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if u.RawPath != "" {
			u.RawPath = decodeUnreserved(u.RawPath)
			if !strings.Contains(u.RawPath, "%") {
				u.RawPath = "" // the path is then Path itself
			}
		}
		return next(c)
	}
}

// decodeUnreserved decodes every %XX escape of an unreserved character in path.
func decodeUnreserved(path string) string {
	if !strings.Contains(path, "%") {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && i+2 < len(path) {
			if v, err := strconv.ParseUint(path[i+1:i+3], 16, 8); err == nil && unreserved(byte(v)) {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(path[i])
	}
	return b.String()
}

// unreserved reports whether c is an unreserved character of RFC 3986 §2.3.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
