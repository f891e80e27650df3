package httpapi

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/chatsphere/bots/gen/api"
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

// queryFields reads the raw query string pair by pair and lists every parameter that Go's
// query parser would drop without a word (a pair holding ";", a malformed %-escape) or that
// is repeated although it takes one value. The parameters the validator sees are then
// exactly the ones the client sent. A name or value that no text column could hold (invalid
// UTF-8, NUL) makes the whole query string unreadable.
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
