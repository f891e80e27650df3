//go:build reliability

// Package reliability holds the fault drills of the service: real `bots serve` processes
// under a steady write load while PostgreSQL restarts, backends are terminated, the server is
// killed or stopped, or two replicas share the database. They restart the shared PostgreSQL
// server, so they run alone, through `go tool task reliability`, not in the main suite.
package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
)

const secret = "reliability-secret-reliability-secret"

// TestMain removes the bots binary the drills built.
func TestMain(m *testing.M) {
	defer botsproc.RemoveBinary()
	m.Run()
}

// startServer starts `bots serve` on databaseURL and waits until it listens; extra adds
// KEY=VALUE settings. The server is killed when t ends.
func startServer(t *testing.T, databaseURL string, extra ...string) *botsproc.Process {
	t.Helper()
	env := append([]string{"DATABASE_URL=" + databaseURL, "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + secret,
		"WRITE_RATE=0", "SHUTDOWN_TIMEOUT=10s"}, extra...)
	srv, err := botsproc.Start(botsproc.Config{Args: []string{"serve"}, Env: env})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Kill() })
	return srv
}

func token(t *testing.T) (uuid.UUID, string) {
	t.Helper()
	user := uuid.New()
	tok, err := auth.Issue([]byte(secret), user, time.Hour, time.Now())
	require.NoError(t, err)
	return user, tok
}

// stats is what a load run saw.
type stats struct {
	mu        sync.Mutex
	sent      atomic.Int64
	byStatus  map[int]int
	transport map[string]int
	acked     []uuid.UUID
	firstFail time.Time
	lastFail  time.Time
}

func newStats() *stats {
	return &stats{byStatus: map[int]int{}, transport: map[string]int{}}
}

func (s *stats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := make([]int, 0, len(s.byStatus))
	for c := range s.byStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	fmt.Fprintf(&b, "sent %d;", s.sent.Load())
	for _, c := range codes {
		fmt.Fprintf(&b, " %d: %d;", c, s.byStatus[c])
	}
	for k, v := range s.transport {
		fmt.Fprintf(&b, " %s: %d;", k, v)
	}
	fmt.Fprintf(&b, " acknowledged creates: %d", len(s.acked))
	return b.String()
}

// startLoad runs createLoad against srv in the background, as a new user, from workers
// goroutines, until ctx ends or 20,000 creates were sent; wait returns once it has ended.
func startLoad(ctx context.Context, t *testing.T, srv *botsproc.Process, workers int) (st *stats, wait func()) {
	t.Helper()
	_, tok := token(t)
	st = newStats()
	var wg sync.WaitGroup
	wg.Go(func() { createLoad(ctx, srv.URL, tok, workers, 20000, st) })
	return st, wg.Wait
}

// createLoad creates bots through base from workers goroutines until ctx ends or max
// requests were sent, recording every answer.
func createLoad(ctx context.Context, base func() string, tok string, workers, max int, st *stats) {
	client := &http.Client{Timeout: 15 * time.Second}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && st.sent.Load() < int64(max); i++ {
				st.sent.Add(1)
				body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("load %d-%d-%s", w, i, uuid.NewString()[:8]), "model": "gpt-4o-mini"})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base()+"/api/v1/bots", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				// The key makes the create safe to retry, which also lets the HTTP client
				// resend it on a keep-alive connection the server closed before reading it.
				req.Header.Set("Idempotency-Key", uuid.NewString())
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					st.fail(transportKind(err))
					time.Sleep(20 * time.Millisecond)
					continue
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				st.record(res.StatusCode, raw)
				if res.StatusCode >= 500 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

func (s *stats) record(code int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byStatus[code]++
	if code == http.StatusCreated {
		var bot struct{ ID uuid.UUID }
		if json.Unmarshal(body, &bot) == nil {
			s.acked = append(s.acked, bot.ID)
		}
		return
	}
	now := time.Now()
	if s.firstFail.IsZero() {
		s.firstFail = now
	}
	s.lastFail = now
}

func (s *stats) fail(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transport[kind]++
}

// transportKind names a client-side failure: a refused connection means the request never
// started; a reset or EOF means one that had started was cut.
func transportKind(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed mid-request"
	case errors.Is(err, context.DeadlineExceeded):
		return "client timeout"
	}
	return "other: " + err.Error()
}

// missing returns the acknowledged bots that the database does not have.
func missing(t *testing.T, pool *pgxpool.Pool, ids []uuid.UUID) []uuid.UUID {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT id FROM bots WHERE id = ANY($1)", ids)
	require.NoError(t, err)
	have := map[uuid.UUID]bool{}
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		have[id] = true
	}
	require.NoError(t, rows.Err())
	var lost []uuid.UUID
	for _, id := range ids {
		if !have[id] {
			lost = append(lost, id)
		}
	}
	return lost
}

// halfWritten counts bots without their first status event or without a training job or
// outcome: rows that a write left incomplete.
func halfWritten(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `
		SELECT count(*) FROM bots b
		WHERE NOT EXISTS (SELECT 1 FROM bot_status_events e WHERE e.bot_id = b.id AND e.from_status IS NULL)
		   OR (b.status = 'training' AND NOT EXISTS (
		       SELECT 1 FROM river_job j WHERE j.kind = 'train_bot' AND j.args->>'bot_id' = b.id::text))`).Scan(&n))
	return n
}
