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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/httpapi"
	"github.com/chatsphere/bots/internal/migrate"
	"github.com/chatsphere/bots/internal/statusfeed"
	"github.com/chatsphere/bots/internal/training"
)

// Run runs the bots command with its arguments (without the program name). It returns when
// the command is done or, for serve, when ctx is cancelled and the server has shut down.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "worker":
		return worker(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "token":
		return token(rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: bots <command>

commands:
  serve [--no-workers]          apply pending migrations, then serve the API and work
                                training jobs (--no-workers: serve only)
  worker                        apply pending migrations, then work training jobs only
  migrate                       apply pending migrations and exit
  token --user <uuid> [--ttl 1h]  print a bearer token signed with JWT_SECRET

environment:
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range config.Settings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Default, s.Meaning)
	}
	_ = tw.Flush()
}

// newFlags returns a command's flag set, reporting its errors on stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	noWorkers := fs.Bool("no-workers", false, "serve the API only; training jobs are worked by `bots worker`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv, true)
	if err != nil {
		return err
	}
	if *noWorkers {
		cfg.Training.Workers = 0
	}
	logger, closeLogs := newLogger(stdout, cfg.LogLevel)
	defer closeLogs()
	rt, err := start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer rt.pool.Close()

	feed := statusfeed.New(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, cfg.Pool.ConnConfig.Copy())
	}, logger)
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		_ = feed.Run(feedCtx)
	}()
	defer func() { stopFeed(); <-feedDone }()

	stopping := make(chan struct{})
	handler, err := httpapi.NewServer(httpapi.Deps{
		Bots: rt.svc, Pool: rt.pool, Verifier: auth.NewVerifier(cfg.JWTSecret), Logger: logger,
		Feed: feed, Stopping: stopping, Limits: httpapi.Limits(cfg.Limits),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(stopping) })
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	ln = httpapi.ProblemListener(ln, srv.MaxHeaderBytes)
	if cfg.DebugAddr != "" {
		stopProfiler, err := serveProfiler(cfg.DebugAddr, logger)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}
	if err := rt.jobs.Start(ctx, rt.svc); err != nil {
		return fmt.Errorf("start training workers: %w", err)
	}
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.Int("training_workers", cfg.Training.Workers))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := rt.jobs.Stop(shutdownCtx); err != nil {
		return fmt.Errorf("stop training workers: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// serveProfiler serves net/http/pprof on its own listener, so that the profiler is never
// reachable through the API's address. It returns a function that stops it.
func serveProfiler(addr string, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on DEBUG_ADDR %s: %w", addr, err)
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
	return func() { _ = srv.Close() }, nil
}

// worker works training jobs until ctx is cancelled, without serving the API.
func worker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := newFlags("worker", stderr).Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv, false)
	if err != nil {
		return err
	}
	if cfg.Training.Workers == 0 {
		return errors.New("TRAINING_WORKERS is 0: a worker needs at least 1")
	}
	logger, closeLogs := newLogger(stdout, cfg.LogLevel)
	defer closeLogs()
	rt, err := start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer rt.pool.Close()
	if err := rt.jobs.Start(ctx, rt.svc); err != nil {
		return fmt.Errorf("start training workers: %w", err)
	}
	logger.Info("working", slog.Int("training_workers", cfg.Training.Workers))
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := rt.jobs.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop training workers: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// runtime is what serve and worker share: the pool, the job client and the bot service.
type runtime struct {
	pool *pgxpool.Pool
	jobs *training.Client
	svc  *bots.Service
}

// start connects, migrates and builds the bot service with its training job client.
func start(ctx context.Context, cfg config.Config, logger *slog.Logger) (runtime, error) {
	pool, err := connect(ctx, cfg)
	if err != nil {
		return runtime{}, err
	}
	if err := applyMigrations(ctx, pool, logger); err != nil {
		pool.Close()
		return runtime{}, err
	}
	jobs, err := training.NewClient(pool, training.CatalogTrainer{}, training.Config(cfg.Training), logger)
	if err != nil {
		pool.Close()
		return runtime{}, err
	}
	return runtime{pool: pool, jobs: jobs, svc: bots.NewService(pool, jobs)}, nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := newFlags("migrate", stderr).Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv, false)
	if err != nil {
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

// connect opens the pool and checks that the database answers, explaining the usual reasons
// it does not.
func connect(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg.Pool)
	if err != nil {
		return nil, fmt.Errorf("open the database pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		where := fmt.Sprintf("%s:%d/%s", cfg.Pool.ConnConfig.Host, cfg.Pool.ConnConfig.Port, cfg.Pool.ConnConfig.Database)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" {
			return nil, fmt.Errorf("database %q does not exist at %s: create it (createdb -h %s -U postgres %s) or run `go tool task run`",
				cfg.Pool.ConnConfig.Database, where, cfg.Pool.ConnConfig.Host, cfg.Pool.ConnConfig.Database)
		}
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s (%w); start it, for example with `pg_ctlcluster --skip-systemctl-redirect 15 main start`, or set DATABASE_URL", where, err)
	}
	return pool, nil
}

// applyMigrations runs the migrations on one connection of the pool, under the migration
// lock, so that replicas starting together apply each migration once.
func applyMigrations(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	applied, err := migrate.Up(ctx, conn.Conn())
	if err != nil {
		return err
	}
	logger.Info("migrations applied", slog.Any("applied", applied))
	return nil
}

func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	user := fs.String("user", "", "the user's UUID (required)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, err := uuid.Parse(strings.TrimSpace(*user))
	if err != nil || len(strings.TrimSpace(*user)) != 36 {
		return errors.New("token: --user must be a UUID such as 3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a")
	}
	if *ttl <= 0 {
		return errors.New("token: --ttl must be positive, for example 1h")
	}
	// A token needs the secret and nothing else: other settings may be for another machine.
	secret, err := config.Secret(getenv)
	if err != nil {
		return err
	}
	tok, err := auth.Issue(secret, id, *ttl, time.Now())
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
