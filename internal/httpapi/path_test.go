package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

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
