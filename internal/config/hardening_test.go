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
		cfg, err := config.Load(configEnv(nil), false)
		require.NoError(t, err)
		require.Equal(t, config.Tokens{}, cfg.Tokens)
	})

	t.Run("GivenValuesAreRead", func(t *testing.T) {
		t.Parallel()
		cfg, err := config.Load(configEnv(map[string]string{"JWT_AUDIENCE": " chatsphere-bots ", "JWT_MAX_TTL": "24h"}), false)
		require.NoError(t, err)
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
