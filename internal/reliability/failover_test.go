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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/botsproc"
)

// TestFailover is the drill of `go tool task ha`: a primary and a synchronous hot standby,
// three API replicas behind HAProxy and two training workers, under a steady load of creates,
// conditional updates and reads through HAProxy, lose in turn the primary (killed, the
// standby promoted), an API replica and a worker mid-training. No process of the service is
// restarted or told: each finds the new primary through its multi-host DATABASE_URL.
func TestFailover(t *testing.T) {
	base, primary, standby := newCluster(t)
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/chatsphere?sslmode=disable"+
		"&target_session_attrs=read-write&connect_timeout=2", primary.port, standby.port)

	env := []string{"DATABASE_URL=" + dsn, "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + secret,
		"WRITE_RATE=0", "LIST_RATE=0", "INFLIGHT_PER_USER=0", "SHUTDOWN_TIMEOUT=5s",
		// Trainings long enough to be caught mid-way, rescued soon after their worker dies.
		"TRAINING_MIN_DURATION=500ms", "TRAINING_JOB_TIMEOUT=5s", "TRAINING_RESCUE_AFTER=8s",
		// One worker process alone keeps up with the creates: 40 trainings at once.
		"TRAINING_WORKERS=40"}
	errorsLogged := &errorLog{}
	defer func() {
		if t.Failed() { // what the processes logged as errors, to tell why
			for _, line := range errorsLogged.lines() {
				t.Logf("logged: %s", line)
			}
		}
	}()
	start := func(args ...string) *botsproc.Process {
		p, err := botsproc.Start(botsproc.Config{Args: args, Env: env, Log: errorsLogged})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Kill() })
		return p
	}
	var replicas []*botsproc.Process
	var addrs []string
	for range 3 {
		p := start("serve", "--no-workers")
		replicas = append(replicas, p)
		addrs = append(addrs, p.Addr)
	}
	workers := []*botsproc.Process{start("worker"), start("worker")}
	lb := startBalancer(t, base, addrs)

	_, tok := token(t)
	watchers := watchThrough(t, lb.URL, tok, 3)
	load := newFailoverLoad(lb.URL, tok)
	ctx, cancel := context.WithCancel(context.Background())
	done := load.run(ctx, 8)

	step := func(name string, settle time.Duration, fault func()) {
		from := time.Now()
		fault()
		took := time.Since(from)
		time.Sleep(settle)
		w := load.window(from, time.Now())
		t.Logf("FIGURES %s/%s: the fault took %.2fs; %s", t.Name(), name, took.Seconds(), w)
	}
	time.Sleep(4 * time.Second)
	step("primary-killed", 8*time.Second, func() {
		primary.kill()
		standby.promote()
	})
	step("replica-killed", 6*time.Second, func() { require.NoError(t, replicas[0].Kill()) })
	step("worker-killed", 4*time.Second, func() {
		// Mid-training: every training takes at least TRAINING_MIN_DURATION.
		require.NoError(t, workers[0].Kill())
	})
	cancel()
	<-done
	loadEnd := time.Now()

	// Every training, the killed worker's included, finishes on the other worker.
	db := openPool(t, standby.url("chatsphere"))
	var unfinished int
	deadline := time.Now().Add(90 * time.Second)
	for {
		require.NoError(t, db.QueryRow(context.Background(),
			"SELECT count(*) FROM bot_versions WHERE status = 'training'").Scan(&unfinished))
		if unfinished == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if unfinished > 0 {
		rows, err := db.Query(context.Background(), `
			SELECT coalesce(j.state::text, 'no job'), j.attempt, count(*) FROM bot_versions v
			LEFT JOIN river_job j ON j.kind = 'train_bot' AND j.args->>'bot_id' = v.bot_id::text
			WHERE v.status = 'training' GROUP BY 1, 2`)
		require.NoError(t, err)
		for rows.Next() {
			var state string
			var attempt *int
			var n int
			require.NoError(t, rows.Scan(&state, &attempt, &n))
			t.Logf("unfinished: job %s, attempt %v: %d", state, attempt, n)
		}
	}

	// Status streams opened before the faults, resumed by the SDK with Last-Event-ID where
	// their replica died, still see what happens after them: each watched bot retrains.
	streamsOK := watchers.retrainAndSee(t)

	// Every acknowledged write is in the promoted database: each bot, with the description of
	// its last acknowledged update.
	acked := load.acknowledged()
	lost := 0
	for id, seen := range acked {
		var got *string
		err := db.QueryRow(context.Background(), "SELECT description FROM bots WHERE id = $1", id).Scan(&got)
		switch {
		case err != nil: // the acknowledged create is gone
			lost++
		case got == nil && seen.acked != "":
			lost++
		case got != nil && *got != seen.acked && !slices.Contains(seen.inDoubt, *got):
			lost++ // neither the acknowledged update nor one sent after it
		}
	}
	// Retried creates carry their first Idempotency-Key: no name is there twice.
	var duplicates int
	require.NoError(t, db.QueryRow(context.Background(),
		"SELECT count(*) FROM (SELECT name FROM bots GROUP BY owner_id, name HAVING count(*) > 1) d").Scan(&duplicates))
	whole := load.window(time.Time{}, loadEnd)
	t.Logf("FIGURES %s/total: %s; acknowledged bots: %d; acknowledged writes lost: %d; duplicate bots: %d; trainings never finished: %d; status streams that saw a change after the faults: %d of %d",
		t.Name(), whole, len(acked), lost, duplicates, unfinished, streamsOK, len(watchers.bots))
	require.Zero(t, unfinished, "trainings never finished")
	require.Equal(t, len(watchers.bots), streamsOK, "status streams that missed a change")
	require.Zero(t, lost, "acknowledged writes lost")
	require.Zero(t, duplicates, "duplicate bots from retried creates")
	require.Greater(t, len(acked), 50, "the load made too little progress to prove anything")
}

// failoverLoad is one user's steady load through the balancer: each goroutine creates a bot
// (retrying with its Idempotency-Key until the create is acknowledged), updates its
// description a few times with If-Match, and reads it, recording every answer.
type failoverLoad struct {
	base, token string
	client      *http.Client

	mu     sync.Mutex
	events []loadEvent            // every answer or failure, in order
	bots   map[uuid.UUID]*botSeen // each acknowledged bot
}

// botSeen is what the load knows of one bot's description: the last update the service
// acknowledged (200), and the ones sent since whose answer was lost, which may or may not have
// committed. A 200 is the only acknowledgement: a read that shows an update whose answer was
// lost proves nothing, since a primary shows its commits before its synchronous standby has
// them.
type botSeen struct {
	acked   string
	inDoubt []string
}

type loadEvent struct {
	at     time.Time
	write  bool
	status int // 0 for a transport failure
}

func newFailoverLoad(base, token string) *failoverLoad {
	return &failoverLoad{base: base, token: token, client: &http.Client{Timeout: 10 * time.Second},
		bots: map[uuid.UUID]*botSeen{}}
}

// run starts n goroutines until ctx ends; the channel is closed once all have stopped.
func (l *failoverLoad) run(ctx context.Context, n int) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				l.life(ctx, fmt.Sprintf("ha %d-%d", g, i))
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	return done
}

// life creates a bot, then updates and reads it a few times.
func (l *failoverLoad) life(ctx context.Context, name string) {
	key := uuid.NewString()
	var bot struct {
		ID uuid.UUID
	}
	body := fmt.Sprintf(`{"name":%q,"model":"gpt-4o-mini"}`, name)
	for {
		status, raw, _ := l.do(ctx, http.MethodPost, "/api/v1/bots", body, true, "Idempotency-Key", key)
		if ctx.Err() != nil {
			return
		}
		if status == http.StatusCreated && json.Unmarshal(raw, &bot) == nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // the same key: a retry never makes a second bot
	}
	l.mu.Lock()
	l.bots[bot.ID] = &botSeen{}
	l.mu.Unlock()
	for rev := 1; rev <= 3 && ctx.Err() == nil; rev++ {
		l.update(ctx, bot.ID, fmt.Sprintf("revision %d", rev))
		l.do(ctx, http.MethodGet, "/api/v1/bots/"+bot.ID.String(), "", false)
	}
}

// update sets the bot's description with If-Match until it is acknowledged, or until a read
// shows it in place (an attempt whose answer was lost committed, or seems to have), so that the
// next update starts from a known state.
func (l *failoverLoad) update(ctx context.Context, id uuid.UUID, desc string) {
	path := "/api/v1/bots/" + id.String()
	for ctx.Err() == nil {
		status, raw, header := l.do(ctx, http.MethodGet, path, "", false)
		if status != http.StatusOK {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var cur struct{ Description *string }
		if json.Unmarshal(raw, &cur) == nil && cur.Description != nil && *cur.Description == desc {
			return
		}
		l.sent(id, desc, false)
		status, _, _ = l.do(ctx, http.MethodPut, path, fmt.Sprintf(`{"description":%q}`, desc), true,
			"If-Match", header.Get("ETag"))
		if status == http.StatusOK {
			l.sent(id, desc, true)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sent notes an update of the bot to desc: acknowledged, or sent with its outcome unknown.
func (l *failoverLoad) sent(id uuid.UUID, desc string, acked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bots[id]
	if acked {
		b.acked, b.inDoubt = desc, nil
	} else {
		b.inDoubt = append(b.inDoubt, desc)
	}
}

// do sends one request and records its outcome.
func (l *failoverLoad) do(ctx context.Context, method, path, body string, write bool, header ...string) (int, []byte, http.Header) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, r)
	if err != nil {
		return 0, nil, nil
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := l.client.Do(req)
	ev := loadEvent{at: time.Now(), write: write}
	if err != nil {
		if ctx.Err() == nil {
			l.record(ev)
		}
		return 0, nil, nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	ev.status = res.StatusCode
	l.record(ev)
	return res.StatusCode, bytes.Clone(raw), res.Header
}

func (l *failoverLoad) record(ev loadEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// acknowledged returns a copy of what the load knows of each acknowledged bot.
func (l *failoverLoad) acknowledged() map[uuid.UUID]botSeen {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[uuid.UUID]botSeen, len(l.bots))
	for k, v := range l.bots {
		out[k] = botSeen{acked: v.acked, inDoubt: append([]string(nil), v.inDoubt...)}
	}
	return out
}

// window sums up the answers between from and to: requests, successful writes, the longest
// time without a successful write, and failures by status (0: no answer).
func (l *failoverLoad) window(from, to time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var requests, writes int
	failures := map[int]int{}
	last, gap := time.Time{}, time.Duration(0)
	for _, ev := range l.events {
		if ev.at.Before(from) || ev.at.After(to) {
			continue
		}
		if last.IsZero() {
			last = ev.at
		}
		requests++
		ok := ev.status >= 200 && ev.status < 300
		if !ok && ev.status != http.StatusPreconditionFailed {
			failures[ev.status]++
		}
		if ev.write && ok {
			writes++
			gap = max(gap, ev.at.Sub(last))
			last = ev.at
		}
	}
	if !last.IsZero() {
		gap = max(gap, to.Sub(last))
	}
	codes := make([]int, 0, len(failures))
	for c := range failures {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	fmt.Fprintf(&b, "requests %d, successful writes %d, longest time without a successful write %.2fs, failures:", requests, writes, gap.Seconds())
	if len(codes) == 0 {
		b.WriteString(" none")
	}
	for _, c := range codes {
		if c == 0 {
			fmt.Fprintf(&b, " no answer %d;", failures[c])
		} else {
			fmt.Fprintf(&b, " %d: %d;", c, failures[c])
		}
	}
	return b.String()
}

// errorLog keeps the error lines of the processes' JSON logs, to show what a failure was.
type errorLog struct {
	mu  sync.Mutex
	buf []string
}

func (e *errorLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"level":"ERROR"`)) {
		e.mu.Lock()
		if len(e.buf) < 50 {
			e.buf = append(e.buf, strings.TrimSpace(string(p)))
		}
		e.mu.Unlock()
	}
	return len(p), nil
}

func (e *errorLog) lines() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.buf...)
}

// watchers follow the status of a few bots through the balancer with the SDK's WatchStatus,
// from before the faults to the end of the drill.
type watchers struct {
	c      *client.Client
	bots   []uuid.UUID
	events []chan client.StatusEvent
}

// watchThrough creates n bots, waits until they are active, and starts watching each.
func watchThrough(t *testing.T, base, tok string, n int) *watchers {
	t.Helper()
	// Reconnects may fail for a while during the failover: the policy allows for it.
	c, err := client.New(base, tok, client.WithRetry(1000, 5*time.Minute))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &watchers{c: c}
	for i := range n {
		bot, err := c.Create(ctx, client.CreateParams{Name: fmt.Sprintf("watched %d", i), Model: "gpt-4o-mini"})
		require.NoError(t, err)
		ch := make(chan client.StatusEvent, 100)
		go func() {
			for e, err := range c.WatchStatus(ctx, bot.ID) {
				if err != nil {
					if ctx.Err() == nil {
						t.Logf("the watch of %s ended: %v", bot.ID, err)
					}
					return
				}
				ch <- e
			}
		}()
		w.bots, w.events = append(w.bots, bot.ID), append(w.events, ch)
	}
	for i := range w.bots { // each stream has seen its bot become active
		waitFor(t, w.events[i], client.StatusActive, 0)
	}
	return w
}

// retrainAndSee retrains every watched bot and counts the streams that see it through to
// active.
func (w *watchers) retrainAndSee(t *testing.T) int {
	t.Helper()
	seen := 0
	for i, id := range w.bots {
		bot, err := w.c.Train(context.Background(), id)
		require.NoError(t, err)
		if waitFor(t, w.events[i], client.StatusActive, bot.UpdatedAt.UnixNano()) {
			seen++
			continue
		}
		now, err := w.c.Get(context.Background(), id)
		require.NoError(t, err)
		t.Logf("the stream of %s missed its training: the bot is %s since %s", id, now.Status, now.UpdatedAt.Format(time.RFC3339Nano))
	}
	return seen
}

// waitFor reads events until one moves the bot to status after the given time (as
// nanoseconds; 0: any), for at most 30 seconds.
func waitFor(t *testing.T, events <-chan client.StatusEvent, to client.Status, after int64) bool {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.To == to && e.CreatedAt.UnixNano() > after {
				return true
			}
			t.Logf("event %d %s -> %s at %s", e.ID, e.From, e.To, e.CreatedAt.Format(time.RFC3339Nano))
		case <-timeout:
			return false
		}
	}
}
