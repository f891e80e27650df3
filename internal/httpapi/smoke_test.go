package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreateThenGet(t *testing.T) {
	t.Parallel()
	e, u, bot := setupBot(t, map[string]any{"name": "Support"})
	res := e.get(u, botPath(bot.Id))
	require.Equal(t, http.StatusOK, res.code)
	e.do(request{method: http.MethodPatch, path: "/api/v1/bots"}).problem(t, http.StatusMethodNotAllowed)
}
