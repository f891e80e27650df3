//go:build rssprobe

package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

// TestRSSAfterManyDistinctUsers is a one-off measurement, not a test of CI: it starts a built
// `bots serve` (BOTS_BINARY) on loopback against a database of its own, sends one
// GET /api/v1/models for each of RSS_USERS distinct users (1,000,000 by default) over
// 32 keep-alive connections, and prints the server's resident memory along the way, then
// its heap and garbage-collector settings from /metrics. It stops by itself after 25 minutes.
//
//	go build -o /tmp/bots ./cmd/bots
//	BOTS_BINARY=/tmp/bots go test -tags rssprobe -run TestRSSAfterManyDistinctUsers -v -timeout 30m ./internal/app/
func TestRSSAfterManyDistinctUsers(t *testing.T) {
	binary := os.Getenv("BOTS_BINARY")
	if binary == "" {
		t.Skip("set BOTS_BINARY to a built bots binary")
	}
	users := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("RSS_USERS")); err == nil && n > 0 {
		users = n
	}
	const workers = 32
	deadline := time.Now().Add(25 * time.Minute)

	srv, err := botsproc.Start(botsproc.Config{
		Binary: binary, Args: []string{"serve", "--no-workers"}, Stderr: os.Stderr,
		Env: []string{"DATABASE_URL=" + dbtest.URL(t), "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + appSecret},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	base := srv.URL()

	rss := func() string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Pid()))
		require.NoError(t, err)
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
		return strings.Join(out, ", ")
	}
	t.Logf("before the load: %s", rss())

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 30 * time.Second}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(users) {
					return
				}
				tok, err := auth.Issue([]byte(appSecret), uuid.New(), time.Hour, time.Now())
				if err != nil {
					failed.Add(1)
					continue
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/models", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if i%100_000 == 0 {
					t.Logf("%d users after %s: %s", i, time.Since(start).Round(time.Second), rss())
				}
			}
		}()
	}
	wg.Wait()
	sent := min(next.Load(), int64(users))
	t.Logf("RESULT users=%d failed=%d elapsed=%s %s", sent, failed.Load(), time.Since(start).Round(time.Second), rss())
	if res, err := client.Get(base + "/metrics"); err == nil {
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		for _, l := range strings.Split(string(body), "\n") {
			for _, name := range []string{"go_gc_gomemlimit_bytes ", "go_gc_gogc_percent ", "go_memstats_heap_inuse_bytes ", "go_memstats_heap_alloc_bytes "} {
				if strings.HasPrefix(l, name) {
					t.Log(l)
				}
			}
		}
	}
}
