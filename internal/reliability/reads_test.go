//go:build reliability && ha

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
)

// TestStandbyReads runs API replicas that read lists from a synchronous hot standby
// (DATABASE_READ_URL) on a primary and standby of the drill's own. A client that writes through
// one replica and lists through another finds its write every time, because the writing
// replica's commits wait for the standby's replay (remote_apply); a replica that commits with
// plain synchronous_commit = on can be missed. It also measures list throughput with and
// without the standby, the cost of remote_apply to writes, and the standby's replay lag.
func TestStandbyReads(t *testing.T) {
	_, primary, standby := newCluster(t)

	env := []string{"DATABASE_URL=" + primary.url("chatsphere"), "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + secret,
		"WRITE_RATE=0", "LIST_RATE=0", "INFLIGHT_PER_USER=0", "SHUTDOWN_TIMEOUT=5s"}
	start := func(extra ...string) (*botsproc.Process, error) {
		p, err := botsproc.Start(botsproc.Config{Args: []string{"serve", "--no-workers"}, Env: append(slices.Clone(env), extra...)})
		if err == nil {
			t.Cleanup(func() { _ = p.Kill() })
		}
		return p, err
	}
	readURL := "DATABASE_READ_URL=" + standby.url("chatsphere")
	// plain reads and writes on the primary only, committing with the server's
	// synchronous_commit = on; scaled and other read lists from the standby.
	plain, err := start()
	require.NoError(t, err)
	scaled, err := start(readURL)
	require.NoError(t, err)
	other, err := start(readURL)
	require.NoError(t, err)

	const rounds = 300
	t.Run("WritesThroughOneReplicaAreListedThroughAnother", func(t *testing.T) {
		r := readYourWrites(t, scaled, other, rounds)
		report(t, "remote_apply: %d writes, each listed at once through another replica: %d missed; create latency %s",
			rounds, r.missed, r.latency)
		require.Zero(t, r.missed, "a write acknowledged with remote_apply is on the standby")
	})
	t.Run("WritesCommittedWithoutRemoteApplyCanBeMissed", func(t *testing.T) {
		r := readYourWrites(t, plain, other, rounds)
		report(t, "synchronous_commit=on: %d writes, each listed at once through another replica: %d missed; create latency %s",
			rounds, r.missed, r.latency)
	})

	// PostgreSQL delivers a commit's notifications only once the commit is visible, which with
	// remote_apply is after the standby applied it: a replica that hears of a change and reads
	// the standby at once sees the change.
	t.Run("ANotifiedChangeIsOnTheStandby", func(t *testing.T) {
		stale := notifiedThenRead(t, primary, standby, scaled, 100)
		report(t, "remote_apply: 100 deletes, the standby read on each one's notification: %d stale", stale)
		require.Zero(t, stale)
	})
	t.Run("ANotifiedChangeCommittedWithOnCanBeMissing", func(t *testing.T) {
		stale := notifiedThenRead(t, primary, standby, plain, 100)
		report(t, "synchronous_commit=on: 100 deletes, the standby read on each one's notification: %d stale", stale)
	})

	// A standby that replays late, as one under load does, makes the difference certain: a
	// write committed with remote_apply waits for the replay; one committed with on does not.
	standby.set("recovery_min_apply_delay", "100ms")
	t.Run("AStandbyThatReplaysLateStillShowsYourWrites", func(t *testing.T) {
		r := readYourWrites(t, scaled, other, 20)
		report(t, "remote_apply, replay delayed 100ms: 20 writes: %d missed; create latency %s", r.missed, r.latency)
		require.Zero(t, r.missed)
	})
	t.Run("AStandbyThatReplaysLateMissesWritesCommittedWithOn", func(t *testing.T) {
		r := readYourWrites(t, plain, other, 20)
		report(t, "synchronous_commit=on, replay delayed 100ms: 20 writes: %d missed; create latency %s", r.missed, r.latency)
		require.NotZero(t, r.missed, "without remote_apply, a list on the standby runs before the replay")
	})
	standby.set("recovery_min_apply_delay", "0")

	t.Run("ListThroughput", func(t *testing.T) {
		var toks []string
		for range 4 {
			_, tok := token(t)
			for i := range 50 {
				code, body, _ := call(plain, http.MethodPost, "/api/v1/bots", tok, map[string]any{"name": fmt.Sprintf("bot %d", i), "model": "gpt-4o-mini"})
				require.Equal(t, http.StatusCreated, code, "%s", body)
			}
			toks = append(toks, tok)
		}
		// A first round warms both replicas and the servers' caches; it is not reported.
		listLoad(t, plain, other, toks, 8, 2*time.Second)
		listLoad(t, scaled, other, toks, 8, 2*time.Second)
		for _, target := range []struct {
			name string
			p    *botsproc.Process
		}{{"primary", plain}, {"standby", scaled}, {"primary", plain}, {"standby", scaled}, {"primary", plain}, {"standby", scaled}} {
			lag := sampleLag(t, primary)
			l := listLoad(t, target.p, other, toks, 8, 5*time.Second)
			report(t, "lists read on the %s: %s; standby replay lag meanwhile %s", target.name, l, lag())
		}
	})

	t.Run("APrimaryWithoutSynchronousStandbyIsRefused", func(t *testing.T) {
		primary.set("synchronous_standby_names", "")
		_, err := start(readURL)
		require.ErrorContains(t, err, "names no synchronous standby")
	})
}

// set changes one setting of the node that a reload applies, and waits until the server uses
// the new value.
func (n *node) set(setting, value string) {
	n.t.Helper()
	n.configure(fmt.Sprintf("%s = '%s'", setting, value))
	asPostgres(n.t, "pg_ctl", "-D", n.dir, "reload")
	conn, err := pgx.Connect(context.Background(), n.url("postgres"))
	require.NoError(n.t, err)
	defer conn.Close(context.Background())
	require.Eventually(n.t, func() bool {
		var got string
		err := conn.QueryRow(context.Background(), "SELECT current_setting($1)", setting).Scan(&got)
		return err == nil && got == value
	}, 10*time.Second, 20*time.Millisecond, "%s never became %q", setting, value)
}

// rywResult is what a read-your-writes run saw.
type rywResult struct {
	missed  int
	latency latencies
}

// readYourWrites has a new user create n bots, one at a time, through writer, and list its
// bots through reader right after each create is acknowledged.
func readYourWrites(t *testing.T, writer, reader *botsproc.Process, n int) rywResult {
	t.Helper()
	_, tok := token(t)
	var r rywResult
	for i := range n {
		from := time.Now()
		code, body, _ := call(writer, http.MethodPost, "/api/v1/bots", tok, map[string]any{"name": fmt.Sprintf("ryw %d", i), "model": "gpt-4o-mini"})
		r.latency = append(r.latency, time.Since(from))
		require.Equal(t, http.StatusCreated, code, "%s", body)
		var bot struct{ ID uuid.UUID }
		require.NoError(t, json.Unmarshal(body, &bot))

		code, body, _ = call(reader, http.MethodGet, "/api/v1/bots?limit=1", tok, nil)
		require.Equal(t, http.StatusOK, code, "%s", body)
		var page struct {
			Items []struct{ ID uuid.UUID }
			Total int
		}
		require.NoError(t, json.Unmarshal(body, &page))
		if page.Total != i+1 || len(page.Items) == 0 || page.Items[0].ID != bot.ID {
			r.missed++
		}
	}
	return r
}

var apiClient = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// call sends one request to p and returns the status, the body and how long it took; a
// transport error is status 0.
func call(p *botsproc.Process, method, path, tok string, body any) (int, []byte, time.Duration) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.URL()+path, r)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	from := time.Now()
	res, err := apiClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error()), time.Since(from)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw, time.Since(from)
}

// latencies are durations to summarize.
type latencies []time.Duration

func (l latencies) String() string {
	if len(l) == 0 {
		return "none"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return fmt.Sprintf("p50 %s p99 %s max %s", at(0.5).Round(10*time.Microsecond), at(0.99).Round(10*time.Microsecond),
		s[len(s)-1].Round(10*time.Microsecond))
}

// listResult is what a list load saw.
type listResult struct {
	ok, failed int
	writes     int
	took       time.Duration
	latency    latencies
}

func (l listResult) String() string {
	return fmt.Sprintf("%d lists in %.1fs (%.0f/s), %d failed, latency %s; %d writes alongside",
		l.ok, l.took.Seconds(), float64(l.ok)/l.took.Seconds(), l.failed, l.latency, l.writes)
}

// listLoad lists the bots of toks' users through p from clients goroutines for d, while one
// client creates bots through writer, so that the standby has something to replay.
func listLoad(t *testing.T, p, writer *botsproc.Process, toks []string, clients int, d time.Duration) listResult {
	t.Helper()
	var (
		mu     sync.Mutex
		r      listResult
		writes atomic.Int64
		wg     sync.WaitGroup
	)
	_, writerTok := token(t)
	end := time.Now().Add(d)
	wg.Go(func() {
		tok := writerTok
		for i := 0; time.Now().Before(end); i++ {
			if code, _, _ := call(writer, http.MethodPost, "/api/v1/bots", tok, map[string]any{"name": fmt.Sprintf("w %d", i), "model": "gpt-4o-mini"}); code == http.StatusCreated {
				writes.Add(1)
			}
		}
	})
	from := time.Now()
	for c := range clients {
		wg.Go(func() {
			var mine latencies
			ok, failed := 0, 0
			for i := 0; time.Now().Before(end); i++ {
				code, _, took := call(p, http.MethodGet, "/api/v1/bots?limit=20", toks[(c+i)%len(toks)], nil)
				if code == http.StatusOK {
					ok++
					mine = append(mine, took)
				} else {
					failed++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			r.ok += ok
			r.failed += failed
			r.latency = append(r.latency, mine...)
		})
	}
	wg.Wait()
	r.took = time.Since(from)
	r.writes = int(writes.Load())
	return r
}

// sampleLag samples the standby's replay lag as the primary measures it (pg_stat_replication:
// from the primary's flush of WAL to the standby's report that it applied it), and the bytes of
// WAL the standby has yet to replay, every 10 ms until the returned function is called, which
// summarizes them.
func sampleLag(t *testing.T, primary *node) func() string {
	t.Helper()
	pool := openPool(t, primary.url("postgres"))
	ctx, cancel := context.WithCancel(context.Background())
	var (
		lags   latencies
		behind []int64
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var lag *float64
			var b int64
			if pool.QueryRow(ctx, `SELECT extract(epoch FROM replay_lag)::float8, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint
				FROM pg_stat_replication WHERE application_name = 'standby1'`).Scan(&lag, &b) == nil {
				if lag != nil {
					lags = append(lags, time.Duration(*lag*float64(time.Second)))
				}
				behind = append(behind, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() string {
		cancel()
		<-done
		slices.Sort(behind)
		if len(behind) == 0 {
			return "no samples"
		}
		return fmt.Sprintf("replay_lag %s over %d samples; WAL not yet replayed p50 %d B, max %d B",
			lags, len(lags), behind[len(behind)/2], behind[len(behind)-1])
	}
}

// notifiedThenRead has a user create and delete n bots through writer, and reads each bot on
// the standby as soon as the primary delivers the delete's bot_config notification; it returns
// how many reads still found the bot not deleted.
func notifiedThenRead(t *testing.T, primary, standby *node, writer *botsproc.Process, n int) (stale int) {
	t.Helper()
	ctx := t.Context()
	listener, err := pgx.Connect(ctx, primary.url("chatsphere"))
	require.NoError(t, err)
	defer listener.Close(context.Background())
	_, err = listener.Exec(ctx, "LISTEN bot_config")
	require.NoError(t, err)
	replica := openPool(t, standby.url("chatsphere"))
	_, tok := token(t)
	for i := range n {
		code, body, _ := call(writer, http.MethodPost, "/api/v1/bots", tok, map[string]any{"name": fmt.Sprintf("gone %d", i), "model": "gpt-4o-mini"})
		require.Equal(t, http.StatusCreated, code, "%s", body)
		var bot struct{ ID uuid.UUID }
		require.NoError(t, json.Unmarshal(body, &bot))
		code, body, _ = call(writer, http.MethodDelete, "/api/v1/bots/"+bot.ID.String()+"?confirm=true", tok, nil)
		require.Equal(t, http.StatusOK, code, "%s", body)
		for {
			waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			note, err := listener.WaitForNotification(waitCtx)
			cancel()
			require.NoError(t, err, "no notification of the delete")
			if note.Payload == bot.ID.String() {
				break
			}
		}
		var deleted bool
		require.NoError(t, replica.QueryRow(ctx, "SELECT deleted_at IS NOT NULL FROM bots WHERE id = $1", bot.ID).Scan(&deleted))
		if !deleted {
			stale++
		}
	}
	return stale
}
