// Package bench is the load benchmark of the service: it seeds a realistic dataset, starts
// `bots serve`, drives it over loopback scenario by scenario at a fixed concurrency, and in
// the same run measures the ceiling: the same database work through a pgx pool of the same
// size, with no HTTP. It prints one table and writes the same as JSON.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/migrate"
)

// Options are the command line of the benchmark.
type Options struct {
	Users, Bots int
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Scenarios   []string
	DatabaseURL string
	JSON        string
	PoolSize    int
}

const secret = "benchmark-secret-benchmark-secret-0123"

// allScenarios are the scenarios in the order they run.
var allScenarios = []string{"get", "list", "create", "update", "duplicate", "mixed"}

// Run parses args and runs the benchmark.
func Run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o Options
	var scenarios string
	fs.IntVar(&o.Users, "users", 10_000, "users in the dataset")
	fs.IntVar(&o.Bots, "bots", 1_000_000, "bots in the dataset")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each scenario runs")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "how long each scenario runs, unmeasured, before it is measured")
	fs.IntVar(&o.Concurrency, "concurrency", 64, "requests in flight at once")
	fs.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "scenarios to run")
	fs.StringVar(&o.DatabaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/chatsphere_bench?sslmode=disable", "the benchmark's own database (created if missing)")
	fs.StringVar(&o.JSON, "json", "bench-results.json", "where to write the results as JSON")
	fs.IntVar(&o.PoolSize, "pool", 0, "database pool size of the server and the ceiling (0: pgx's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Scenarios = strings.Split(scenarios, ",")
	for _, s := range o.Scenarios {
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(allScenarios, ", "))
		}
	}
	if o.PoolSize == 0 {
		o.PoolSize = max(4, runtime.NumCPU()) // pgxpool's default, as the server uses
	}
	return run(ctx, o, out)
}

func run(ctx context.Context, o Options, out io.Writer) error {
	dbURL, err := withPoolSize(o.DatabaseURL, o.PoolSize)
	if err != nil {
		return err
	}
	if err := createDatabase(ctx, dbURL); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	_, err = migrate.Up(ctx, conn.Conn())
	conn.Release()
	if err != nil {
		return err
	}
	if err := seed(ctx, pool, o.Users, o.Bots, out); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	data, err := loadSample(ctx, pool)
	if err != nil {
		return err
	}

	srv, err := startServer(ctx, dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(out, "server %s (pid %d), pool %d, concurrency %d, %s per scenario, %d CPUs\n",
		srv.base, srv.cmd.Process.Pid, o.PoolSize, o.Concurrency, o.Duration, runtime.NumCPU())

	ceiling, err := newCeiling(ctx, dbURL)
	if err != nil {
		return err
	}
	defer ceiling.close()

	var results []Result
	for _, name := range o.Scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		viaHTTP := func(ctx context.Context, w *worker) error { return httpScenario(ctx, name, srv.base, data, w) }
		direct := func(ctx context.Context, w *worker) error { return ceiling.scenario(ctx, name, data, w) }
		// Warm up caches, connections and tokens, then measure.
		warm := o
		warm.Duration = o.Warmup
		drive(ctx, warm, viaHTTP)
		cpuBefore := srv.cpu()
		svc := drive(ctx, o, viaHTTP)
		svc.CPUPerRequest = time.Duration(float64(srv.cpu()-cpuBefore) / float64(max(svc.Requests, 1)))
		drive(ctx, warm, direct)
		ceil := drive(ctx, o, direct)
		results = append(results, Result{Scenario: name, Service: svc, Ceiling: ceil, Ratio: svc.RPS / max(ceil.RPS, 1)})
		fmt.Fprintf(out, "  %-9s done: %.0f req/s (ceiling %.0f)\n", name, svc.RPS, ceil.RPS)
	}
	report := Report{
		When: time.Now().UTC(), Options: o, Results: results,
		ServerPeakRSSMB: float64(srv.peakRSS()) / 1024, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
	}
	printTable(out, report)
	raw, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	if o.JSON != "" {
		if err := os.WriteFile(o.JSON, raw, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "results written to %s\n", o.JSON)
	}
	return nil
}

// Report is one run of the benchmark.
type Report struct {
	When            time.Time
	Options         Options
	CPUs            int
	GoVersion       string
	ServerPeakRSSMB float64
	Results         []Result
}

// Result is one scenario, through the service and at the ceiling.
type Result struct {
	Scenario string
	Service  Measure
	Ceiling  Measure
	// Ratio is service requests per second over ceiling requests per second.
	Ratio float64
}

// Measure is what one side of a scenario did.
type Measure struct {
	Requests       int
	Errors         int
	RPS            float64
	P50, P99, P999 time.Duration
	CPUPerRequest  time.Duration `json:",omitempty"`
}

func printTable(out io.Writer, r Report) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\treq/s\tp50\tp99\tp99.9\terrors\tceiling req/s\tceiling p99\tservice/ceiling\tCPU/req\t")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t%.0f\t%s\t%.0f%%\t%dµs\t\n", x.Scenario, x.Service.RPS,
			ms(x.Service.P50), ms(x.Service.P99), ms(x.Service.P999), x.Service.Errors,
			x.Ceiling.RPS, ms(x.Ceiling.P99), 100*x.Ratio, x.Service.CPUPerRequest.Microseconds())
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "server peak RSS: %.1f MB\n", r.ServerPeakRSSMB)
}

// worker is one load goroutine's state: its random source and the bots whose ETag it tracks.
type worker struct {
	id      int
	workers int // how many workers share the run
	rng     *rand.Rand
	owned   []ownedBot
	created int
}

type ownedBot struct {
	bot     botRef
	version int64
}

// drive runs fn from o.Concurrency goroutines for o.Duration and measures it.
func drive(ctx context.Context, o Options, fn func(context.Context, *worker) error) Measure {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	lat := make([][]time.Duration, o.Concurrency)
	errs := make([]int, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.Concurrency {
		wg.Go(func() {
			w := &worker{id: i, workers: o.Concurrency, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
			for ctx.Err() == nil {
				t0 := time.Now()
				err := fn(ctx, w)
				if ctx.Err() != nil {
					return // a request cut by the end of the run does not count
				}
				if err != nil {
					errs[i]++
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	m := Measure{}
	for i := range lat {
		all = append(all, lat[i]...)
		m.Errors += errs[i]
	}
	slices.Sort(all)
	m.Requests = len(all)
	m.RPS = float64(len(all)) / elapsed.Seconds()
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	m.P50, m.P99, m.P999 = pct(0.50), pct(0.99), pct(0.999)
	return m
}

// botRef is a bot of the dataset and its owner.
type botRef struct {
	ID, Owner uuid.UUID
}

// sample is what the scenarios pick from.
type sample struct {
	bots   []botRef
	heavy  []uuid.UUID // users with thousands of bots
	tokens sync.Map    // user -> token
}

func (s *sample) token(user uuid.UUID) string {
	if t, ok := s.tokens.Load(user); ok {
		return t.(string)
	}
	t, _ := auth.Issue([]byte(secret), user, 24*time.Hour, time.Now())
	s.tokens.Store(user, t)
	return t
}

func loadSample(ctx context.Context, pool *pgxpool.Pool) (*sample, error) {
	rows, err := pool.Query(ctx, `SELECT id, owner_id FROM bots TABLESAMPLE SYSTEM (10) WHERE deleted_at IS NULL LIMIT 50000`)
	if err != nil {
		return nil, err
	}
	bots, err := pgx.CollectRows(rows, pgx.RowToStructByPos[botRef])
	if err != nil {
		return nil, err
	}
	if len(bots) < 1000 {
		rows, err := pool.Query(ctx, `SELECT id, owner_id FROM bots WHERE deleted_at IS NULL ORDER BY random() LIMIT 50000`)
		if err != nil {
			return nil, err
		}
		if bots, err = pgx.CollectRows(rows, pgx.RowToStructByPos[botRef]); err != nil {
			return nil, err
		}
	}
	rows, err = pool.Query(ctx, `SELECT owner_id FROM bots GROUP BY owner_id ORDER BY count(*) DESC LIMIT 20`)
	if err != nil {
		return nil, err
	}
	heavy, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	if len(bots) == 0 {
		return nil, errors.New("the dataset has no bots")
	}
	return &sample{bots: bots, heavy: heavy}, nil
}

func (s *sample) randomBot(w *worker) botRef { return s.bots[w.rng.IntN(len(s.bots))] }

// ownedBots gives each worker bots no other worker updates, so that its ETags stay current.
func (s *sample) ownedBots(w *worker) []ownedBot {
	if w.owned == nil {
		for i := w.id; i < len(s.bots) && len(w.owned) < 200; i += w.workers {
			w.owned = append(w.owned, ownedBot{bot: s.bots[i], version: -1})
		}
	}
	return w.owned
}

// server is the `bots serve` process under test.
type server struct {
	cmd  *exec.Cmd
	base string
	dir  string
}

func startServer(ctx context.Context, dbURL string) (*server, error) {
	dir, err := os.MkdirTemp("", "bots-bench")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "bots")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/chatsphere/bots/cmd/bots")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build bots: %w", err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET="+secret,
		"WRITE_RATE=0", "STREAMS_PER_USER=1000")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "listening" {
				addr <- line["addr"].(string)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // the request logs are written, as in production
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
		return s, nil
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, errors.New("bots serve did not start")
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
	_ = os.RemoveAll(s.dir)
}

// cpu returns the server's user plus system CPU time so far.
func (s *server) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks of 1/100 s
}

// peakRSS returns the server's peak resident set in KiB.
func (s *server) peakRSS() int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

func withPoolSize(dbURL string, size int) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(size))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func createDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	q := admin.Query()
	q.Del("pool_max_conns")
	admin.RawQuery = q.Encode()
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL (start it with `go tool task pg`): %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	}
	return err
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
