package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/httpapi"
)

// JSON answers are for programs, not for embedding in HTML: <, > and & go out as written,
// not as \u003c, \u003e and \u0026, in problems and in representations alike.
func TestJSONIsNotHTMLEscaped(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	const name, description = `R&D <lab>`, `Answers "<b>" & "</b>" questions \u003c literally`
	requireUnescaped := func(t *testing.T, res *response, want ...string) {
		t.Helper()
		require.NotRegexp(t, httpapi.HTMLEscape, string(res.body))
		for _, w := range want {
			require.Contains(t, string(res.body), w)
		}
	}

	t.Run("ProblemsOfTheErrorHandler", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/api/v1/bots"})
		p := res.problem(t, http.StatusUnauthorized)
		require.Contains(t, p.Detail, "<token>")
		requireUnescaped(t, res, "<token>")
	})

	created := e.post(u, "/api/v1/bots", map[string]any{"name": name, "description": description, "model": "gpt-4o-mini"})
	require.Equal(t, http.StatusCreated, created.code, string(created.body))
	var bot struct{ Id string }
	created.decode(t, &bot)

	t.Run("Created", func(t *testing.T) {
		t.Parallel()
		requireUnescaped(t, created, `"R&D <lab>"`)
		// An escaped backslash stays escaped: the text \u003c is not turned into <.
		require.Contains(t, string(created.body), `questions \\u003c literally`)
	})

	t.Run("Representations", func(t *testing.T) {
		t.Parallel()
		res := e.get(u, "/api/v1/bots/"+bot.Id)
		require.Equal(t, http.StatusOK, res.code)
		requireUnescaped(t, res, `"R&D <lab>"`, `Answers \"<b>\" & \"</b>\"`)
		var got struct{ Name, Description string }
		res.decode(t, &got)
		require.Equal(t, name, got.Name)
		require.Equal(t, description, got.Description)

		list := e.get(u, "/api/v1/bots")
		require.Equal(t, http.StatusOK, list.code)
		requireUnescaped(t, list, `"R&D <lab>"`)
	})

	t.Run("ProblemsOfTheHandlers", func(t *testing.T) {
		t.Parallel()
		res := e.post(u, "/api/v1/bots", map[string]any{"name": strings.ToUpper(name), "model": "gpt-4o-mini"})
		p := res.problem(t, http.StatusConflict)
		require.Contains(t, p.Detail, fmt.Sprintf("%q", strings.ToUpper(name)))
		requireUnescaped(t, res, "R&D <LAB>")
	})
}
