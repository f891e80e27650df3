package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeAnswersPreflightsFromCORSAllowedOrigins(t *testing.T) {
	t.Parallel()
	s := startServer(t, "CORS_ALLOWED_ORIGINS", "https://app.example.com")
	for origin, allowed := range map[string]string{"https://app.example.com": "https://app.example.com", "https://other.example.com": ""} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, s.base+"/api/v1/bots", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res, err := s.client.Do(req)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		require.Equal(t, allowed, res.Header.Get("Access-Control-Allow-Origin"), origin)
	}
}
