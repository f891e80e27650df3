package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The server's write timeout leaves room for the reading of the body, the whole
// REQUEST_TIMEOUT and the answer, so that a request that runs out of its time is answered
// rather than cut, whatever REQUEST_TIMEOUT is; it is never under 30 s.
func TestWriteTimeoutOutlastsTheRequestTimeout(t *testing.T) {
	t.Parallel()
	for _, requestTimeout := range []time.Duration{time.Second, 10 * time.Second, 30 * time.Second, 45 * time.Second, 10 * time.Minute} {
		w := writeTimeout(requestTimeout)
		require.GreaterOrEqual(t, w, 30*time.Second, "REQUEST_TIMEOUT %s", requestTimeout)
		require.Greater(t, w, readTimeout+requestTimeout, "REQUEST_TIMEOUT %s", requestTimeout)
	}
}
