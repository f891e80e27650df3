package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// A made-up method is logged cut short: net/http accepts any token as a method, up to the
// header limit, and a log line must not grow with it. Metrics count it as "other".
func TestServeLogsAHugeMethodCutShort(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	id := "huge-method-" + uuid.NewString()
	method := strings.Repeat("M", 60<<10)
	res := s.call(t, method, "/healthz", "", id, nil)
	require.Equal(t, http.StatusMethodNotAllowed, res.code)
	require.Equal(t, "application/problem+json", res.header.Get("Content-Type"))

	line := s.logs.requestLog(t, id)
	require.Equal(t, strings.Repeat("M", 64)+"…", line["method"])
	raw, err := json.Marshal(line)
	require.NoError(t, err)
	require.Less(t, len(raw), 1024, "the log line: %s", raw)

	metrics := s.call(t, http.MethodGet, "/metrics", "", "", nil)
	require.Contains(t, string(metrics.body), `method="other",route="/healthz",status="405"`)
	require.NotContains(t, string(metrics.body), "MMMMMMMM")
}
