package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

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
