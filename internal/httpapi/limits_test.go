package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/httpapi"
)

// NewServer takes its limits as they are, so a limit that was never set is a mistake it
// refuses rather than a server whose every request times out or whose streams never open.
func TestNewServerRefusesLimitsNeverSet(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		unset func(*httpapi.Limits)
	}{
		{"NoLimitsAtAll", func(l *httpapi.Limits) { *l = httpapi.Limits{} }},
		{"NoRequestTimeout", func(l *httpapi.Limits) { l.RequestTimeout = 0 }},
		{"NoWriteBurst", func(l *httpapi.Limits) { l.WriteBurst = 0 }},
		{"NoStreamsPerUser", func(l *httpapi.Limits) { l.StreamsPerUser = 0 }},
		{"NoListBurst", func(l *httpapi.Limits) { l.ListBurst = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			limits := config.DefaultLimits()
			tt.unset(&limits)
			_, err := httpapi.NewServer(httpapi.Deps{Limits: limits})
			require.EqualError(t, err, "limits: RequestTimeout, WriteBurst, StreamsPerUser and ListBurst must be positive; config.Load reads them and config.DefaultLimits gives their defaults")
		})
	}
}
