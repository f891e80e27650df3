// Package config reads the service's settings from the environment and checks them all at
// start, so that a bad setting stops the process with a message that says how to fix it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultDatabaseURL is the local development database.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/chatsphere?sslmode=disable"

// MinSecretLength is the shortest JWT_SECRET accepted: HS256 wants a key of at least 256 bits.
const MinSecretLength = 32

// Config is every setting of the service.
type Config struct {
	DatabaseURL     string
	Pool            *pgxpool.Config
	ListenAddr      string
	JWTSecret       []byte
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
}

// Setting documents one environment variable for `bots help`.
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every environment variable the service reads.
var Settings = []Setting{
	{"DATABASE_URL", DefaultDatabaseURL, "PostgreSQL connection string; pgx pool settings such as pool_max_conns may be added to it"},
	{"LISTEN_ADDR", ":8080", "host:port the HTTP server listens on"},
	{"JWT_SECRET", "(required)", fmt.Sprintf("HS256 key that signs and verifies bearer tokens; at least %d bytes", MinSecretLength)},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SHUTDOWN_TIMEOUT", "15s", "how long a stopping server lets in-flight requests finish"},
}

// Load reads and checks the settings; needSecret is false for commands that sign nothing.
// All problems are reported at once.
func Load(getenv func(string) string, needSecret bool) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	c := Config{
		DatabaseURL: get("DATABASE_URL", DefaultDatabaseURL),
		ListenAddr:  get("LISTEN_ADDR", ":8080"),
		JWTSecret:   []byte(getenv("JWT_SECRET")),
	}

	pool, err := pgxpool.ParseConfig(c.DatabaseURL)
	if err != nil {
		errs = append(errs, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable): %w", err))
	}
	c.Pool = pool

	if _, port, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR %q must be host:port, for example :8080 or 127.0.0.1:8080", c.ListenAddr))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR %q has no valid port (0 to 65535)", c.ListenAddr))
	}

	if needSecret {
		switch n := len(c.JWTSecret); {
		case n == 0:
			errs = append(errs, fmt.Errorf("JWT_SECRET is required: set it to a random string of at least %d bytes (for example: openssl rand -hex 32)", MinSecretLength))
		case n < MinSecretLength:
			errs = append(errs, fmt.Errorf("JWT_SECRET is %d bytes long; it must be at least %d", n, MinSecretLength))
		}
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error"))
	}

	timeout, err := time.ParseDuration(get("SHUTDOWN_TIMEOUT", "15s"))
	if err != nil || timeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration such as 15s"))
	}
	c.ShutdownTimeout = timeout

	return c, errors.Join(errs...)
}
