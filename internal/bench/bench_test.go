package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
)

// adminURL is the local PostgreSQL's maintenance database, where test databases are made and
// dropped.
const adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// benchDatabase returns the URL of a database name unique to t, and drops that database
// (if the benchmark created it) when t ends.
func benchDatabase(t *testing.T) (name, url string) {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	name = "bench_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		// t.Context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name, fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
}

// databaseExists reports whether the local PostgreSQL has a database called name.
func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), adminURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var exists bool
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	return exists
}

func TestRun(t *testing.T) {
	t.Parallel()

	t.Run("ATinyRunPrintsItsTableAndWritesItsJSON", func(t *testing.T) {
		t.Parallel()
		_, dbURL := benchDatabase(t)
		jsonPath := filepath.Join(t.TempDir(), "r.json")
		var out bytes.Buffer
		// Short windows: the run waits for each window's trainings before the next one, so a
		// window holds only the work of its own requests.
		err := Run(t.Context(), []string{
			"-database-url", dbURL,
			"-users", "20", "-bots", "400",
			// A second per window: at 300 ms, a window of a slow write (a configuration update
			// records a version and two events) could end before its first answer while the
			// rest of the suite loads the machine, and a window without answers proves nothing.
			"-duration", "1s", "-warmup", "200ms", "-concurrency", "4", "-flood-connections", "8",
			"-json", jsonPath,
		}, &out)
		require.NoError(t, err, "output:\n%s", out.String())
		text := out.String()
		t.Log(text) // shown with -v or on failure: the numbers of the run

		// The table: a header, then one row per scenario in the order they ran, with no errors;
		// the flood scenario has lines of its own.
		tabled := slices.DeleteFunc(slices.Clone(allScenarios), func(s string) bool { return s == "flood" })
		lines := strings.Split(text, "\n")
		header := -1
		for i, line := range lines {
			if strings.Contains(line, "scenario") && strings.Contains(line, "req/s") && strings.Contains(line, "ceiling p99") {
				header = i
				break
			}
		}
		require.NotEqual(t, -1, header, "no table header in the output:\n%s", text)
		require.Greater(t, len(lines), header+len(tabled), "output:\n%s", text)
		for i, name := range tabled {
			row := strings.Fields(lines[header+1+i])
			require.Len(t, row, 16, "row %q", lines[header+1+i])
			require.Equal(t, name, row[0], "row %q", lines[header+1+i])
			require.Equal(t, "0", row[5], "errors in row %q", lines[header+1+i])
		}
		require.Contains(t, text, "server peak RSS:")
		require.Contains(t, text, "results written to "+jsonPath)

		raw, err := os.ReadFile(jsonPath)
		require.NoError(t, err)
		var report Report
		require.NoError(t, json.Unmarshal(raw, &report))
		require.Positive(t, report.ServerPeakRSSMB)
		require.Positive(t, report.CPUs)
		require.NotEmpty(t, report.GoVersion)
		require.Equal(t, allScenarios, report.Options.Scenarios)
		require.Len(t, report.Results, len(tabled))
		for i, r := range report.Results {
			require.Equal(t, tabled[i], r.Scenario)
			for side, m := range map[string]Measure{"service": r.Service, "ceiling": r.Ceiling} {
				msg := fmt.Sprintf("%s %s: %+v", r.Scenario, side, m)
				require.Positive(t, m.Requests, msg)
				require.Zero(t, m.Errors, msg)
				require.Empty(t, m.FirstError, msg)
				require.Positive(t, m.RPS, msg)
				require.Positive(t, m.P50, msg)
				require.LessOrEqual(t, m.P50, m.P99, msg)
				require.LessOrEqual(t, m.P99, m.P999, msg)
				require.GreaterOrEqual(t, m.CPU.Busy, 0.0, msg)
				require.LessOrEqual(t, m.CPU.Busy, 1.0, msg)
			}
			require.Positive(t, r.Ratio, r.Scenario)
		}

		// The flood: another user's GETs alone and flooded, and what the flooder got.
		require.Contains(t, text, "flood: one user's GET /api/v1/bots/{id} over 4 connections")
		require.Regexp(t, `(?m)^  flooded: +\d+ req/s \(\d+% of alone\)`, text)
		require.Regexp(t, `(?m)^  flooder: +\d+ searches/s answered, \d+/s refused with 429, 0 other errors$`, text)
		f := report.Flood
		require.NotNil(t, f)
		require.Equal(t, 8, f.Connections)
		for side, m := range map[string]Measure{"alone": f.Alone, "flooded": f.During} {
			msg := fmt.Sprintf("flood %s: %+v", side, m)
			require.Positive(t, m.Requests, msg)
			require.Zero(t, m.Errors, msg)
			require.Positive(t, m.RPS, msg)
			require.LessOrEqual(t, m.P50, m.P99, msg)
		}
		require.Positive(t, f.Kept)
		require.Positive(t, f.Searches+f.Limited, "the flooder was answered: %+v", f)
		require.Zero(t, f.Errors, "the flooder got only 200s and 429s: %s", f.FirstError)
	})

	t.Run("WithWebhooksEveryEventIsDeliveredToEachEndpoint", func(t *testing.T) {
		t.Parallel()
		_, dbURL := benchDatabase(t)
		var out bytes.Buffer
		err := Run(t.Context(), []string{
			"-database-url", dbURL, "-users", "10", "-bots", "100", "-scenarios", "create", "-webhooks", "2",
			"-duration", "1s", "-warmup", "200ms", "-concurrency", "4", "-json", "",
		}, &out)
		require.NoError(t, err, "output:\n%s", out.String())
		require.Regexp(t, `(?m)^webhooks: 2 endpoints per user; \d+ deliveries received; from event to receiver p50 `, out.String())

		conn, err := pgx.Connect(t.Context(), dbURL)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		var events, deliveries, delivered int
		require.NoError(t, conn.QueryRow(t.Context(), `
			SELECT (SELECT count(*) FROM bot_events WHERE created_at >= (SELECT min(created_at) FROM webhooks)),
			       (SELECT count(*) FROM webhook_deliveries),
			       (SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered')`).Scan(&events, &deliveries, &delivered))
		require.Positive(t, events, "the creates recorded events")
		require.Equal(t, 2*events, deliveries, "each event is queued once per endpoint")
		require.Equal(t, deliveries, delivered, "every delivery was sent before the run ended")
		received := regexp.MustCompile(`(\d+) deliveries received`).FindStringSubmatch(out.String())
		require.Equal(t, strconv.Itoa(deliveries), received[1], "the receiver got each delivery once")
	})

	t.Run("AnUnknownScenarioIsAnErrorNamingIt", func(t *testing.T) {
		t.Parallel()
		name, dbURL := benchDatabase(t)
		var out bytes.Buffer
		err := Run(t.Context(), []string{"-database-url", dbURL, "-scenarios", "get,nope"}, &out)
		require.ErrorContains(t, err, `"nope"`)
		require.ErrorContains(t, err, strings.Join(allScenarios, ", "), "the error lists the scenarios there are")
		require.False(t, databaseExists(t, name), "a bad command line touches no database")
		require.Empty(t, out.String())
	})

	t.Run("ABadFlagIsAnError", func(t *testing.T) {
		t.Parallel()
		err := Run(t.Context(), []string{"-users", "many"}, io.Discard)
		require.ErrorContains(t, err, "-users")
		err = Run(t.Context(), []string{"-flood-connections", "0"}, io.Discard)
		require.ErrorContains(t, err, "-flood-connections")
		err = Run(t.Context(), []string{"-rate", "-1"}, io.Discard)
		require.ErrorContains(t, err, "-rate")
		err = Run(t.Context(), []string{"-webhooks", "21"}, io.Discard)
		require.ErrorContains(t, err, "-webhooks")
	})
}

// errEveryThird is what the fake scenario of the drive tests fails with.
var errEveryThird = errors.New("every third call fails")

func TestDrive(t *testing.T) {
	t.Parallel()

	t.Run("RequestsErrorsAndTheFirstErrorAreCounted", func(t *testing.T) {
		t.Parallel()
		// Each worker makes its quota of calls, every third failing, then waits for the end
		// of the run: a call cut by the end does not count, so the counts are exact.
		const workers, quota = 3, 300
		calls := make([]int, workers) // calls[i] is only touched by worker i
		o := Options{Concurrency: workers, Duration: 500 * time.Millisecond}
		m := drive(t.Context(), o, func(ctx context.Context, w *worker) error {
			if w.workers != workers {
				t.Errorf("worker %d thinks there are %d workers, not %d", w.id, w.workers, workers)
			}
			if calls[w.id] == quota {
				<-ctx.Done()
				return ctx.Err()
			}
			calls[w.id]++
			if calls[w.id]%3 == 0 {
				return errEveryThird
			}
			return nil
		})
		require.Equal(t, []int{quota, quota, quota}, calls, "every worker made its quota")
		require.Equal(t, workers*quota*2/3, m.Requests)
		require.Equal(t, workers*quota/3, m.Errors)
		require.Equal(t, errEveryThird.Error(), m.FirstError)
		require.Positive(t, m.RPS)
		require.LessOrEqual(t, m.P50, m.P99)
		require.LessOrEqual(t, m.P99, m.P999)
	})

	t.Run("ACallCutByTheEndOfTheRunIsNeitherARequestNorAnError", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		m := drive(t.Context(), Options{Concurrency: 4, Duration: 50 * time.Millisecond}, func(ctx context.Context, _ *worker) error {
			calls.Add(1)
			<-ctx.Done()
			return ctx.Err()
		})
		require.Equal(t, int32(4), calls.Load(), "each worker made one call, which the end of the run cut")
		require.Equal(t, Measure{}, m)
	})

	t.Run("ARateCapsTheCallsStartedOverAllWorkers", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		m := drive(t.Context(), Options{Concurrency: 4, Duration: 500 * time.Millisecond, Rate: 100}, func(context.Context, *worker) error {
			calls.Add(1)
			return nil
		})
		// At 100 a second, with a burst of one, half a second starts at most 1 + 50 calls,
		// however fast each returns: without the cap, four workers make millions.
		require.LessOrEqual(t, calls.Load(), int32(51))
		require.Positive(t, m.Requests)
		require.LessOrEqual(t, m.Requests, int(calls.Load()))
	})

	t.Run("ARunWhoseContextIsDoneMakesNoCall", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var calls atomic.Int32
		m := drive(ctx, Options{Concurrency: 4, Duration: time.Hour}, func(context.Context, *worker) error {
			calls.Add(1)
			return nil
		})
		require.Zero(t, calls.Load())
		require.Zero(t, m.Requests)
		require.Zero(t, m.Errors)
	})
}

func TestSampleOwned(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct{ workers, bots int }{
		{workers: 7, bots: 100},
		{workers: 1, bots: 1},
		{workers: 3, bots: 3},
		{workers: 64, bots: 1000},
	} {
		t.Run(fmt.Sprintf("%dWorkersShare%dBotsWithoutOverlap", tc.workers, tc.bots), func(t *testing.T) {
			t.Parallel()
			data := &sample{bots: make([]botRef, tc.bots)}
			owner := make(map[int]int, tc.bots) // bot index -> the worker that drew it
			for id := range tc.workers {
				w := &worker{id: id, workers: tc.workers, rng: mathrand.New(mathrand.NewPCG(uint64(id), 42))}
				for range 50 * (tc.bots/tc.workers + 1) {
					i := data.owned(w)
					require.GreaterOrEqual(t, i, 0)
					require.Less(t, i, tc.bots, "worker %d drew a bot past the sample", id)
					require.Equal(t, id, i%tc.workers, "worker %d drew bot %d", id, i)
					if other, ok := owner[i]; ok {
						require.Equal(t, id, other, "bot %d drawn by workers %d and %d", i, other, id)
					}
					owner[i] = id
				}
			}
			// With fixed seeds and 50 draws per bot this is deterministic: every bot is
			// someone's, so no part of the sample is left out of the updates.
			require.Len(t, owner, tc.bots)
		})
	}
}

// TestMain removes the bots binary the runs built, once every run is over: runs share it.
func TestMain(m *testing.M) {
	code := m.Run()
	botsproc.RemoveBinary()
	os.Exit(code)
}
