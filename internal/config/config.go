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
	"github.com/riverqueue/river"

	"github.com/chatsphere/bots/internal/dbpool"
	"github.com/chatsphere/bots/internal/httpapi"
	"github.com/chatsphere/bots/internal/training"
	"github.com/chatsphere/bots/internal/webhook"
)

// DefaultDatabaseURL is the local development database.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/chatsphere?sslmode=disable"

// MinSecretLength is the shortest JWT_SECRET accepted: HS256 wants a key of at least 256 bits.
const MinSecretLength = 32

// MaxWorkers is the most TRAINING_WORKERS and WEBHOOK_WORKERS may be: the job queue's limit
// of workers per queue.
const MaxWorkers = river.QueueNumWorkersMax

// MaxTrainingAttempts is the most TRAINING_MAX_ATTEMPTS may be: the job queue keeps a job's
// attempts in a smallint, and silently wrote a larger value as this one.
const MaxTrainingAttempts = math.MaxInt16

// MaxCacheMB is the most CONFIG_CACHE_MB may be, 64 GiB: more than any process of the service
// is given, and far from the sizes whose bytes no longer fit in an int.
const MaxCacheMB = 64 << 10

// Config is every setting of the service.
type Config struct {
	DatabaseURL string
	Pool        *pgxpool.Config
	// ReadURL is DATABASE_READ_URL; empty: every query goes to DatabaseURL.
	ReadURL string
	// ReadPool is the pool configuration of ReadURL; nil when it is unset.
	ReadPool   *pgxpool.Config
	ListenAddr string
	// DebugAddr is where the profiler (net/http/pprof) listens; empty: nowhere.
	DebugAddr       string
	JWTSecret       []byte
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	Training        training.Config
	Limits          httpapi.Limits

	// Tokens are the rules a bearer token must follow beyond its signature.
	Tokens Tokens
	// CORSAllowedOrigins are the browser origins (scheme://host[:port]) that may call the
	// API from their pages; empty: none, and no CORS headers are sent.
	CORSAllowedOrigins []string
	// RuntimeCacheBytes bounds the memory of the runtime read path's cache; 0: off.
	RuntimeCacheBytes int
	// Webhooks tunes the deliveries of webhooks and says which endpoints they may reach.
	Webhooks webhook.Config
}

// Tokens are the rules of bearer tokens that an operator chooses.
type Tokens struct {
	// Audience is the aud a token must name; empty: tokens must have no aud claim.
	Audience string
	// MaxTTL is the longest lifetime a token may have; zero: any.
	MaxTTL time.Duration
}

// Setting is one environment variable the service reads. Load takes a setting's default from
// here, `bots help` prints these rows, and the README's configuration table is tested against
// them, so that the three cannot disagree.
type Setting struct {
	// Name is the environment variable.
	Name string
	// Default is the value used when the variable is unset or blank; empty when there is none.
	Default string
	// Unset says, for a setting without a default, what leaving it unset means, such as
	// (required).
	Unset string
	// Meaning says what the setting does, in the Markdown of the README's table.
	Meaning string
}

// Shown is the default as `bots help` prints it: the value, or what unset means.
func (s Setting) Shown() string {
	if s.Default == "" {
		return s.Unset
	}
	return s.Default
}

// Settings lists every environment variable the service reads, in the order `bots help` and
// the README show them.
var Settings = []Setting{
	{Name: "DATABASE_URL", Default: DefaultDatabaseURL, Meaning: "PostgreSQL connection string; pgx pool settings such as `pool_max_conns` may be added to it"},
	{Name: "DATABASE_READ_URL", Unset: "(off)", Meaning: "PostgreSQL connection string of a synchronous hot standby that serves lists (`GET /api/v1/bots`) and reads of the latest active configuration; set, writes commit with `synchronous_commit = remote_apply`, so set it on every `bots serve` and `bots worker` (see Operating, Read scaling)"},
	{Name: "LISTEN_ADDR", Default: ":8080", Meaning: "host:port the HTTP server listens on"},
	{Name: "DEBUG_ADDR", Unset: "(off)", Meaning: "host:port of the profiler (`/debug/pprof/`) of `bots serve` and `bots worker`, on its own listener (bound before any migration runs, and for `bots serve` another port than `LISTEN_ADDR`'s), for example `127.0.0.1:6060`; keep it off public networks"},
	{Name: "JWT_SECRET", Unset: "(required)", Meaning: fmt.Sprintf("HS256 key that signs and verifies bearer tokens; at least %d bytes", MinSecretLength)},
	{Name: "LOG_LEVEL", Default: "info", Meaning: "`debug`, `info`, `warn` or `error`"},
	{Name: "SHUTDOWN_TIMEOUT", Default: "15s", Meaning: "how long a stopping process lets in-flight requests, trainings and webhook deliveries finish; requests still running then are cancelled (their writes roll back) and jobs still running are cancelled and retried later"},
	{Name: "TRAINING_WORKERS", Default: "4", Meaning: fmt.Sprintf("training jobs worked at once by `bots serve` (unless `--no-workers`) and `bots worker` (which needs at least 1); at most %d", MaxWorkers)},
	{Name: "TRAINING_MAX_ATTEMPTS", Default: "5", Meaning: fmt.Sprintf("attempts of a training job before the version it trains (and its bot, if that version is the latest) goes to `error`, at most %d. It is written into each training job when `bots serve` queues it (a create, an update that retrains, a train, a revert): the value of the process that queued a job counts, not that of the process that works it, so give every `bots serve` the same value", MaxTrainingAttempts)},
	{Name: "TRAINING_RETRY_BACKOFF", Default: "1s", Meaning: "wait before a failed training is retried; doubles with each attempt (at most 1m)"},
	{Name: "TRAINING_JOB_TIMEOUT", Default: "30s", Meaning: "how long one training attempt may run"},
	{Name: "TRAINING_RESCUE_AFTER", Default: "1m", Meaning: "when a training left running by a crashed process runs again; longer than `TRAINING_JOB_TIMEOUT`. Webhook deliveries left running are sent again after it too: below 20 s (an attempt's longest) a slow one may be sent twice"},
	{Name: "TRAINING_MIN_DURATION", Default: "0s", Meaning: "the least time a training takes, shorter than `TRAINING_JOB_TIMEOUT`; for demonstrations and crash drills"},
	{Name: "DELETED_RETENTION", Default: "720h", Meaning: "how long a deleted bot can be restored before it is purged for good"},
	{Name: "PURGE_INTERVAL", Default: "1h", Meaning: "how often deleted bots and expired idempotency keys are purged, and versions whose last training attempt a crash cut short are put in `error`"},
	{Name: "REQUEST_TIMEOUT", Default: "10s", Meaning: "the longest a request (but a status stream) may take, counted from the end of its body; then `503` `/problems/timeout`"},
	{Name: "WRITE_RATE", Default: "10", Meaning: "writes per second a user may make on average, per server process (`0`: unlimited)"},
	{Name: "WRITE_BURST", Default: "20", Meaning: "writes a user may make at once before `WRITE_RATE` applies"},
	{Name: "STREAMS_PER_USER", Default: "5", Meaning: "status streams a user may hold open at once, per server process"},
	{Name: "INFLIGHT_PER_USER", Default: "16", Meaning: "requests (but status streams) a user may have in progress at once, per server process (`0`: unlimited)"},
	{Name: "LIST_RATE", Default: "20", Meaning: "lists and searches (`GET /api/v1/bots`) per second a user may make on average, per server process; a user's lists also run one at a time (`0`: neither limit)"},
	{Name: "LIST_BURST", Default: "40", Meaning: "lists and searches a user may make at once before `LIST_RATE` applies"},
	{Name: "JWT_AUDIENCE", Unset: "(none)", Meaning: "the `aud` a bearer token must name (as a string, or in an array); unset: a token that has an `aud` claim is refused. `bots token` names it in the tokens it prints"},
	{Name: "JWT_MAX_TTL", Unset: "(none)", Meaning: "the longest a bearer token may live, for example `24h`: `exp - iat`, or `exp` - now for a token without `iat`; unset: any"},
	{Name: "CORS_ALLOWED_ORIGINS", Unset: "(none)", Meaning: "comma-separated origins (`scheme://host[:port]`) whose browser pages may call the API, for example `https://app.example.com`; `*` for any; unset: none"},
	{Name: "CONFIG_CACHE_MB", Default: "32", Meaning: fmt.Sprintf("megabytes (MiB) of memory in which the runtime read path (`GET /api/v1/bots/{id}/config`) keeps active versions and what reads of each bot depend on, per server process; the least recently read go first (`0`: off, every read goes to the database); at most %d", MaxCacheMB)},
	{Name: "WEBHOOK_WORKERS", Default: "16", Meaning: fmt.Sprintf("webhook deliveries sent at once by `bots serve` (unless `--no-workers`) and `bots worker`; at most %d. A delivery mostly waits on its receiver", MaxWorkers)},
	{Name: "WEBHOOK_RETRY_FOR", Default: "24h", Meaning: "how long a webhook delivery that fails is retried before it is `failed`"},
	{Name: "WEBHOOK_DISABLE_AFTER", Default: "72h", Meaning: "how long every attempt to reach a webhook's endpoint may fail before the next failure disables the webhook, with the reason in its `disabled_reason`"},
	{Name: "WEBHOOK_RETRY_BACKOFF", Default: "5s", Meaning: "about the wait before a failed webhook delivery is retried; doubles with each attempt (at most 1h), varied by up to a quarter either way. No retry is later than `WEBHOOK_RETRY_FOR` after the event: when it ends, the last attempt is made, so a backoff longer than `WEBHOOK_RETRY_FOR` leaves two attempts, the first and that last"},
	{Name: "WEBHOOK_ALLOW_HTTP", Default: "false", Meaning: "`true` lets webhooks use plain `http` URLs; otherwise only `https`. For development only"},
	{Name: "WEBHOOK_ALLOW_PRIVATE", Default: "false", Meaning: "`true` lets webhooks reach addresses that are not public (loopback, private, link-local, unique-local, reserved, multicast, unspecified); otherwise they are refused at registration (a literal address) and at every delivery (the resolved one). For development only"},
}

// Option is a check of the settings that only some commands need.
type Option struct {
	check func(r *reader, c Config)
}

// ServesAPI checks the settings of a process that serves the API (`bots serve`): its
// profiler cannot listen where the API does.
var ServesAPI = Option{check: func(r *reader, c Config) {
	if c.DebugAddr != "" && r.ok("LISTEN_ADDR", "DEBUG_ADDR") && sameListener(c.ListenAddr, c.DebugAddr) {
		r.fail("DEBUG_ADDR", fmt.Errorf("DEBUG_ADDR %q is the address of LISTEN_ADDR %q: give the profiler a port of its own, for example 127.0.0.1:6060",
			c.DebugAddr, c.ListenAddr))
	}
}}

// WorksTrainings checks the settings of a process that exists to work training jobs
// (`bots worker`): it needs at least one training worker.
var WorksTrainings = Option{check: func(r *reader, c Config) {
	if r.ok("TRAINING_WORKERS") && c.Training.Workers == 0 {
		r.fail("TRAINING_WORKERS", errors.New("TRAINING_WORKERS is 0: a worker needs at least 1"))
	}
}}

// sameListener says whether two valid host:port addresses would take the same port: the
// same port (but 0, any free one) on the same host, or on every interface for either.
func sameListener(a, b string) bool {
	hostA, textA, _ := net.SplitHostPort(a)
	hostB, textB, _ := net.SplitHostPort(b)
	portA, _ := strconv.Atoi(textA)
	portB, _ := strconv.Atoi(textB)
	if portA != portB || portA == 0 {
		return false
	}
	everywhere := func(host string) bool {
		ip := net.ParseIP(host)
		return host == "" || (ip != nil && ip.IsUnspecified())
	}
	return hostA == hostB || everywhere(hostA) || everywhere(hostB)
}

// Load reads and checks the settings; needSecret is false for commands that sign nothing,
// and opts add the checks of the command that loads them. All problems are reported at once.
func Load(getenv func(string) string, needSecret bool, opts ...Option) (Config, error) {
	r := &reader{getenv: getenv}
	c := Config{
		DatabaseURL: r.get("DATABASE_URL"),
		ListenAddr:  r.get("LISTEN_ADDR"),
		DebugAddr:   r.get("DEBUG_ADDR"),
		JWTSecret:   []byte(getenv("JWT_SECRET")),
	}

	pool, err := dbpool.Config(c.DatabaseURL)
	if err != nil {
		r.fail("DATABASE_URL", fmt.Errorf("DATABASE_URL is not a valid PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable): %w", err))
	}
	c.Pool = pool
	c.ReadURL = r.get("DATABASE_READ_URL")
	if c.ReadURL != "" {
		c.ReadPool, err = dbpool.Config(c.ReadURL)
		if err != nil {
			r.fail("DATABASE_READ_URL", fmt.Errorf("DATABASE_READ_URL is not a valid PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable): %w", err))
		}
		if pool != nil {
			dbpool.ReadYourWrites(pool)
		}
	}

	r.addr("LISTEN_ADDR", c.ListenAddr, ":8080 or 127.0.0.1:8080")
	if c.DebugAddr != "" {
		r.addr("DEBUG_ADDR", c.DebugAddr, "127.0.0.1:6060")
	}

	if needSecret {
		if _, err := Secret(getenv); err != nil {
			r.fail("JWT_SECRET", err)
		}
	}

	c.LogLevel = r.logLevel()
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", false)
	c.Training = r.training()
	c.Limits = r.limits()

	tokens, err := TokenRules(getenv)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	c.Tokens = tokens
	origins, err := corsOrigins(getenv("CORS_ALLOWED_ORIGINS"))
	if err != nil {
		r.errs = append(r.errs, err)
	}
	c.CORSAllowedOrigins = origins
	c.RuntimeCacheBytes = r.wholeNumberUpTo("CONFIG_CACHE_MB", 0, MaxCacheMB) << 20
	c.Webhooks = r.webhooks()
	for _, o := range opts {
		o.check(r, c)
	}

	return c, errors.Join(r.errs...)
}

// DefaultLimits are the limits of a server whose settings are all unset: what Load gives
// without an environment. They are for servers built without Load, such as in tests.
func DefaultLimits() httpapi.Limits {
	r := &reader{getenv: func(string) string { return "" }}
	l := r.limits()
	if err := errors.Join(r.errs...); err != nil {
		panic(err) // Settings has a default that Load refuses, which its tests rule out
	}
	return l
}

// reader reads settings from the environment, or their defaults from Settings, and collects
// the problems it finds.
type reader struct {
	getenv func(string) string
	errs   []error
	// refused are the settings with a problem, whose values are not to be compared with others.
	refused []string
}

// get returns a setting's value, or its default when it is unset or blank.
func (r *reader) get(name string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return setting(name).Default
}

// setting returns the row of Settings named name.
func setting(name string) Setting {
	i := slices.IndexFunc(Settings, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		panic("config: " + name + " is not in Settings")
	}
	return Settings[i]
}

// fail records a problem with the setting name.
func (r *reader) fail(name string, err error) {
	r.errs = append(r.errs, err)
	r.refused = append(r.refused, name)
}

// ok says whether the settings all have valid values.
func (r *reader) ok(names ...string) bool {
	return !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(r.refused, n) })
}

// training reads the settings of the training jobs and checks them against each other.
func (r *reader) training() training.Config {
	t := training.Config{
		Workers:          r.wholeNumberUpTo("TRAINING_WORKERS", 0, MaxWorkers),
		MaxAttempts:      r.wholeNumberUpTo("TRAINING_MAX_ATTEMPTS", 1, MaxTrainingAttempts),
		RetryBackoff:     r.duration("TRAINING_RETRY_BACKOFF", false),
		JobTimeout:       r.duration("TRAINING_JOB_TIMEOUT", false),
		RescueAfter:      r.duration("TRAINING_RESCUE_AFTER", false),
		MinDuration:      r.duration("TRAINING_MIN_DURATION", true),
		DeletedRetention: r.duration("DELETED_RETENTION", false),
		PurgeInterval:    r.duration("PURGE_INTERVAL", false),
	}
	// A value already refused is not compared: the comparison would show a made-up value.
	if r.ok("TRAINING_RESCUE_AFTER", "TRAINING_JOB_TIMEOUT") && t.RescueAfter <= t.JobTimeout {
		r.errs = append(r.errs, fmt.Errorf("TRAINING_RESCUE_AFTER (%s) must be longer than TRAINING_JOB_TIMEOUT (%s), or running jobs would be run twice",
			t.RescueAfter, t.JobTimeout))
	}
	if r.ok("TRAINING_MIN_DURATION", "TRAINING_JOB_TIMEOUT") && t.MinDuration >= t.JobTimeout {
		r.errs = append(r.errs, fmt.Errorf("TRAINING_MIN_DURATION (%s) must be shorter than TRAINING_JOB_TIMEOUT (%s)",
			t.MinDuration, t.JobTimeout))
	}
	return t
}

// webhooks reads the settings of webhook deliveries.
func (r *reader) webhooks() webhook.Config {
	return webhook.Config{
		Workers:      r.wholeNumberUpTo("WEBHOOK_WORKERS", 0, MaxWorkers),
		RetryFor:     r.duration("WEBHOOK_RETRY_FOR", false),
		DisableAfter: r.duration("WEBHOOK_DISABLE_AFTER", false),
		RetryBackoff: r.duration("WEBHOOK_RETRY_BACKOFF", false),
		Policy: webhook.Policy{
			AllowHTTP:    r.boolean("WEBHOOK_ALLOW_HTTP"),
			AllowPrivate: r.boolean("WEBHOOK_ALLOW_PRIVATE"),
		},
	}
}

// boolean reads a true or false setting.
func (r *reader) boolean(name string) bool {
	v, err := strconv.ParseBool(r.get(name))
	if err != nil {
		r.fail(name, fmt.Errorf("%s must be true or false", name))
	}
	return v
}

// limits reads the request timeout and the per-user limits.
func (r *reader) limits() httpapi.Limits {
	return httpapi.Limits{
		RequestTimeout:  r.duration("REQUEST_TIMEOUT", false),
		WriteRate:       r.perSecond("WRITE_RATE", "writes per second"),
		WriteBurst:      r.wholeNumber("WRITE_BURST", 1),
		StreamsPerUser:  r.wholeNumber("STREAMS_PER_USER", 1),
		InflightPerUser: r.wholeNumber("INFLIGHT_PER_USER", 0),
		ListRate:        r.perSecond("LIST_RATE", "lists per second"),
		ListBurst:       r.wholeNumber("LIST_BURST", 1),
	}
}

// addr checks a host:port setting.
func (r *reader) addr(name, addr, example string) {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		r.fail(name, fmt.Errorf("%s %q must be host:port, for example %s", name, addr, example))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.fail(name, fmt.Errorf("%s %q has no valid port (0 to 65535)", name, addr))
	}
}

// wholeNumber reads an integer setting of at least least.
func (r *reader) wholeNumber(name string, least int) int {
	n, err := strconv.Atoi(r.get(name))
	if err != nil || n < least {
		r.fail(name, fmt.Errorf("%s must be a whole number of at least %d", name, least))
	}
	return n
}

// wholeNumberUpTo reads an integer setting from least to most.
func (r *reader) wholeNumberUpTo(name string, least, most int) int {
	n := r.wholeNumber(name, least)
	if r.ok(name) && n > most {
		r.fail(name, fmt.Errorf("%s must be at most %d", name, most))
	}
	return n
}

// logLevel reads LOG_LEVEL: one of the four level names, in any case.
func (r *reader) logLevel() slog.Level {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	l, ok := levels[strings.ToLower(r.get("LOG_LEVEL"))]
	if !ok {
		r.fail("LOG_LEVEL", errors.New("LOG_LEVEL must be debug, info, warn or error"))
	}
	return l
}

// perSecond reads a rate setting: a finite number of what, 0 or more.
func (r *reader) perSecond(name, what string) float64 {
	n, err := strconv.ParseFloat(r.get(name), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		r.fail(name, fmt.Errorf("%s must be a number of %s, 0 or more", name, what))
	}
	return n
}

// duration reads a duration setting; zero is allowed only where zeroOK.
func (r *reader) duration(name string, zeroOK bool) time.Duration {
	d, err := time.ParseDuration(r.get(name))
	switch {
	case zeroOK && (err != nil || d < 0):
		r.fail(name, fmt.Errorf("%s must be a duration of 0s or more, such as 2s", name))
	case !zeroOK && (err != nil || d <= 0):
		r.fail(name, fmt.Errorf("%s must be a positive duration such as %s", name, setting(name).Default))
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
