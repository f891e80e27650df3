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
	"net/http"
	"net/url"
	"os"
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
	"golang.org/x/time/rate"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbpool"
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
	// Profile is a folder for the server's CPU profile of each scenario; empty: none.
	Profile string
	// FloodConnections are the flooder's connections in the flood scenario.
	FloodConnections int
	// Webhooks is how many webhook endpoints each user has, subscribed to every event and
	// sent to a receiver in this process; 0: none.
	Webhooks int
	// Rate caps the requests started per second over all workers, so that a scenario can be
	// measured below the machine's ceiling; 0: as fast as the answers come.
	Rate float64
}

const secret = "benchmark-secret-benchmark-secret-0123"

// allScenarios are the scenarios in the order they run.
var allScenarios = []string{"get", "config", "list", "create", "update", "duplicate", "versions", "alias", "mixed", "flood"}

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
	fs.StringVar(&o.Profile, "profile", "", "folder to write the server's CPU profile of each scenario to (SCENARIO.cpu.pprof)")
	fs.IntVar(&o.PoolSize, "pool", 0, "database pool size of the server and the ceiling (0: pgx's default)")
	fs.IntVar(&o.FloodConnections, "flood-connections", 32, "connections of the user who floods the server with searches in the flood scenario")
	fs.Float64Var(&o.Rate, "rate", 0, "requests started per second over all workers (0: as fast as answers come), to measure below the ceiling")
	fs.IntVar(&o.Webhooks, "webhooks", 0, "webhook endpoints per user, subscribed to every event, delivered to a receiver in the benchmark")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Scenarios = strings.Split(scenarios, ",")
	for _, s := range o.Scenarios {
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(allScenarios, ", "))
		}
	}
	if o.FloodConnections < 1 {
		return fmt.Errorf("-flood-connections must be at least 1")
	}
	if o.Rate < 0 {
		return fmt.Errorf("-rate must be 0 or more")
	}
	if o.Webhooks < 0 || o.Webhooks > 20 {
		return fmt.Errorf("-webhooks must be between 0 and 20")
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
	pool, err := newPool(ctx, dbURL)
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
	if len(data.bots) < o.Concurrency {
		return fmt.Errorf("-concurrency %d is more than the %d live bots sampled: each worker updates bots of its own; use more bots", o.Concurrency, len(data.bots))
	}
	if err := checkVersioned(data.versioned, o.Scenarios, o.Concurrency); err != nil {
		return err
	}

	if o.Profile != "" {
		if err := os.MkdirAll(o.Profile, 0o755); err != nil {
			return err
		}
	}
	hooks, err := startReceiver()
	if err != nil {
		return err
	}
	defer hooks.close()
	if err := subscribe(ctx, pool, o.Webhooks, hooks.url); err != nil {
		return err
	}
	// The per-user limits on reads are off here, as the write limit is: each scenario spreads
	// its load over few users. The flood scenario runs on a server of its own, with them on.
	srv, err := startServer(dbURL, o.Profile != "", "INFLIGHT_PER_USER=0", "LIST_RATE=0",
		"WEBHOOK_ALLOW_HTTP=true", "WEBHOOK_ALLOW_PRIVATE=true")
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	fmt.Fprintf(out, "server %s (pid %d), pool %d, concurrency %d, %s per scenario, %d CPUs\n",
		srv.URL(), srv.Pid(), o.PoolSize, o.Concurrency, o.Duration, runtime.NumCPU())

	ceiling, err := newCeiling(ctx, dbURL)
	if err != nil {
		return err
	}
	defer ceiling.close()

	conns := make([]*httpConn, o.Concurrency)
	for i := range conns {
		conns[i] = newHTTPConn(srv.URL())
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	var results []Result
	var flood *Flood
	for _, name := range o.Scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if name == "flood" {
			if flood, err = runFlood(ctx, o, dbURL, pool, data); err != nil {
				return fmt.Errorf("flood: %w", err)
			}
			fmt.Fprintf(out, "  %-9s done: another user's GETs %.0f req/s alone, %.0f req/s flooded\n", name, flood.Alone.RPS, flood.During.RPS)
			continue
		}
		if name == "config" {
			if err := primeConfig(ctx, conns, data); err != nil {
				return fmt.Errorf("prime the runtime cache: %w", err)
			}
		}
		viaHTTP := func(ctx context.Context, w *worker) error { return httpScenario(ctx, name, conns[w.id], data, w) }
		direct := func(ctx context.Context, w *worker) error { return ceiling.scenario(ctx, name, data, w) }
		// Each side is warmed up (caches, connections, tokens), settled, then measured.
		measure := func(fn func(context.Context, *worker) error, pid int, profile string) (Measure, error) {
			warm := o
			warm.Duration = o.Warmup
			drive(ctx, warm, fn)
			if err := settle(ctx, pool); err != nil {
				return Measure{}, err
			}
			var profiled <-chan error
			if profile != "" {
				profiled = srv.profile(ctx, o.Duration, profile)
			}
			before, cached := sampleCPU(pid), srv.cacheLookups(ctx)
			m := drive(ctx, o, fn)
			m.CPU = cpuBetween(before, sampleCPU(pid), m.Requests)
			if pid != 0 {
				m.CacheHits = srv.cacheLookups(ctx).hitRate(cached)
			}
			if profiled != nil {
				if err := <-profiled; err != nil {
					return m, fmt.Errorf("profile %s: %w", name, err)
				}
			}
			return m, nil
		}
		profile := ""
		if o.Profile != "" {
			profile = filepath.Join(o.Profile, name+".cpu.pprof")
		}
		svc, err := measure(viaHTTP, srv.Pid(), profile)
		if err != nil {
			return err
		}
		ceil, err := measure(direct, 0, "")
		if err != nil {
			return err
		}
		r := Result{Scenario: name, Service: svc, Ceiling: ceil}
		if ceil.RPS > 0 {
			r.Ratio = svc.RPS / ceil.RPS
		}
		results = append(results, r)
		fmt.Fprintf(out, "  %-9s done: %.0f req/s (ceiling %.0f)", name, svc.RPS, ceil.RPS)
		if svc.CacheHits != nil {
			fmt.Fprintf(out, ", runtime cache hits %.1f%%", *svc.CacheHits*100)
		}
		fmt.Fprintln(out)
	}
	var deliveries *Deliveries
	if o.Webhooks > 0 {
		last := time.Now()
		if err := settle(ctx, pool); err != nil {
			return err
		}
		deliveries = hooks.stats(o.Webhooks, time.Since(last))
	}
	report := Report{
		When: time.Now().UTC(), Options: o, Results: results, Flood: flood, Deliveries: deliveries,
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
	// Flood is the flood scenario, when it ran.
	Flood *Flood `json:",omitempty"`
	// Deliveries are the webhook deliveries of the run, when users had webhooks.
	Deliveries *Deliveries `json:",omitempty"`
}

// Result is one scenario, through the service and at the ceiling.
type Result struct {
	Scenario string
	Service  Measure
	Ceiling  Measure
	// Ratio is service requests per second over ceiling requests per second; 0 when the
	// ceiling answered nothing.
	Ratio float64
}

// Measure is what one side of a scenario did.
type Measure struct {
	Requests       int
	Errors         int
	RPS            float64
	P50, P99, P999 time.Duration
	CPU            CPU
	// FirstError is one of the errors, to tell what went wrong.
	FirstError string `json:",omitempty"`
	// CacheHits is the share of the server's runtime cache lookups that hit, when there were
	// any.
	CacheHits *float64 `json:",omitempty"`
}

// lookups are the server's runtime cache lookups so far.
type lookups struct{ hits, misses float64 }

// cacheLookups reads the server's runtime cache counters from its metrics; zero when they
// cannot be read.
func (s *server) cacheLookups(ctx context.Context) lookups {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/metrics", nil)
	if err != nil {
		return lookups{}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return lookups{}
	}
	defer res.Body.Close()
	var l lookups
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var v float64
		if _, err := fmt.Sscanf(sc.Text(), `bots_config_cache_requests_total{result="hit"} %g`, &v); err == nil {
			l.hits = v
		} else if _, err := fmt.Sscanf(sc.Text(), `bots_config_cache_requests_total{result="miss"} %g`, &v); err == nil {
			l.misses = v
		}
	}
	return l
}

// hitRate is the share of hits among the lookups since before; nil when there were none.
func (l lookups) hitRate(before lookups) *float64 {
	hits, all := l.hits-before.hits, l.hits-before.hits+l.misses-before.misses
	if all <= 0 {
		return nil
	}
	r := hits / all
	return &r
}

func printTable(out io.Writer, r Report) {
	if len(r.Results) > 0 {
		printResults(out, r)
	}
	fmt.Fprintf(out, "server peak RSS: %.1f MB\n", r.ServerPeakRSSMB)
	if r.Flood != nil {
		printFlood(out, r.Flood)
	}
	if r.Deliveries != nil {
		printDeliveries(out, r.Deliveries)
	}
}

func printResults(out io.Writer, r Report) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\treq/s\tp50\tp99\tp99.9\terrors\tceiling req/s\tceiling p99\tservice/ceiling\t"+
		"CPU/req: server\tdb\tload gen\tbusy\tceiling CPU/req: db\tclient\tbusy\t")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	us := func(d time.Duration) string { return fmt.Sprintf("%dµs", d.Microseconds()) }
	pct := func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }
	ratio := func(x Result) string {
		if x.Ceiling.RPS == 0 {
			return "n/a"
		}
		return pct(x.Ratio)
	}
	for _, x := range r.Results {
		s, c := x.Service, x.Ceiling
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.Scenario, s.RPS,
			ms(s.P50), ms(s.P99), ms(s.P999), s.Errors, c.RPS, ms(c.P99), ratio(x),
			us(s.CPU.Server), us(s.CPU.DB), us(s.CPU.Client), pct(s.CPU.Busy),
			us(c.CPU.DB), us(c.CPU.Client), pct(c.CPU.Busy))
	}
	_ = tw.Flush()
	for _, x := range r.Results {
		for side, m := range map[string]Measure{"service": x.Service, "ceiling": x.Ceiling} {
			if m.FirstError != "" {
				fmt.Fprintf(out, "%s %s: %d errors, for example: %s\n", x.Scenario, side, m.Errors, m.FirstError)
			}
		}
	}
	fmt.Fprintln(out, "CPU/req is CPU time per answered request of the server, of all PostgreSQL processes and of this process\n"+
		"(the load generator; at the ceiling, the client); busy is the share of all cores' time in use.")
}

// worker is one load goroutine's state: its place among the workers and its random source.
type worker struct {
	id      int
	workers int // how many workers share the run
	rng     *rand.Rand
	created int
}

// drive runs fn from o.Concurrency goroutines for o.Duration and measures it.
func drive(ctx context.Context, o Options, fn func(context.Context, *worker) error) Measure {
	start := time.Now()
	end := start.Add(o.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	lat := make([][]time.Duration, o.Concurrency)
	errs := make([]int, o.Concurrency)
	firstErr := make([]error, o.Concurrency)
	pace := rate.NewLimiter(rate.Inf, 1)
	if o.Rate > 0 {
		pace = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}
	var wg sync.WaitGroup
	for i := range o.Concurrency {
		wg.Go(func() {
			w := &worker{id: i, workers: o.Concurrency, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
			for ctx.Err() == nil {
				if pace.Wait(ctx) != nil {
					return
				}
				t0 := time.Now()
				err := fn(ctx, w)
				if ctx.Err() != nil || !time.Now().Before(end) {
					return // a request cut by the end of the run does not count
				}
				if err != nil {
					errs[i]++
					if firstErr[i] == nil {
						firstErr[i] = err
					}
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
		if m.FirstError == "" && firstErr[i] != nil {
			m.FirstError = firstErr[i].Error()
		}
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
	bots []botRef
	// versions are the current versions of bots, for If-Match. Each is read and written
	// only by the one worker that updates its bot (see owned).
	versions []int64
	heavy    []uuid.UUID // users with thousands of bots
	tokens   sync.Map    // user -> token
	// versioned are reconfigured bots, for the versions and alias scenarios.
	versioned versionSample
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
	type row struct {
		ID, Owner uuid.UUID
		Version   int64
	}
	collect := func(sql string) ([]row, error) {
		rows, err := pool.Query(ctx, sql)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	}
	// Active bots only: an update of an active bot's temperature within its model's range is
	// active at once, so no training changes the bot (and its ETag) behind the update
	// scenario's back.
	sampled, err := collect(`SELECT id, owner_id, version FROM bots TABLESAMPLE SYSTEM (10) WHERE deleted_at IS NULL AND status = 'active' LIMIT 50000`)
	if err == nil && len(sampled) < 1000 {
		sampled, err = collect(`SELECT id, owner_id, version FROM bots WHERE deleted_at IS NULL AND status = 'active' ORDER BY random() LIMIT 50000`)
	}
	if err != nil {
		return nil, err
	}
	if len(sampled) == 0 {
		return nil, errors.New("the dataset has no bots")
	}
	s := &sample{bots: make([]botRef, len(sampled)), versions: make([]int64, len(sampled))}
	for i, r := range sampled {
		s.bots[i], s.versions[i] = botRef{ID: r.ID, Owner: r.Owner}, r.Version
	}
	rows, err := pool.Query(ctx, `SELECT owner_id FROM bots GROUP BY owner_id ORDER BY count(*) DESC LIMIT 20`)
	if err != nil {
		return nil, err
	}
	if s.heavy, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return nil, err
	}
	if s.versioned, err = loadVersioned(ctx, pool); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sample) randomBot(w *worker) botRef { return s.bots[w.rng.IntN(len(s.bots))] }

// owned picks one of the bots that only w updates, so that the version it knows for it stays
// current from run to run.
func (s *sample) owned(w *worker) int { return ownedOf(len(s.bots), w) }

// ownedOf picks one of the indexes below n that only w uses: every workers-th, starting at its
// id. n must be at least the number of workers.
func ownedOf(n int, w *worker) int {
	k := (n - w.id + w.workers - 1) / w.workers
	return w.id + w.rng.IntN(max(k, 1))*w.workers
}

// settle waits until no job (training or webhook delivery) is waiting or running, then
// vacuums the tables that writes touch, so that each measured window holds the work of its
// own requests only: the server works the jobs of both sides, and autovacuum would otherwise
// clean up after one window during the next.
func settle(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		var pending int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled')`).Scan(&pending)
		if err != nil {
			return fmt.Errorf("wait for the queued jobs: %w", err)
		}
		if pending == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d jobs still queued after 2 minutes", pending)
		case <-time.After(50 * time.Millisecond):
		}
	}
	_, err := pool.Exec(ctx, "VACUUM (ANALYZE) bots, bot_counts, bot_events, river_job, idempotency_keys, webhook_deliveries")
	return err
}

// server is the `bots serve` process under test.
type server struct{ *botsproc.Process }

// startServer starts `bots serve` on dbURL, with its profiler when profiler is set; env adds
// to (and overrides) its environment. The server's errors go to this process's stderr.
func startServer(dbURL string, profiler bool, env ...string) (server, error) {
	env = append([]string{"DATABASE_URL=" + dbURL, "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + secret,
		"WRITE_RATE=0", "STREAMS_PER_USER=1000"}, env...)
	if profiler {
		env = append(env, "DEBUG_ADDR=127.0.0.1:0")
	}
	p, err := botsproc.Start(botsproc.Config{Args: []string{"serve"}, Env: env, Stderr: os.Stderr})
	return server{p}, err
}

// profile records the server's CPU profile for d into file, in the background.
func (s *server) profile(ctx context.Context, d time.Duration, file string) <-chan error {
	done := make(chan error, 1)
	if s.ProfilerAddr == "" {
		done <- errors.New("the server has no profiler listening")
		return done
	}
	go func() {
		secs := max(1, int(d.Round(time.Second)/time.Second))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.ProfilerAddr, secs), nil)
		if err != nil {
			done <- err
			return
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			done <- fmt.Errorf("the profiler answered %s", res.Status)
			return
		}
		f, err := os.Create(file)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, res.Body)
		done <- errors.Join(err, f.Close())
	}()
	return done
}

// peakRSS returns the server's peak resident set in KiB.
func (s *server) peakRSS() int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
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

// newPool opens a pool configured as the server configures its own.
func newPool(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	cfg, err := dbpool.Config(dbURL)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
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
