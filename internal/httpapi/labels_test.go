package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A client may send any token as the method; each must not become a metrics series of its
// own, or unauthenticated requests grow /metrics without bound.
func TestUnknownMethodsShareOneMetricsLabel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	methods := []string{strings.Repeat("M", 60<<10), "get", "PROPFIND", "BREW"}
	for i := range 50 {
		methods = append(methods, fmt.Sprintf("JUNK%03d", i))
	}
	var details []string
	for _, m := range methods {
		details = append(details, e.do(request{method: m, path: "/healthz"}).problem(t, http.StatusMethodNotAllowed).Detail)
	}
	e.do(request{method: http.MethodGet, path: "/healthz"})

	metrics := e.do(request{method: http.MethodGet, path: "/metrics"})
	require.Equal(t, http.StatusOK, metrics.code)
	var series []string
	for line := range strings.Lines(string(metrics.body)) {
		if strings.HasPrefix(line, "http_request_duration_seconds_count{") {
			series = append(series, strings.TrimSpace(line))
		}
	}
	require.Len(t, series, 2, "one series for GET, one for every other method: %v", series)
	require.Contains(t, series[0]+series[1], `method="GET",route="/healthz",status="200"`)
	require.Contains(t, series[0]+series[1], fmt.Sprintf(`method="other",route="/healthz",status="405"} %d`, len(methods)))
	require.Less(t, len(metrics.body), 64<<10, "the metrics page holds what clients sent")

	// Nor does the answer repeat a method of any length.
	for _, d := range details {
		require.Less(t, len(d), 200, "the detail repeats the whole method")
	}
}
