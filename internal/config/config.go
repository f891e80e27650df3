// Package config reads the service's settings from the environment and checks them all at
// start, so that a bad setting stops the process with a message that says how to fix it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/internal/dbpool"
)

// DefaultDatabaseURL is the local development database.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/chatsphere?sslmode=disable"

// MinSecretLength is the shortest JWT_SECRET accepted: HS256 wants a key of at least 256 bits.
const MinSecretLength = 32

// Config is every setting of the service.
type Config struct {
	DatabaseURL string
	Pool        *pgxpool.Config
	ListenAddr  string
	// DebugAddr is where the profiler (net/http/pprof) listens; empty: nowhere.
	DebugAddr       string
	JWTSecret       []byte
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	Training        Training
	Limits          Limits

	// Tokens are the rules a bearer token must follow beyond its signature.
	Tokens Tokens
	// CORSAllowedOrigins are the browser origins (scheme://host[:port]) that may call the
	// API from their pages; empty: none, and no CORS headers are sent.
	CORSAllowedOrigins []string
}

// Tokens are the rules of bearer tokens that an operator chooses.
type Tokens struct {
	// Audience is the aud a token must name; empty: tokens must have no aud claim.
	Audience string
	// MaxTTL is the longest lifetime a token may have; zero: any.
	MaxTTL time.Duration
}

// Limits protect the service from slow clients and heavy users. They apply per process.
type Limits struct {
	// RequestTimeout bounds every request but status streams.
	RequestTimeout time.Duration
	// WriteRate is how many writes per second a user may make on average (0: unlimited),
	// WriteBurst how many at once.
	WriteRate  float64
	WriteBurst int
	// StreamsPerUser is how many status streams a user may hold open at once.
	StreamsPerUser int
	// InflightPerUser is how many requests (status streams aside) of one user may be in
	// progress at once (0: unlimited); ListRate is how many lists and searches per second a
	// user may make on average, which also run one at a time (0: neither limit), ListBurst how
	// many at once. Together they keep one user from taking the database from the others.
	InflightPerUser int
	ListRate        float64
	ListBurst       int
}

// Training configures the training jobs.
type Training struct {
	// Workers is how many training jobs a process works at once.
	Workers      int
	MaxAttempts  int
	RetryBackoff time.Duration
	JobTimeout   time.Duration
	RescueAfter  time.Duration
	MinDuration  time.Duration
	// DeletedRetention is how long a deleted bot can be restored; PurgeInterval how often
	// the purge of older ones runs.
	DeletedRetention time.Duration
	PurgeInterval    time.Duration
}

// Setting documents one environment variable for `bots help`.
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every environment variable the service reads.
var Settings = []Setting{
	{"DATABASE_URL", DefaultDatabaseURL, "PostgreSQL connection string; pgx pool settings such as pool_max_conns may be added to it"},
	{"LISTEN_ADDR", ":8080", "host:port the HTTP server listens on"},
	{"DEBUG_ADDR", "(off)", "host:port of the profiler (/debug/pprof/), for example 127.0.0.1:6060; keep it off public networks"},
	{"JWT_SECRET", "(required)", fmt.Sprintf("HS256 key that signs and verifies bearer tokens; at least %d bytes", MinSecretLength)},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SHUTDOWN_TIMEOUT", "15s", "how long a stopping server lets in-flight requests finish"},
	{"TRAINING_WORKERS", "4", "training jobs worked at once by `bots serve` (unless --no-workers) and `bots worker`"},
	{"TRAINING_MAX_ATTEMPTS", "5", "attempts of a training job before its bot goes to error"},
	{"TRAINING_RETRY_BACKOFF", "1s", "wait before a failed training is retried; doubles with each attempt (at most 1m)"},
	{"TRAINING_JOB_TIMEOUT", "30s", "how long one training attempt may run"},
	{"TRAINING_RESCUE_AFTER", "1m", "when a training left running by a crashed process runs again; more than TRAINING_JOB_TIMEOUT"},
	{"TRAINING_MIN_DURATION", "0s", "the least time a training takes; for demonstrations and crash drills"},
	{"DELETED_RETENTION", "720h", "how long a deleted bot can be restored before it is purged for good"},
	{"PURGE_INTERVAL", "1h", "how often deleted bots and expired idempotency keys are purged"},
	{"REQUEST_TIMEOUT", "10s", "the longest a request (but a status stream) may take; then 503"},
	{"WRITE_RATE", "10", "writes per second a user may make on average, per server process (0: unlimited)"},
	{"WRITE_BURST", "20", "writes a user may make at once before WRITE_RATE applies"},
	{"STREAMS_PER_USER", "5", "status streams a user may hold open at once, per server process"},
	{"INFLIGHT_PER_USER", "16", "requests (but status streams) a user may have in progress at once, per server process (0: unlimited)"},
	{"LIST_RATE", "20", "lists and searches (GET /api/v1/bots) per second a user may make on average, per server process; a user's lists also run one at a time (0: neither limit)"},
	{"LIST_BURST", "40", "lists and searches a user may make at once before LIST_RATE applies"},

	{"JWT_AUDIENCE", "(none)", "the aud a bearer token must name; unset: tokens that name any audience are refused. `bots token` puts it in the tokens it prints"},
	{"JWT_MAX_TTL", "(none)", "the longest a bearer token may live (exp - iat), for example 24h; unset: any"},
	{"CORS_ALLOWED_ORIGINS", "(none)", "comma-separated origins whose browser pages may call the API, for example https://app.example.com; * for any"},
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
		DebugAddr:   get("DEBUG_ADDR", ""),
		JWTSecret:   []byte(getenv("JWT_SECRET")),
	}

	pool, err := dbpool.Config(c.DatabaseURL)
	if err != nil {
		errs = append(errs, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable): %w", err))
	}
	c.Pool = pool

	checkAddr(&errs, "LISTEN_ADDR", c.ListenAddr, ":8080 or 127.0.0.1:8080")
	if c.DebugAddr != "" {
		checkAddr(&errs, "DEBUG_ADDR", c.DebugAddr, "127.0.0.1:6060")
	}

	if needSecret {
		if _, err := Secret(getenv); err != nil {
			errs = append(errs, err)
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

	c.Training = Training{
		Workers:      positiveInt(&errs, get, "TRAINING_WORKERS", "4", 0),
		MaxAttempts:  positiveInt(&errs, get, "TRAINING_MAX_ATTEMPTS", "5", 1),
		RetryBackoff: duration(&errs, get, "TRAINING_RETRY_BACKOFF", "1s", false),
		JobTimeout:   duration(&errs, get, "TRAINING_JOB_TIMEOUT", "30s", false),
		RescueAfter:  duration(&errs, get, "TRAINING_RESCUE_AFTER", "1m", false),
		MinDuration:  duration(&errs, get, "TRAINING_MIN_DURATION", "0s", true),
	}
	c.Training.DeletedRetention = duration(&errs, get, "DELETED_RETENTION", "720h", false)
	c.Training.PurgeInterval = duration(&errs, get, "PURGE_INTERVAL", "1h", false)
	c.Limits = Limits{
		RequestTimeout: duration(&errs, get, "REQUEST_TIMEOUT", "10s", false),
		WriteBurst:     positiveInt(&errs, get, "WRITE_BURST", "20", 1),
		StreamsPerUser: positiveInt(&errs, get, "STREAMS_PER_USER", "5", 1),
	}
	rate, err := strconv.ParseFloat(get("WRITE_RATE", "10"), 64)
	if err != nil || rate < 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		errs = append(errs, fmt.Errorf("WRITE_RATE must be a number of writes per second, 0 or more"))
	}
	c.Limits.WriteRate = rate
	c.Limits.InflightPerUser = positiveInt(&errs, get, "INFLIGHT_PER_USER", "16", 0)
	c.Limits.ListRate = perSecond(&errs, get, "LIST_RATE", "20", "lists per second")
	c.Limits.ListBurst = positiveInt(&errs, get, "LIST_BURST", "40", 1)

	tokens, err := TokenRules(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c.Tokens = tokens
	origins, err := corsOrigins(getenv("CORS_ALLOWED_ORIGINS"))
	if err != nil {
		errs = append(errs, err)
	}
	c.CORSAllowedOrigins = origins

	if c.Training.RescueAfter <= c.Training.JobTimeout {
		errs = append(errs, fmt.Errorf("TRAINING_RESCUE_AFTER (%s) must be longer than TRAINING_JOB_TIMEOUT (%s), or running jobs would be run twice",
			c.Training.RescueAfter, c.Training.JobTimeout))
	}
	if c.Training.MinDuration >= c.Training.JobTimeout {
		errs = append(errs, fmt.Errorf("TRAINING_MIN_DURATION (%s) must be shorter than TRAINING_JOB_TIMEOUT (%s)",
			c.Training.MinDuration, c.Training.JobTimeout))
	}

	return c, errors.Join(errs...)
}

// checkAddr checks a host:port setting.
func checkAddr(errs *[]error, name, addr, example string) {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		*errs = append(*errs, fmt.Errorf("%s %q must be host:port, for example %s", name, addr, example))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		*errs = append(*errs, fmt.Errorf("%s %q has no valid port (0 to 65535)", name, addr))
	}
}

// positiveInt reads an integer setting of at least least.
func positiveInt(errs *[]error, get func(string, string) string, name, def string, least int) int {
	n, err := strconv.Atoi(get(name, def))
	if err != nil || n < least {
		*errs = append(*errs, fmt.Errorf("%s must be a whole number of at least %d", name, least))
	}
	return n
}

// perSecond reads a rate setting: a finite number of what per second, 0 or more.
func perSecond(errs *[]error, get func(string, string) string, name, def, what string) float64 {
	r, err := strconv.ParseFloat(get(name, def), 64)
	if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		*errs = append(*errs, fmt.Errorf("%s must be a number of %s, 0 or more", name, what))
	}
	return r
}

// duration reads a duration setting; zero is allowed only where zeroOK.
func duration(errs *[]error, get func(string, string) string, name, def string, zeroOK bool) time.Duration {
	d, err := time.ParseDuration(get(name, def))
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		*errs = append(*errs, fmt.Errorf("%s must be a positive duration such as %s", name, def))
	}
	return d
}

// Secret reads and checks JWT_SECRET alone, for commands that need nothing else.
func Secret(getenv func(string) string) ([]byte, error) {
	secret := []byte(getenv("JWT_SECRET"))
	switch n := len(secret); {
	case n == 0:
		return nil, fmt.Errorf("JWT_SECRET is required: set it to a random string of at least %d bytes (for example: openssl rand -hex 32)", MinSecretLength)
	case n < MinSecretLength:
		return nil, fmt.Errorf("JWT_SECRET is %d bytes long; it must be at least %d", n, MinSecretLength)
	}
	return secret, nil
}

// TokenRules reads and checks JWT_AUDIENCE and JWT_MAX_TTL alone, for `bots token`, which
// must mint tokens the servers accept.
func TokenRules(getenv func(string) string) (Tokens, error) {
	var errs []error
	t := Tokens{Audience: strings.TrimSpace(getenv("JWT_AUDIENCE"))}
	if strings.ContainsFunc(t.Audience, unicode.IsControl) {
		errs = append(errs, errors.New("JWT_AUDIENCE must be printable text, such as chatsphere-bots"))
	}
	if v := strings.TrimSpace(getenv("JWT_MAX_TTL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("JWT_MAX_TTL must be a positive duration such as 24h, or unset for no limit"))
		}
		t.MaxTTL = d
	}
	return t, errors.Join(errs...)
}

// corsOrigins parses CORS_ALLOWED_ORIGINS: origins as browsers send them in the Origin
// header (scheme://host[:port], lower case, no default port, no path), or * alone for any.
func corsOrigins(value string) ([]string, error) {
	var origins, bad []string
	for _, o := range strings.Split(value, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			origins = append(origins, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
			u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" ||
			strings.Contains(u.Host, "*") {
			bad = append(bad, strconv.Quote(o))
			continue
		}
		// Browsers send the origin in lower case and without the default port.
		host := strings.ToLower(u.Host)
		if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
			host = strings.TrimSuffix(host, ":"+port)
		}
		origins = append(origins, u.Scheme+"://"+host)
	}
	if len(bad) > 0 {
		what := "is not an origin"
		if len(bad) > 1 {
			what = "are not origins"
		}
		return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %s %s; write each origin as scheme://host[:port] without a path, such as https://app.example.com, separate them with commas, or give * alone for any origin",
			strings.Join(bad, ", "), what)
	}
	if slices.Contains(origins, "*") && len(origins) > 1 {
		return nil, errors.New("CORS_ALLOWED_ORIGINS lists * with other origins: * already allows every origin; give either * or a list")
	}
	return origins, nil
}
