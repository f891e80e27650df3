package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/config"
)

// configSecret is a valid JWT_SECRET (36 bytes).
const configSecret = "config-test-secret-0123456789abcdefg"

// configEnv returns a getenv that answers from vars and "" for anything else.
func configEnv(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// mustLoad loads the settings of vars, which must be valid; needSecret is config.Load's.
func mustLoad(t *testing.T, vars map[string]string, needSecret bool) config.Config {
	t.Helper()
	cfg, err := config.Load(configEnv(vars), needSecret)
	require.NoError(t, err)
	return cfg
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	cfg := mustLoad(t, nil, false)
	require.Equal(t, config.DefaultDatabaseURL, cfg.DatabaseURL)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/chatsphere?sslmode=disable", cfg.DatabaseURL)
	require.NotNil(t, cfg.Pool)
	require.Equal(t, "chatsphere", cfg.Pool.ConnConfig.Database)
	require.Equal(t, "127.0.0.1", cfg.Pool.ConnConfig.Host)
	require.EqualValues(t, 5432, cfg.Pool.ConnConfig.Port)
	require.Equal(t, ":8080", cfg.ListenAddr)
	require.Empty(t, cfg.DebugAddr, "the profiler is off unless asked for")
	require.Equal(t, slog.LevelInfo, cfg.LogLevel)
	require.Equal(t, 15*time.Second, cfg.ShutdownTimeout)
	require.Empty(t, cfg.JWTSecret)
}

func TestLoadReadsEverySetting(t *testing.T) {
	t.Parallel()

	t.Run("GivenValuesReplaceTheDefaults", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, map[string]string{
			"DATABASE_URL":     "postgres://bots@db.internal:6543/botsdb?sslmode=disable",
			"LISTEN_ADDR":      "127.0.0.1:9090",
			"DEBUG_ADDR":       "127.0.0.1:6060",
			"JWT_SECRET":       configSecret,
			"LOG_LEVEL":        "debug",
			"SHUTDOWN_TIMEOUT": "3s",
		}, true)
		require.Equal(t, "postgres://bots@db.internal:6543/botsdb?sslmode=disable", cfg.DatabaseURL)
		require.Equal(t, "db.internal", cfg.Pool.ConnConfig.Host)
		require.EqualValues(t, 6543, cfg.Pool.ConnConfig.Port)
		require.Equal(t, "botsdb", cfg.Pool.ConnConfig.Database)
		require.Equal(t, "bots", cfg.Pool.ConnConfig.User)
		require.Equal(t, "127.0.0.1:9090", cfg.ListenAddr)
		require.Equal(t, "127.0.0.1:6060", cfg.DebugAddr)
		require.Equal(t, []byte(configSecret), cfg.JWTSecret)
		require.Equal(t, slog.LevelDebug, cfg.LogLevel)
		require.Equal(t, 3*time.Second, cfg.ShutdownTimeout)
	})

	t.Run("PoolSettingsInTheDatabaseURLApply", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, map[string]string{
			"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/chatsphere?sslmode=disable&pool_max_conns=7",
		}, false)
		require.EqualValues(t, 7, cfg.Pool.MaxConns)
	})

	t.Run("AReadURLMakesWritesWaitForTheStandbysReplay", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, map[string]string{}, false)
		require.Nil(t, cfg.ReadPool, "reads go to the primary unless a read URL is given")
		require.NotContains(t, cfg.Pool.ConnConfig.RuntimeParams, "synchronous_commit", "the server's own setting applies")

		cfg = mustLoad(t, map[string]string{
			"DATABASE_READ_URL": "postgres://bots@standby.internal:6543/botsdb?sslmode=disable&pool_max_conns=9",
		}, false)
		require.Equal(t, "standby.internal", cfg.ReadPool.ConnConfig.Host)
		require.EqualValues(t, 9, cfg.ReadPool.MaxConns)
		require.Equal(t, "remote_apply", cfg.Pool.ConnConfig.RuntimeParams["synchronous_commit"],
			"a write must be applied on the standby before it is acknowledged")
		require.NotContains(t, cfg.ReadPool.ConnConfig.RuntimeParams, "synchronous_commit")
	})

	t.Run("SurroundingWhitespaceIsIgnored", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, map[string]string{
			"LISTEN_ADDR":      "  127.0.0.1:9090\n",
			"LOG_LEVEL":        " warn ",
			"SHUTDOWN_TIMEOUT": "\t20s ",
		}, false)
		require.Equal(t, "127.0.0.1:9090", cfg.ListenAddr)
		require.Equal(t, slog.LevelWarn, cfg.LogLevel)
		require.Equal(t, 20*time.Second, cfg.ShutdownTimeout)
	})

	t.Run("BlankValuesFallBackToTheDefaults", func(t *testing.T) {
		t.Parallel()
		cfg := mustLoad(t, map[string]string{
			"DATABASE_URL":     "   ",
			"LISTEN_ADDR":      " ",
			"LOG_LEVEL":        "",
			"SHUTDOWN_TIMEOUT": "\t",
		}, false)
		require.Equal(t, config.DefaultDatabaseURL, cfg.DatabaseURL)
		require.Equal(t, ":8080", cfg.ListenAddr)
		require.Equal(t, slog.LevelInfo, cfg.LogLevel)
		require.Equal(t, 15*time.Second, cfg.ShutdownTimeout)
	})

	t.Run("EveryLogLevelIsAccepted", func(t *testing.T) {
		t.Parallel()
		for level, want := range map[string]slog.Level{
			"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
		} {
			cfg, err := config.Load(configEnv(map[string]string{"LOG_LEVEL": level}), false)
			require.NoError(t, err, level)
			require.Equal(t, want, cfg.LogLevel, level)
		}
	})
}

func TestLoadSecret(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		secret     string
		needSecret bool
		// wantErr lists the parts the error must contain; empty means no error.
		wantErr []string
	}{
		{name: "MissingSecretIsRequired", secret: "", needSecret: true, wantErr: []string{"JWT_SECRET", "required"}},
		{name: "OneByteSecretIsTooShort", secret: "x", needSecret: true, wantErr: []string{"JWT_SECRET", "at least 32"}},
		{name: "ThirtyOneByteSecretIsTooShort", secret: strings.Repeat("s", 31), needSecret: true, wantErr: []string{"JWT_SECRET", "at least 32"}},
		{name: "ThirtyTwoByteSecretIsAccepted", secret: strings.Repeat("s", 32), needSecret: true},
		{name: "LongSecretIsAccepted", secret: strings.Repeat("s", 512), needSecret: true},
		// Bytes, not characters, make a key strong: 16 "é" are 32 bytes, 31 bytes is one short.
		{name: "SixteenTwoByteCharactersAreThirtyTwoBytes", secret: strings.Repeat("é", 16), needSecret: true},
		{name: "ThirtyOneBytesOfMultibyteCharactersAreTooShort", secret: strings.Repeat("é", 15) + "x", needSecret: true, wantErr: []string{"at least 32"}},
		{name: "MissingSecretPassesWhenNoneIsNeeded", secret: "", needSecret: false},
		{name: "ShortSecretPassesWhenNoneIsNeeded", secret: "x", needSecret: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(configEnv(map[string]string{"JWT_SECRET": tt.secret}), tt.needSecret)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				if tt.needSecret {
					require.Equal(t, []byte(tt.secret), cfg.JWTSecret)
				}
				return
			}
			require.Error(t, err)
			for _, part := range tt.wantErr {
				require.Contains(t, err.Error(), part)
			}
		})
	}

	t.Run("ShortSecretIsNotEchoedInTheError", func(t *testing.T) {
		t.Parallel()
		secret := "hunter2-is-my-secret"
		_, err := config.Load(configEnv(map[string]string{"JWT_SECRET": secret}), true)
		require.Error(t, err)
		require.NotContains(t, err.Error(), secret)
	})
}

func TestLoadRefusesBadSettings(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		variable string
		value    string
		wantErr  []string
	}{
		{name: "ListenAddrWithoutPort", variable: "LISTEN_ADDR", value: "nonsense", wantErr: []string{"LISTEN_ADDR", "nonsense", "host:port"}},
		{name: "ListenAddrWithPortAboveRange", variable: "LISTEN_ADDR", value: "127.0.0.1:65536", wantErr: []string{"LISTEN_ADDR", "65535"}},
		{name: "ListenAddrWithNegativePort", variable: "LISTEN_ADDR", value: ":-1", wantErr: []string{"LISTEN_ADDR"}},
		{name: "ListenAddrWithNamedPort", variable: "LISTEN_ADDR", value: ":http", wantErr: []string{"LISTEN_ADDR"}},
		{name: "DebugAddrWithoutPort", variable: "DEBUG_ADDR", value: "localhost", wantErr: []string{"DEBUG_ADDR", "localhost", "host:port"}},
		{name: "DebugAddrWithPortAboveRange", variable: "DEBUG_ADDR", value: "127.0.0.1:70000", wantErr: []string{"DEBUG_ADDR", "65535"}},
		{name: "DatabaseURLThatIsNotAURL", variable: "DATABASE_URL", value: "://bad", wantErr: []string{"DATABASE_URL", "postgres://"}},
		{name: "DatabaseURLWithBadPort", variable: "DATABASE_URL", value: "postgres://postgres@127.0.0.1:notaport/db", wantErr: []string{"DATABASE_URL"}},
		{name: "DatabaseURLWithBadPoolSetting", variable: "DATABASE_URL", value: "postgres://postgres@127.0.0.1:5432/db?pool_max_conns=many", wantErr: []string{"DATABASE_URL"}},
		{name: "UnknownLogLevel", variable: "LOG_LEVEL", value: "loud", wantErr: []string{"LOG_LEVEL", "debug, info, warn or error"}},
		{name: "ShutdownTimeoutThatIsNotADuration", variable: "SHUTDOWN_TIMEOUT", value: "soon", wantErr: []string{"SHUTDOWN_TIMEOUT", "positive"}},
		{name: "ShutdownTimeoutWithoutUnit", variable: "SHUTDOWN_TIMEOUT", value: "15", wantErr: []string{"SHUTDOWN_TIMEOUT"}},
		{name: "ZeroShutdownTimeout", variable: "SHUTDOWN_TIMEOUT", value: "0s", wantErr: []string{"SHUTDOWN_TIMEOUT", "positive"}},
		{name: "NegativeShutdownTimeout", variable: "SHUTDOWN_TIMEOUT", value: "-1s", wantErr: []string{"SHUTDOWN_TIMEOUT", "positive"}},
		{name: "NegativeInflightPerUser", variable: "INFLIGHT_PER_USER", value: "-1", wantErr: []string{"INFLIGHT_PER_USER", "at least 0"}},
		{name: "FractionalInflightPerUser", variable: "INFLIGHT_PER_USER", value: "2.5", wantErr: []string{"INFLIGHT_PER_USER", "whole number"}},
		{name: "NegativeListRate", variable: "LIST_RATE", value: "-1", wantErr: []string{"LIST_RATE", "0 or more"}},
		{name: "ListRateThatIsNotANumber", variable: "LIST_RATE", value: "fast", wantErr: []string{"LIST_RATE", "lists per second"}},
		{name: "InfiniteListRate", variable: "LIST_RATE", value: "Inf", wantErr: []string{"LIST_RATE"}},
		{name: "ZeroListBurst", variable: "LIST_BURST", value: "0", wantErr: []string{"LIST_BURST", "at least 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(configEnv(map[string]string{"JWT_SECRET": configSecret, tt.variable: tt.value}), true)
			require.Error(t, err)
			for _, part := range tt.wantErr {
				require.Contains(t, err.Error(), part)
			}
		})
	}

	t.Run("SeveralProblemsAreReportedTogether", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(configEnv(map[string]string{
			"DATABASE_URL":     "://bad",
			"LISTEN_ADDR":      "nonsense",
			"JWT_SECRET":       "short",
			"LOG_LEVEL":        "loud",
			"SHUTDOWN_TIMEOUT": "soon",
		}), true)
		require.Error(t, err)
		for _, name := range []string{"DATABASE_URL", "LISTEN_ADDR", "JWT_SECRET", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
			require.Contains(t, err.Error(), name)
		}
		require.Contains(t, err.Error(), "at least 32")
		// One problem per line, so that a person reads them as a list.
		require.Len(t, strings.Split(err.Error(), "\n"), 5)
	})

	t.Run("MissingSecretIsReportedWithTheOtherProblems", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(configEnv(map[string]string{"LISTEN_ADDR": "nonsense"}), true)
		require.Error(t, err)
		require.Contains(t, err.Error(), "LISTEN_ADDR")
		require.Contains(t, err.Error(), "JWT_SECRET")
		require.Contains(t, err.Error(), "required")
	})
}

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
