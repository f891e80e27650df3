package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/config"
)

func TestLoadTokenRules(t *testing.T) {
	t.Parallel()

	t.Run("NoAudienceAndNoMaximumByDefault", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, nil, false)
		require.Equal(t, config.Tokens{}, cfg.Tokens)
	})

	t.Run("GivenValuesAreRead", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, map[string]string{"JWT_AUDIENCE": " chatsphere-bots ", "JWT_MAX_TTL": "24h"}, false)
		require.Equal(t, config.Tokens{Audience: "chatsphere-bots", MaxTTL: 24 * time.Hour}, cfg.Tokens)
	})

	t.Run("TokenRulesReadsThemAlone", func(t *testing.T) {
		t.Parallel()
		rules, err := config.TokenRules(configEnv(map[string]string{"JWT_AUDIENCE": "bots", "LISTEN_ADDR": "nonsense"}))
		require.NoError(t, err)
		require.Equal(t, "bots", rules.Audience)
	})

	for _, bad := range []string{"0", "0s", "-1h", "soon", "24"} {
		t.Run("MaxTTLOf"+bad+"IsRefused", func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(configEnv(map[string]string{"JWT_MAX_TTL": bad}), false)
			require.ErrorContains(t, err, "JWT_MAX_TTL must be a positive duration")
		})
	}

	t.Run("AudienceWithAControlCharacterIsRefused", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(configEnv(map[string]string{"JWT_AUDIENCE": "bots\x00"}), false)
		require.ErrorContains(t, err, "JWT_AUDIENCE")
	})
}

func TestLoadCORSAllowedOrigins(t *testing.T) {
	t.Parallel()

	good := []struct {
		name, value string
		want        []string
	}{
		{"OffByDefault", "", nil},
		{"OneOrigin", "https://app.example.com", []string{"https://app.example.com"}},
		{"SeveralWithSpaces", " https://app.example.com , http://localhost:3000 ", []string{"https://app.example.com", "http://localhost:3000"}},
		{"WrittenAsBrowsersSendIt", "HTTPS://App.Example.com:443/", []string{"https://app.example.com"}},
		{"DefaultHTTPPortDropped", "http://app.example.com:80", []string{"http://app.example.com"}},
		{"IPv6Loopback", "http://[::1]:8081", []string{"http://[::1]:8081"}},
		{"AnyOrigin", "*", []string{"*"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := mustLoad(t, map[string]string{"CORS_ALLOWED_ORIGINS": tt.value}, false)
			require.Equal(t, tt.want, cfg.CORSAllowedOrigins)
		})
	}

	bad := []struct{ name, value, want string }{
		{"NoScheme", "app.example.com", `"app.example.com" is not an origin`},
		{"OtherScheme", "ftp://app.example.com", `"ftp://app.example.com" is not an origin`},
		{"WithAPath", "https://app.example.com/app", `"https://app.example.com/app" is not an origin`},
		{"WithAQuery", "https://app.example.com?x=1", "is not an origin"},
		{"WithUserInfo", "https://me@app.example.com", "is not an origin"},
		{"WildcardSubdomain", "https://*.example.com", "is not an origin"},
		{"NoHost", "https://", "is not an origin"},
		{"SeveralBad", "app.example.com,https://ok.example.com,ftp://x", "are not origins"},
		{"AnyOriginWithOthers", "*,https://app.example.com", "* already allows every origin"},
	}
	for _, tt := range bad {
		t.Run(tt.name+"IsRefused", func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(configEnv(map[string]string{"CORS_ALLOWED_ORIGINS": tt.value}), false)
			require.ErrorContains(t, err, "CORS_ALLOWED_ORIGINS")
			require.ErrorContains(t, err, tt.want)
		})
	}
}
