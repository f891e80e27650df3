package config_test

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/config"
)

// settingCase is how Load reads one setting.
type settingCase struct {
	name string
	// field is the setting's value in a loaded Config.
	field func(config.Config) any
	// unset is the value when the variable is unset; for a required setting, requiredMessage
	// is the problem reported instead.
	unset           any
	requiredMessage string
	// valid maps values to what they are read as.
	valid map[string]any
	// invalid maps values to the problem reported for them, alone.
	invalid map[string]string
}

// refused maps each of values to the one problem message that each is refused with.
func refused(message string, values ...string) map[string]string {
	m := make(map[string]string, len(values))
	for _, v := range values {
		m[v] = message
	}
	return m
}

// settingCases covers every setting in config.Settings.
var settingCases = []settingCase{
	{
		name:  "DATABASE_URL",
		field: func(c config.Config) any { return c.DatabaseURL },
		unset: "postgres://postgres@127.0.0.1:5432/chatsphere?sslmode=disable",
		valid: map[string]any{"postgres://bots@db.internal:6543/botsdb?sslmode=disable": "postgres://bots@db.internal:6543/botsdb?sslmode=disable"},
		invalid: map[string]string{
			"://bad": "DATABASE_URL is not a valid PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable): ",
			"postgres://postgres@127.0.0.1:5432/db?pool_max_conns=many": "DATABASE_URL is not a valid PostgreSQL connection string",
		},
	},
	{
		name:    "DATABASE_READ_URL",
		field:   func(c config.Config) any { return c.ReadURL },
		unset:   "",
		valid:   map[string]any{"postgres://bots@standby.internal:5432/botsdb?sslmode=disable": "postgres://bots@standby.internal:5432/botsdb?sslmode=disable"},
		invalid: refused("DATABASE_READ_URL is not a valid PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable): ", "://bad"),
	},
	{
		name:  "LISTEN_ADDR",
		field: func(c config.Config) any { return c.ListenAddr },
		unset: ":8080",
		valid: map[string]any{"127.0.0.1:9090": "127.0.0.1:9090", " :0 ": ":0"},
		invalid: map[string]string{
			"nonsense":        `LISTEN_ADDR "nonsense" must be host:port, for example :8080 or 127.0.0.1:8080`,
			"127.0.0.1:65536": `LISTEN_ADDR "127.0.0.1:65536" has no valid port (0 to 65535)`,
		},
	},
	{
		name:  "DEBUG_ADDR",
		field: func(c config.Config) any { return c.DebugAddr },
		unset: "",
		valid: map[string]any{"127.0.0.1:6060": "127.0.0.1:6060"},
		invalid: map[string]string{
			"localhost":       `DEBUG_ADDR "localhost" must be host:port, for example 127.0.0.1:6060`,
			"127.0.0.1:70000": `DEBUG_ADDR "127.0.0.1:70000" has no valid port (0 to 65535)`,
		},
	},
	{
		name:            "JWT_SECRET",
		field:           func(c config.Config) any { return string(c.JWTSecret) },
		requiredMessage: "JWT_SECRET is required: set it to a random string of at least 32 bytes (for example: openssl rand -hex 32)",
		valid:           map[string]any{strings.Repeat("s", 32): strings.Repeat("s", 32)},
		invalid:         map[string]string{"short": "JWT_SECRET is 5 bytes long; it must be at least 32"},
	},
	{
		name:    "LOG_LEVEL",
		field:   func(c config.Config) any { return c.LogLevel },
		unset:   slog.LevelInfo,
		valid:   map[string]any{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "WARN": slog.LevelWarn},
		invalid: refused("LOG_LEVEL must be debug, info, warn or error", "loud", "error+100", "info-4"),
	},
	{
		name:    "SHUTDOWN_TIMEOUT",
		field:   func(c config.Config) any { return c.ShutdownTimeout },
		unset:   15 * time.Second,
		valid:   map[string]any{"3s": 3 * time.Second},
		invalid: refused("SHUTDOWN_TIMEOUT must be a positive duration such as 15s", "soon", "15", "0s", "-1s"),
	},
	{
		name:  "TRAINING_WORKERS",
		field: func(c config.Config) any { return c.Training.Workers },
		unset: 4,
		valid: map[string]any{"0": 0, "16": 16, "10000": 10000},
		invalid: map[string]string{
			"-1":    "TRAINING_WORKERS must be a whole number of at least 0",
			"many":  "TRAINING_WORKERS must be a whole number of at least 0",
			"10001": "TRAINING_WORKERS must be at most 10000",
		},
	},
	{
		name:  "TRAINING_MAX_ATTEMPTS",
		field: func(c config.Config) any { return c.Training.MaxAttempts },
		unset: 5,
		valid: map[string]any{"1": 1, "10": 10, "100": 100},
		invalid: map[string]string{
			"0":     "TRAINING_MAX_ATTEMPTS must be a whole number of at least 1",
			"2.5":   "TRAINING_MAX_ATTEMPTS must be a whole number of at least 1",
			"32768": "TRAINING_MAX_ATTEMPTS must be at most 32767",
		},
	},
	{
		name:    "TRAINING_RETRY_BACKOFF",
		field:   func(c config.Config) any { return c.Training.RetryBackoff },
		unset:   time.Second,
		valid:   map[string]any{"250ms": 250 * time.Millisecond},
		invalid: refused("TRAINING_RETRY_BACKOFF must be a positive duration such as 1s", "0s", "soon"),
	},
	{
		name:    "TRAINING_JOB_TIMEOUT",
		field:   func(c config.Config) any { return c.Training.JobTimeout },
		unset:   30 * time.Second,
		valid:   map[string]any{"45s": 45 * time.Second},
		invalid: refused("TRAINING_JOB_TIMEOUT must be a positive duration such as 30s", "soon", "0s"),
	},
	{
		name:    "TRAINING_RESCUE_AFTER",
		field:   func(c config.Config) any { return c.Training.RescueAfter },
		unset:   time.Minute,
		valid:   map[string]any{"5m": 5 * time.Minute},
		invalid: refused("TRAINING_RESCUE_AFTER must be a positive duration such as 1m", "-1m", "later"),
	},
	{
		name:    "TRAINING_MIN_DURATION",
		field:   func(c config.Config) any { return c.Training.MinDuration },
		unset:   time.Duration(0),
		valid:   map[string]any{"0s": time.Duration(0), "2s": 2 * time.Second},
		invalid: refused("TRAINING_MIN_DURATION must be a duration of 0s or more, such as 2s", "-1s", "slow"),
	},
	{
		name:    "DELETED_RETENTION",
		field:   func(c config.Config) any { return c.Training.DeletedRetention },
		unset:   720 * time.Hour,
		valid:   map[string]any{"24h": 24 * time.Hour},
		invalid: map[string]string{"0s": "DELETED_RETENTION must be a positive duration such as 720h"},
	},
	{
		name:    "PURGE_INTERVAL",
		field:   func(c config.Config) any { return c.Training.PurgeInterval },
		unset:   time.Hour,
		valid:   map[string]any{"5m": 5 * time.Minute},
		invalid: map[string]string{"often": "PURGE_INTERVAL must be a positive duration such as 1h"},
	},
	{
		name:    "REQUEST_TIMEOUT",
		field:   func(c config.Config) any { return c.Limits.RequestTimeout },
		unset:   10 * time.Second,
		valid:   map[string]any{"2s": 2 * time.Second},
		invalid: refused("REQUEST_TIMEOUT must be a positive duration such as 10s", "0", "long"),
	},
	{
		name:    "WRITE_RATE",
		field:   func(c config.Config) any { return c.Limits.WriteRate },
		unset:   10.0,
		valid:   map[string]any{"0": 0.0, "2.5": 2.5},
		invalid: refused("WRITE_RATE must be a number of writes per second, 0 or more", "-1", "fast", "Inf", "NaN"),
	},
	{
		name:    "WRITE_BURST",
		field:   func(c config.Config) any { return c.Limits.WriteBurst },
		unset:   20,
		valid:   map[string]any{"1": 1},
		invalid: map[string]string{"0": "WRITE_BURST must be a whole number of at least 1"},
	},
	{
		name:    "STREAMS_PER_USER",
		field:   func(c config.Config) any { return c.Limits.StreamsPerUser },
		unset:   5,
		valid:   map[string]any{"1": 1},
		invalid: map[string]string{"0": "STREAMS_PER_USER must be a whole number of at least 1"},
	},
	{
		name:    "INFLIGHT_PER_USER",
		field:   func(c config.Config) any { return c.Limits.InflightPerUser },
		unset:   16,
		valid:   map[string]any{"0": 0, "4": 4},
		invalid: refused("INFLIGHT_PER_USER must be a whole number of at least 0", "-1", "2.5"),
	},
	{
		name:    "LIST_RATE",
		field:   func(c config.Config) any { return c.Limits.ListRate },
		unset:   20.0,
		valid:   map[string]any{"0": 0.0, "2.5": 2.5},
		invalid: refused("LIST_RATE must be a number of lists per second, 0 or more", "-1", "fast", "Inf"),
	},
	{
		name:    "LIST_BURST",
		field:   func(c config.Config) any { return c.Limits.ListBurst },
		unset:   40,
		valid:   map[string]any{"7": 7},
		invalid: map[string]string{"0": "LIST_BURST must be a whole number of at least 1"},
	},
	{
		name:    "JWT_AUDIENCE",
		field:   func(c config.Config) any { return c.Tokens.Audience },
		unset:   "",
		valid:   map[string]any{" chatsphere-bots ": "chatsphere-bots"},
		invalid: map[string]string{"bots\x00": "JWT_AUDIENCE must be printable text, such as chatsphere-bots"},
	},
	{
		name:    "JWT_MAX_TTL",
		field:   func(c config.Config) any { return c.Tokens.MaxTTL },
		unset:   time.Duration(0),
		valid:   map[string]any{"24h": 24 * time.Hour},
		invalid: refused("JWT_MAX_TTL must be a positive duration such as 24h, or unset for no limit", "0s", "soon"),
	},
	{
		name:    "CORS_ALLOWED_ORIGINS",
		field:   func(c config.Config) any { return c.CORSAllowedOrigins },
		unset:   []string(nil),
		valid:   map[string]any{"https://app.example.com": []string{"https://app.example.com"}},
		invalid: map[string]string{"*,https://app.example.com": "CORS_ALLOWED_ORIGINS lists * with other origins: * already allows every origin; give either * or a list"},
	},
	{
		name:  "CONFIG_CACHE_MB",
		field: func(c config.Config) any { return c.RuntimeCacheBytes },
		unset: 32 << 20,
		valid: map[string]any{"0": 0, "500": 500 << 20, "65536": 65536 << 20},
		invalid: map[string]string{
			"-1":             "CONFIG_CACHE_MB must be a whole number of at least 0",
			"1e3":            "CONFIG_CACHE_MB must be a whole number of at least 0",
			"65537":          "CONFIG_CACHE_MB must be at most 65536",
			"17592186044416": "CONFIG_CACHE_MB must be at most 65536",
		},
	},
	{
		name:  "WEBHOOK_WORKERS",
		field: func(c config.Config) any { return c.Webhooks.Workers },
		unset: 16,
		valid: map[string]any{"0": 0, "16": 16, "10000": 10000},
		invalid: map[string]string{
			"-1":    "WEBHOOK_WORKERS must be a whole number of at least 0",
			"10001": "WEBHOOK_WORKERS must be at most 10000",
		},
	},
	{
		name:    "WEBHOOK_RETRY_FOR",
		field:   func(c config.Config) any { return c.Webhooks.RetryFor },
		unset:   24 * time.Hour,
		valid:   map[string]any{"1h": time.Hour},
		invalid: map[string]string{"0s": "WEBHOOK_RETRY_FOR must be a positive duration such as 24h"},
	},
	{
		name:    "WEBHOOK_DISABLE_AFTER",
		field:   func(c config.Config) any { return c.Webhooks.DisableAfter },
		unset:   72 * time.Hour,
		valid:   map[string]any{"1m": time.Minute, "168h": 168 * time.Hour},
		invalid: refused("WEBHOOK_DISABLE_AFTER must be a positive duration such as 72h", "0s", "never"),
	},
	{
		name:    "WEBHOOK_RETRY_BACKOFF",
		field:   func(c config.Config) any { return c.Webhooks.RetryBackoff },
		unset:   5 * time.Second,
		valid:   map[string]any{"10ms": 10 * time.Millisecond},
		invalid: map[string]string{"soon": "WEBHOOK_RETRY_BACKOFF must be a positive duration such as 5s"},
	},
	{
		name:    "WEBHOOK_ALLOW_HTTP",
		field:   func(c config.Config) any { return c.Webhooks.Policy.AllowHTTP },
		unset:   false,
		valid:   map[string]any{"true": true, "false": false},
		invalid: map[string]string{"yes": "WEBHOOK_ALLOW_HTTP must be true or false"},
	},
	{
		name:    "WEBHOOK_ALLOW_PRIVATE",
		field:   func(c config.Config) any { return c.Webhooks.Policy.AllowPrivate },
		unset:   false,
		valid:   map[string]any{"true": true, "false": false},
		invalid: map[string]string{"yes": "WEBHOOK_ALLOW_PRIVATE must be true or false"},
	},
}

// loadWith loads the settings of vars, with a valid secret unless vars sets one.
func loadWith(vars map[string]string) (config.Config, error) {
	env := map[string]string{"JWT_SECRET": configSecret}
	for name, v := range vars {
		env[name] = v
	}
	return config.Load(configEnv(env), true)
}

func TestLoadEverySetting(t *testing.T) {
	t.Parallel()

	for _, tt := range settingCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			t.Run("Unset", func(t *testing.T) {
				t.Parallel()
				cfg, err := loadWith(map[string]string{tt.name: ""})
				if tt.requiredMessage != "" {
					require.EqualError(t, err, tt.requiredMessage)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tt.unset, tt.field(cfg))
			})

			for value, want := range tt.valid {
				t.Run("Accepts/"+value, func(t *testing.T) {
					t.Parallel()
					cfg, err := loadWith(map[string]string{tt.name: value})
					require.NoError(t, err)
					require.Equal(t, want, tt.field(cfg))
				})
			}

			for value, message := range tt.invalid {
				t.Run("Refuses/"+value, func(t *testing.T) {
					t.Parallel()
					_, err := loadWith(map[string]string{tt.name: value})
					require.ErrorContains(t, err, message)
					require.True(t, strings.HasPrefix(err.Error(), message), "the problem is said first: %q", err)
					require.NotContains(t, err.Error(), "\n", "one value makes one problem")
				})
			}
		})
	}
}

func TestLoadCrossChecksTrainingSettings(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		vars map[string]string
		// wantErr is the problem reported, alone; empty: none.
		wantErr string
	}{
		{
			name:    "RescueAfterAsLongAsTheJobTimeoutIsRefused",
			vars:    map[string]string{"TRAINING_JOB_TIMEOUT": "30s", "TRAINING_RESCUE_AFTER": "30s"},
			wantErr: "TRAINING_RESCUE_AFTER (30s) must be longer than TRAINING_JOB_TIMEOUT (30s), or running jobs would be run twice",
		},
		{
			name:    "RescueAfterShorterThanTheJobTimeoutIsRefused",
			vars:    map[string]string{"TRAINING_JOB_TIMEOUT": "30s", "TRAINING_RESCUE_AFTER": "10s"},
			wantErr: "TRAINING_RESCUE_AFTER (10s) must be longer than TRAINING_JOB_TIMEOUT (30s), or running jobs would be run twice",
		},
		{
			name:    "JobTimeoutPastTheDefaultRescueIsRefused",
			vars:    map[string]string{"TRAINING_JOB_TIMEOUT": "2m"},
			wantErr: "TRAINING_RESCUE_AFTER (1m0s) must be longer than TRAINING_JOB_TIMEOUT (2m0s), or running jobs would be run twice",
		},
		{
			name: "RescueAfterJustLongerThanTheJobTimeoutIsAccepted",
			vars: map[string]string{"TRAINING_JOB_TIMEOUT": "30s", "TRAINING_RESCUE_AFTER": "30.001s"},
		},
		{
			name:    "MinDurationAsLongAsTheJobTimeoutIsRefused",
			vars:    map[string]string{"TRAINING_JOB_TIMEOUT": "30s", "TRAINING_MIN_DURATION": "30s"},
			wantErr: "TRAINING_MIN_DURATION (30s) must be shorter than TRAINING_JOB_TIMEOUT (30s)",
		},
		{
			name:    "MinDurationLongerThanTheJobTimeoutIsRefused",
			vars:    map[string]string{"TRAINING_MIN_DURATION": "1m"},
			wantErr: "TRAINING_MIN_DURATION (1m0s) must be shorter than TRAINING_JOB_TIMEOUT (30s)",
		},
		{
			name: "MinDurationJustShorterThanTheJobTimeoutIsAccepted",
			vars: map[string]string{"TRAINING_JOB_TIMEOUT": "30s", "TRAINING_MIN_DURATION": "29.999s"},
		},
		{
			// The comparisons would otherwise speak of a 0s timeout nobody set.
			name:    "RefusedJobTimeoutIsNotComparedAgain",
			vars:    map[string]string{"TRAINING_JOB_TIMEOUT": "soon", "TRAINING_RESCUE_AFTER": "1m", "TRAINING_MIN_DURATION": "2s"},
			wantErr: "TRAINING_JOB_TIMEOUT must be a positive duration such as 30s",
		},
		{
			name:    "RefusedRescueAfterIsNotComparedAgain",
			vars:    map[string]string{"TRAINING_RESCUE_AFTER": "-5m"},
			wantErr: "TRAINING_RESCUE_AFTER must be a positive duration such as 1m",
		},
		{
			name:    "RefusedMinDurationIsNotComparedAgain",
			vars:    map[string]string{"TRAINING_MIN_DURATION": "-5m", "TRAINING_JOB_TIMEOUT": "1s"},
			wantErr: "TRAINING_MIN_DURATION must be a duration of 0s or more, such as 2s",
		},
		{
			name: "BothChecksAreReportedTogether",
			vars: map[string]string{"TRAINING_JOB_TIMEOUT": "2m", "TRAINING_MIN_DURATION": "3m"},
			wantErr: "TRAINING_RESCUE_AFTER (1m0s) must be longer than TRAINING_JOB_TIMEOUT (2m0s), or running jobs would be run twice\n" +
				"TRAINING_MIN_DURATION (3m0s) must be shorter than TRAINING_JOB_TIMEOUT (2m0s)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadWith(tt.vars)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()

	vars := map[string]string{}
	var want []string
	for _, tt := range settingCases {
		value := slices.Sorted(maps.Keys(tt.invalid))[0]
		vars[tt.name] = value
		want = append(want, tt.invalid[value])
	}
	_, err := config.Load(configEnv(vars), true)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, len(settingCases), "one problem per line, one per setting: %s", err)
	for i, message := range want {
		require.True(t, strings.HasPrefix(lines[i], message), "line %d is %q, want %q", i+1, lines[i], message)
	}
}

func TestSettingsAreAllReadAndTested(t *testing.T) {
	t.Parallel()

	var names []string
	for _, s := range config.Settings {
		require.NotEmpty(t, s.Meaning, s.Name)
		require.True(t, (s.Default == "") != (s.Unset == ""), "%s has either a default or says what unset means", s.Name)
		names = append(names, s.Name)
	}

	t.Run("LoadReadsEveryOne", func(t *testing.T) {
		t.Parallel()
		var read []string
		_, err := config.Load(func(name string) string {
			read = append(read, name)
			return ""
		}, true)
		require.Error(t, err, "JWT_SECRET is required")
		for _, name := range names {
			require.Contains(t, read, name)
		}
	})

	t.Run("EveryOneHasACase", func(t *testing.T) {
		t.Parallel()
		var cases []string
		for _, tt := range settingCases {
			cases = append(cases, tt.name)
		}
		require.Equal(t, names, cases)
	})

	t.Run("DefaultsAreWhatLoadReadsWhenUnset", func(t *testing.T) {
		t.Parallel()
		for _, tt := range settingCases {
			i := slices.IndexFunc(config.Settings, func(s config.Setting) bool { return s.Name == tt.name })
			require.GreaterOrEqual(t, i, 0, tt.name)
			if d := config.Settings[i].Default; d != "" {
				cfg, err := loadWith(map[string]string{tt.name: d})
				require.NoError(t, err)
				require.Equal(t, tt.unset, tt.field(cfg), "%s=%s is not what unset gives", tt.name, d)
			}
		}
	})
}

func TestDefaultLimitsAreTheLimitsOfAnEmptyEnvironment(t *testing.T) {
	t.Parallel()
	cfg := mustLoad(t, nil, false)
	require.Equal(t, cfg.Limits, config.DefaultLimits())
}

// Some checks concern only the command that loads the settings; each is reported with the
// others, before anything starts.
func TestLoadChecksOfTheCommand(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		vars map[string]string
		opt  config.Option
		// wantErr is the problem reported, alone; empty: none.
		wantErr string
	}{
		{
			name:    "ServerProfilerOnTheAPIsAddressIsRefused",
			vars:    map[string]string{"LISTEN_ADDR": "127.0.0.1:8080", "DEBUG_ADDR": "127.0.0.1:8080"},
			opt:     config.ServesAPI,
			wantErr: `DEBUG_ADDR "127.0.0.1:8080" is the address of LISTEN_ADDR "127.0.0.1:8080": give the profiler a port of its own, for example 127.0.0.1:6060`,
		},
		{
			name:    "ServerProfilerOnTheAPIsPortOfEveryInterfaceIsRefused",
			vars:    map[string]string{"DEBUG_ADDR": "127.0.0.1:8080"},
			opt:     config.ServesAPI,
			wantErr: `DEBUG_ADDR "127.0.0.1:8080" is the address of LISTEN_ADDR ":8080": give the profiler a port of its own, for example 127.0.0.1:6060`,
		},
		{
			name: "ServerProfilerOnAnotherPortIsAccepted",
			vars: map[string]string{"LISTEN_ADDR": "127.0.0.1:8080", "DEBUG_ADDR": "127.0.0.1:6060"},
			opt:  config.ServesAPI,
		},
		{
			name: "ServerProfilerOnAnotherHostsPortIsAccepted",
			vars: map[string]string{"LISTEN_ADDR": "10.0.0.1:8080", "DEBUG_ADDR": "127.0.0.1:8080"},
			opt:  config.ServesAPI,
		},
		{
			name: "ServerProfilerAndAPIOnAnyFreePortAreAccepted",
			vars: map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DEBUG_ADDR": "127.0.0.1:0"},
			opt:  config.ServesAPI,
		},
		{
			// A worker serves no API: its LISTEN_ADDR means nothing.
			name: "WorkerProfilerOnTheListenAddrIsAccepted",
			vars: map[string]string{"DEBUG_ADDR": ":8080"},
			opt:  config.WorksTrainings,
		},
		{
			name:    "WorkerWithoutTrainingWorkersIsRefusedWithTheOtherProblems",
			vars:    map[string]string{"TRAINING_WORKERS": "0", "LOG_LEVEL": "loud"},
			opt:     config.WorksTrainings,
			wantErr: "LOG_LEVEL must be debug, info, warn or error\nTRAINING_WORKERS is 0: a worker needs at least 1",
		},
		{
			name:    "WorkerWithARefusedTrainingWorkersIsToldOnce",
			vars:    map[string]string{"TRAINING_WORKERS": "-1"},
			opt:     config.WorksTrainings,
			wantErr: "TRAINING_WORKERS must be a whole number of at least 0",
		},
		{
			name: "ServerWithoutTrainingWorkersIsAccepted",
			vars: map[string]string{"TRAINING_WORKERS": "0"},
			opt:  config.ServesAPI,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"JWT_SECRET": configSecret}
			maps.Copy(env, tt.vars)
			_, err := config.Load(configEnv(env), true, tt.opt)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}
