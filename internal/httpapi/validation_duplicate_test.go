package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
