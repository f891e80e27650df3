package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

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
