// Package app is the bots command: it parses the command line, loads the configuration and
// runs the server, the migrations or the token printer.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/cli"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/dbpool"
	"github.com/chatsphere/bots/internal/httpapi"
	"github.com/chatsphere/bots/internal/migrate"
	"github.com/chatsphere/bots/internal/statusfeed"
	"github.com/chatsphere/bots/internal/tracing"
	"github.com/chatsphere/bots/internal/training"
	"github.com/chatsphere/bots/internal/webhook"
)

// Run runs the bots command with its arguments (without the program name). It returns when
// the command is done or, for serve, when ctx is cancelled and the server has shut down.
// stdin is read by the client commands that ask for a confirmation, when it is a terminal.
// ExitCode says with which status the program ends for the error Run returned.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return &cli.UsageError{Err: errors.New("no command given")}
	}
	if cli.Is(args[0]) {
		env := cli.Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr, Terminal: isTerminal(stdin)}
		return cli.Run(ctx, env, args)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout)
	case "worker":
		return worker(ctx, rest, getenv, stdout)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout)
	case "token":
		return token(rest, getenv, stdout)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	default:
		usage(stderr)
		return &cli.UsageError{Err: fmt.Errorf("unknown command %q", cmd)}
	}
}

// ExitCode is the exit status of the program for what Run returned: 0 done, 2 a command line
// that cannot run as given, 1 anything else.
func ExitCode(err error) int {
	return cli.ExitCode(err)
}

// isTerminal says whether r is a terminal, where a person can answer a question.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: bots <command>

commands:
  serve [--no-workers]          apply pending migrations, then serve the API, work
                                training jobs and send webhooks (--no-workers: serve only)
  worker                        apply pending migrations, then work training jobs and
                                send webhooks only
  migrate                       apply pending migrations and exit
  token --user <uuid> [--ttl 1h]
                                print a bearer token signed with JWT_SECRET, for
                                JWT_AUDIENCE when it is set

client commands, which call a running service:
`)
	cli.Usage(w)
	fmt.Fprint(w, `
bots <command> -h prints the command's flags.

environment of serve, worker, migrate and token:
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range config.Settings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Shown(), s.Meaning)
	}
	_ = tw.Flush()
}

// synopses are the commands' usage lines, shown with their flags when a command line is wrong
// or -h is given.
var synopses = map[string]string{
	"serve":   "bots serve [--no-workers]",
	"worker":  "bots worker",
	"migrate": "bots migrate",
	"token":   "bots token --user <uuid> [--ttl 1h]",
}

// newFlags returns a command's flag set. The flag package's own messages are silenced:
// parseFlags reports a wrong command line once, as the command's error, with its usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments. With -h or --help it prints the command's usage on
// stdout and returns done; a wrong command line is an error that carries the usage.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (done bool, err error) {
	err = fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandUsage(fs))
		return true, nil
	case err != nil:
		return true, &cli.UsageError{Err: fmt.Errorf("%s: %w\n%s", fs.Name(), err, strings.TrimRight(commandUsage(fs), "\n"))}
	case fs.NArg() > 0:
		return true, &cli.UsageError{Err: fmt.Errorf("%s: unexpected argument %q\n%s", fs.Name(), fs.Arg(0), strings.TrimRight(commandUsage(fs), "\n"))}
	}
	return false, nil
}

// commandConfig parses a command's arguments into fs, as parseFlags does, and loads the
// settings the command runs with (needSecret and opts as for config.Load). done means the
// command stops there and returns err: after its usage (nil), a wrong command line or wrong
// settings.
func commandConfig(fs *flag.FlagSet, args []string, getenv func(string) string, stdout io.Writer, needSecret bool, opts ...config.Option) (_ config.Config, done bool, _ error) {
	if done, err := parseFlags(fs, args, stdout); done {
		return config.Config{}, true, err
	}
	cfg, err := config.Load(getenv, needSecret, opts...)
	return cfg, err != nil, err
}

// commandUsage is a command's usage line followed by one line per flag.
func commandUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n", synopses[fs.Name()])
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " <" + arg + ">"
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, arg, usage)
	})
	_ = tw.Flush()
	return b.String()
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("serve")
	noWorkers := fs.Bool("no-workers", false, "serve the API only; training jobs and webhooks are left to bots worker processes")
	cfg, done, err := commandConfig(fs, args, getenv, stdout, true, config.ServesAPI)
	if done {
		return err
	}
	if *noWorkers {
		cfg.Training.Workers = 0
		cfg.Webhooks.Workers = 0
	}
	// Bind first: a taken address is reported before the database is touched.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()
	rt, finish, err := startProfiled(ctx, cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer finish()
	logger := rt.logger

	feed := statusfeed.New(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, cfg.Pool.ConnConfig.Copy())
	}, logger, rt.svc)
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		_ = feed.Run(feedCtx)
	}()
	defer func() { stopFeed(); <-feedDone }()

	stopping := make(chan struct{})
	handler, err := httpapi.NewServer(httpapi.Deps{
		Bots: rt.svc, Webhooks: webhook.NewService(rt.pool, cfg.Webhooks.Policy), Verifier: verifier(cfg), Logger: logger,
		Feed: feed, Stopping: stopping, Limits: cfg.Limits,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins, Tracing: rt.tracing,
		Collectors: []prometheus.Collector{dbpool.NewCollector(rt.pool), bots.NewStatusCollector(rt.svc, logger),
			bots.NewRuntimeCacheCollector(rt.svc), bots.NewStandbyReadsCollector(rt.svc)},
	})
	if err != nil {
		return err
	}
	// The requests run under a context of their own, which a stop that runs out of
	// SHUTDOWN_TIMEOUT cancels: their transactions roll back and they end. Its cause tells
	// them from requests their clients cancelled.
	requestsCtx, cutRequests := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cutRequests(errStopping)
	running := &runningRequests{next: handler}
	srv := &http.Server{
		Handler:           running,
		BaseContext:       func(net.Listener) context.Context { return requestsCtx },
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout(cfg.Limits.RequestTimeout),
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(stopping) })
	ln = httpapi.ProblemListener(ln, srv.MaxHeaderBytes)
	if err := rt.startJobs(ctx); err != nil {
		return err
	}
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.Int("training_workers", cfg.Training.Workers),
		slog.Int("webhook_workers", cfg.Webhooks.Workers))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", slog.String("timeout", cfg.ShutdownTimeout.String()))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// SHUTDOWN_TIMEOUT bounds the stop: the requests still running are cancelled (their
		// transactions roll back, so nothing half-done is acknowledged) and their connections
		// closed. A stop that had to cut requests is still a normal stop.
		logger.Warn("the shutdown timeout ran out; cancelling the requests still running",
			slog.Int64("requests", running.n.Load()))
		cutRequests(errStopping)
		_ = srv.Close()
	}
	return rt.stop(shutdownCtx) // the jobs stop even when requests outlived the timeout
}

// errStopping is the cause of the cancellation of the requests a stop cut.
var errStopping = errors.New("the server is stopping")

// runningRequests counts the requests its handler is serving, so that a stop can say how
// many it cut.
type runningRequests struct {
	n    atomic.Int64
	next http.Handler
}

func (h *runningRequests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.n.Add(1)
	defer h.n.Add(-1)
	h.next.ServeHTTP(w, r)
}

// readTimeout bounds the reading of a request, headers and body.
const readTimeout = 30 * time.Second

// writeTimeoutMargin is the time left, in the worst case, to write an answer.
const writeTimeoutMargin = 5 * time.Second

// writeTimeout is the server's WriteTimeout for requests that may run requestTimeout once
// their body has been read. Go's server counts it from the end of the request's headers, so
// it covers the reading of the body (up to readTimeout), the request and the answer: it is
// that long, and at least 30 s, so that an answer (a 503 at the latest) is always written
// before the connection is cut. Status streams lift the deadline for themselves.
func writeTimeout(requestTimeout time.Duration) time.Duration {
	return max(30*time.Second, readTimeout+requestTimeout+writeTimeoutMargin)
}

// verifier checks bearer tokens with the secret and the token rules of cfg.
func verifier(cfg config.Config) *auth.Verifier {
	var opts []auth.Option
	if cfg.Tokens.Audience != "" {
		opts = append(opts, auth.WithAudience(cfg.Tokens.Audience))
	}
	if cfg.Tokens.MaxTTL > 0 {
		opts = append(opts, auth.WithMaxTTL(cfg.Tokens.MaxTTL))
	}
	return auth.NewVerifier(cfg.JWTSecret, opts...)
}

// listenProfiler binds DEBUG_ADDR, before the database is touched, so that a taken address
// is reported before any migration runs. It returns nil when addr is empty: no profiler.
func listenProfiler(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on DEBUG_ADDR %s: %w", addr, err)
	}
	return ln, nil
}

// startProfiled binds DEBUG_ADDR (before the database is touched), starts the process's
// services and serves the profiler; done stops all three, in the reverse order.
func startProfiled(ctx context.Context, cfg config.Config, getenv func(string) string, stdout io.Writer) (rt *services, done func(), err error) {
	debugLn, err := listenProfiler(cfg.DebugAddr)
	if err != nil {
		return nil, nil, err
	}
	s, err := start(ctx, cfg, getenv, stdout)
	if err != nil {
		closeListener(debugLn)
		return nil, nil, err
	}
	rt = &s
	stopProfiler := serveProfiler(debugLn, rt.logger)
	return rt, func() {
		stopProfiler()
		rt.close()
		closeListener(debugLn)
	}, nil
}

// closeListener closes ln unless it is nil.
func closeListener(ln net.Listener) {
	if ln != nil {
		_ = ln.Close()
	}
}

// serveProfiler serves net/http/pprof on ln, its own listener, so that the profiler is never
// reachable through the API's address; a nil ln serves nothing. It returns a function that
// stops it.
func serveProfiler(ln net.Listener, logger *slog.Logger) func() {
	if ln == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("profiler listening", slog.String("addr", ln.Addr().String()))
	return func() { _ = srv.Close() }
}

// worker works training jobs until ctx is cancelled, without serving the API; with
// DEBUG_ADDR it serves the profiler.
func worker(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, done, err := commandConfig(newFlags("worker"), args, getenv, stdout, false, config.WorksTrainings)
	if done {
		return err
	}
	rt, finish, err := startProfiled(ctx, cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer finish()
	logger := rt.logger
	if err := rt.startJobs(ctx); err != nil {
		return err
	}
	logger.Info("working", slog.Int("training_workers", cfg.Training.Workers))
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return rt.stop(stopCtx)
}

// services are what serve and worker share: the logger, the tracing, the pool, the job client
// and the bot service.
type services struct {
	logger    *slog.Logger
	closeLogs func()
	tracing   *tracing.Tracing // nil: tracing is off
	pool      *pgxpool.Pool
	reads     *pgxpool.Pool // nil: DATABASE_READ_URL is unset
	jobs      *training.Client
	svc       *bots.Service
	// cancelJobs cancels the context the job client was started with: River's hard stop,
	// which cancels the jobs still running. Nil until startJobs.
	cancelJobs context.CancelFunc
}

// start makes the logger on stdout, starts tracing if the OTEL_* variables of getenv ask for
// it, connects, migrates and builds the bot service with its training job client. On success
// the caller owes a close.
func start(ctx context.Context, cfg config.Config, getenv func(string) string, stdout io.Writer) (services, error) {
	logger, closeLogs := newLogger(stdout, cfg.LogLevel)
	rt := services{logger: logger, closeLogs: closeLogs}
	var err error
	if rt.tracing, err = tracing.New(ctx, getenv); err != nil {
		closeLogs()
		return services{}, err
	}
	cfg.Pool.ConnConfig.Tracer = rt.tracing.QueryTracer()
	if rt.pool, err = connect(ctx, cfg); err != nil {
		rt.close()
		return services{}, err
	}
	if err := applyMigrations(ctx, rt.pool, logger); err != nil {
		rt.close()
		return services{}, err
	}
	deliveries := webhook.NewWorker(rt.pool, cfg.Webhooks, logger)
	if rt.jobs, err = training.NewClient(rt.pool, training.CatalogTrainer{}, cfg.Training, logger,
		training.WithMiddleware(rt.tracing.JobMiddleware()...),
		training.AlsoWorks[webhook.Args](webhook.QueueName, cfg.Webhooks.Workers, deliveries)); err != nil {
		rt.close()
		return services{}, err
	}
	opts := []bots.Option{bots.RuntimeCacheBytes(cfg.RuntimeCacheBytes)}
	if cfg.ReadPool != nil {
		cfg.ReadPool.ConnConfig.Tracer = rt.tracing.QueryTracer()
		if rt.reads, err = connectReads(ctx, cfg.ReadPool, rt.pool, logger); err != nil {
			rt.close()
			return services{}, err
		}
		opts = append(opts, bots.ReadPool(rt.reads))
	}
	rt.svc = bots.NewService(rt.pool, rt.jobs, opts...)
	return rt, nil
}

// hardStopWait is how long a stop that ran out of time waits, after cancelling the jobs still
// running, for them to record how they ended.
const hardStopWait = 5 * time.Second

// startJobs starts working jobs (trainings and webhook deliveries). The job client runs under
// a context of its own, which the end of ctx does not cancel: River takes a cancelled start
// context for a hard stop that cancels the running jobs, and stop is to let them finish first.
func (rt *services) startJobs(ctx context.Context) error {
	jobsCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rt.cancelJobs = cancel
	if err := rt.jobs.Start(jobsCtx, rt.svc); err != nil {
		return fmt.Errorf("start training workers: %w", err)
	}
	return nil
}

// stop stops fetching jobs and waits, until ctx ends, for the running ones to finish: a
// training in progress completes, a delivery being sent is answered and recorded. Jobs still
// running when ctx ends are cancelled (a training is retried later, a delivery's attempt is
// made again without counting against its endpoint), and stop waits up to hardStopWait more
// for them to record it.
func (rt *services) stop(ctx context.Context) error {
	err := rt.jobs.Stop(ctx)
	if err != nil && ctx.Err() != nil && rt.cancelJobs != nil {
		rt.logger.Warn("the shutdown timeout ran out; cancelling the jobs still running")
		rt.cancelJobs()
		waitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopWait)
		defer cancel()
		err = rt.jobs.Stop(waitCtx) // a stop that had to cancel jobs is still a normal stop
	}
	if err != nil {
		return fmt.Errorf("stop training workers: %w", err)
	}
	rt.logger.Info("stopped")
	return nil
}

// close cancels the jobs still running, closes the pool, sends the spans still buffered, then
// flushes the logs.
func (rt *services) close() {
	if rt.cancelJobs != nil {
		rt.cancelJobs()
	}
	if rt.reads != nil {
		rt.reads.Close()
	}
	if rt.pool != nil {
		rt.pool.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rt.tracing.Shutdown(ctx); err != nil {
		rt.logger.Warn("send the last spans", slog.String("error", err.Error()))
	}
	rt.closeLogs()
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, done, err := commandConfig(newFlags("migrate"), args, getenv, stdout, false)
	if done {
		return err
	}
	pool, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	logger, closeLogs := newLogger(stdout, cfg.LogLevel)
	defer closeLogs()
	return applyMigrations(ctx, pool, logger)
}

// connect opens the pool and checks that the database answers. When it does not, it tells a
// server that cannot be reached from one that refuses the login or lacks the database, since
// each has its own fix.
func connect(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg.Pool)
	if err != nil {
		return nil, fmt.Errorf("open the database pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, explainConnectError(cfg.Pool.ConnConfig, err)
	}
	return pool, nil
}

// connectReads opens the pool of DATABASE_READ_URL and checks that reads there see every write
// the service acknowledged: a standby must be one the primary's commits wait for. A primary
// that names no synchronous standby stops the process, since its standbys apply writes whenever
// they get to them. A read target that does not answer yet is no reason to stop: its reads go
// to the primary until it does.
func connectReads(ctx context.Context, cfg *pgxpool.Config, primary *pgxpool.Pool, logger *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open the read pool: %w", err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	var standby bool
	if err := pool.QueryRow(checkCtx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil {
		logger.Warn("DATABASE_READ_URL does not answer; its reads go to DATABASE_URL until it does",
			slog.String("at", where), slog.String("error", err.Error()))
		return pool, nil
	}
	var names string
	if err := primary.QueryRow(checkCtx, "SELECT current_setting('synchronous_standby_names')").Scan(&names); err != nil {
		pool.Close()
		return nil, fmt.Errorf("read synchronous_standby_names of the primary: %w", err)
	}
	if standby && strings.TrimSpace(names) == "" {
		pool.Close()
		return nil, fmt.Errorf("DATABASE_READ_URL (%s) is a standby, but the primary of DATABASE_URL names no synchronous standby (synchronous_standby_names is empty), so reads there could miss a client's own writes: name the standby in synchronous_standby_names on the primary, or unset DATABASE_READ_URL", where)
	}
	logger.Info("reads of lists and latest configurations go to DATABASE_READ_URL", slog.String("at", where),
		slog.Bool("standby", standby), slog.String("synchronous_standby_names", names))
	return pool, nil
}

// explainConnectError says why PostgreSQL could not be used and what to do about it. An error
// PostgreSQL sent (a PgError) means the server runs and answered: starting it is no advice then.
func explainConnectError(c *pgx.ConnConfig, err error) error {
	where := fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.Database)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("cannot reach PostgreSQL at %s (%w); start it, for example with `pg_ctlcluster --skip-systemctl-redirect 15 main start`, or set DATABASE_URL", where, err)
	}
	switch {
	case pgErr.Code == "3D000": // invalid_catalog_name
		return fmt.Errorf("database %q does not exist at %s: create it (createdb -h %s -U postgres %s) or run `go tool task run`",
			c.Database, where, c.Host, c.Database)
	case pgErr.Code == "28P01": // invalid_password
		return fmt.Errorf("PostgreSQL at %s refused the password of user %q (%s): check the password in DATABASE_URL", where, c.User, pgErr.Message)
	case strings.HasPrefix(pgErr.Code, "28"): // invalid_authorization_specification: unknown role, pg_hba.conf
		return fmt.Errorf("PostgreSQL at %s refused to log in user %q (%s): check the user in DATABASE_URL, create the role (createuser -h %s -U postgres %s) or allow it in pg_hba.conf",
			where, c.User, pgErr.Message, c.Host, c.User)
	default:
		return fmt.Errorf("PostgreSQL at %s refused the connection: %w", where, err)
	}
}

// applyMigrations runs the migrations on one connection of the pool, under the migration
// lock, so that replicas starting together apply each migration once.
func applyMigrations(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	applied, err := migrate.Up(ctx, conn.Conn(), migrate.WhenWaiting(func() {
		logger.Info("waiting for the migrations another process is applying")
	}))
	if err != nil {
		return err
	}
	logger.Info("migrations applied", slog.Any("applied", applied))
	return nil
}

func token(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("token")
	user := fs.String("user", "", "the user's `uuid` (required)")
	ttlText := fs.String("ttl", "1h", "how long the token is valid, a `duration` such as 30m or 24h (default 1h)")
	if done, err := parseFlags(fs, args, stdout); done {
		return err
	}
	// The servers take neither the nil UUID for a user nor a token that has expired when it
	// is printed (a JWT's times are whole seconds).
	id, err := uuid.Parse(strings.TrimSpace(*user))
	switch {
	case err != nil || len(strings.TrimSpace(*user)) != 36:
		return &cli.UsageError{Err: errors.New("token: --user must be a UUID such as 3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a")}
	case id == uuid.Nil:
		return &cli.UsageError{Err: errors.New("token: --user is the nil UUID, which names no user; give a user's UUID such as 3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a")}
	}
	ttl, err := time.ParseDuration(strings.TrimSpace(*ttlText))
	switch {
	case err != nil:
		return &cli.UsageError{Err: fmt.Errorf("token: --ttl %q is not a duration; give one, for example 24h or 30m", *ttlText)}
	case ttl <= 0:
		return &cli.UsageError{Err: errors.New("token: --ttl must be positive, for example 24h")}
	case ttl < time.Second:
		return &cli.UsageError{Err: fmt.Errorf("token: --ttl %s is under a second, so the token would expire before it is used; give 1s or more, for example 24h", ttl)}
	}
	// A token needs the secret and the token rules and nothing else: other settings may be
	// for another machine.
	secret, err := config.Secret(getenv)
	if err != nil {
		return err
	}
	rules, err := config.TokenRules(getenv)
	if err != nil {
		return err
	}
	if rules.MaxTTL > 0 && ttl > rules.MaxTTL {
		return fmt.Errorf("token: --ttl %s is longer than JWT_MAX_TTL (%s), so the servers would refuse the token; ask for %s or less", ttl, rules.MaxTTL, rules.MaxTTL)
	}
	var audience []string
	if rules.Audience != "" {
		audience = append(audience, rules.Audience)
	}
	tok, err := auth.Issue(secret, id, ttl, time.Now(), audience...)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
