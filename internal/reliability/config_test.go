//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

// TestAliasMovesReachTheOtherReplica measures how long an alias moved on one replica takes to
// be served by the other, whose runtime read path answers from memory: the time from the
// moving PUT's answer to the first read on the other replica that shows the move. Then it cuts
// the other replica's notification connection and checks that no read serves a move it may
// have missed.
func TestAliasMovesReachTheOtherReplica(t *testing.T) {
	url := dbtest.URL(t)
	a, b := startServer(t, url), startServer(t, url)
	_, tok := token(t)
	client := &http.Client{Timeout: 15 * time.Second}
	call := func(base, method, path string, body any) (int, []byte) {
		t.Helper()
		var raw []byte
		if body != nil {
			raw, _ = json.Marshal(body)
		}
		req, err := http.NewRequest(method, base+path, bytes.NewReader(raw))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		return res.StatusCode, buf.Bytes()
	}
	served := func(base, path string) int32 {
		t.Helper()
		code, body := call(base, http.MethodGet, path+"/config?alias=production", nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var c struct {
			Version int32 `json:"version"`
		}
		require.NoError(t, json.Unmarshal(body, &c))
		return c.Version
	}

	// A bot with two active versions: the second only changes the temperature.
	code, body := call(a.URL(), http.MethodPost, "/api/v1/bots", map[string]any{"name": "Replicated", "model": "gpt-4o-mini", "temperature": 0.2})
	require.Equal(t, http.StatusCreated, code, string(body))
	var bot struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(body, &bot))
	path := "/api/v1/bots/" + bot.ID
	require.Eventually(t, func() bool {
		_, body := call(a.URL(), http.MethodGet, path, nil)
		return bytes.Contains(body, []byte(`"status":"active"`))
	}, 30*time.Second, 20*time.Millisecond)
	code, body = call(a.URL(), http.MethodPut, path, map[string]any{"temperature": 0.3})
	require.Equal(t, http.StatusOK, code, string(body))
	code, body = call(a.URL(), http.MethodPut, path+"/aliases/production", map[string]any{"version": 1})
	require.Equal(t, http.StatusCreated, code, string(body))
	require.Eventually(t, func() bool { return served(b.URL(), path) == 1 }, 10*time.Second, time.Millisecond)

	const moves = 300
	delays := make([]time.Duration, 0, moves)
	polls := 0
	for i := range moves {
		target := int32(2 - i%2)
		code, body := call(a.URL(), http.MethodPut, path+"/aliases/production", map[string]any{"version": target})
		require.Equal(t, http.StatusOK, code, string(body))
		acked := time.Now()
		for served(b.URL(), path) != target {
			polls++
			require.Less(t, time.Since(acked), 10*time.Second, "the other replica never saw move %d", i)
		}
		delays = append(delays, time.Since(acked))
	}
	slices.Sort(delays)
	at := func(q float64) time.Duration { return delays[int(q*float64(len(delays)-1))] }
	report(t, "alias moves on replica A seen by replica B after the PUT's answer: p50 %s, p99 %s, max %s over %d moves (%d reads of B showed the previous version)",
		at(0.5).Round(10*time.Microsecond), at(0.99).Round(10*time.Microsecond), delays[len(delays)-1].Round(10*time.Microsecond), moves, polls)

	// Cut every notification connection. Until a replica notices, it serves what it holds;
	// from the moment it does until it listens again (a second later at the earliest), a move
	// made on A reaches it by no notification, so B must read every move from the database.
	metric := func(name string) string {
		_, body := call(b.URL(), http.MethodGet, "/metrics", nil)
		for line := range bytes.Lines(body) {
			if bytes.HasPrefix(line, []byte(name+" ")) {
				return string(bytes.TrimSpace(line))
			}
		}
		return ""
	}
	const inUse, bypassed = "bots_config_cache_in_use 1", "bots_config_cache_in_use 0"
	require.Equal(t, inUse, metric("bots_config_cache_in_use"))
	pool := openPool(t, url)
	var cut int
	cutAt := time.Now()
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'listen %'`).Scan(&cut))
	require.Positive(t, cut, "the replicas' notification connections")
	require.Eventually(t, func() bool { return metric("bots_config_cache_in_use") == bypassed }, 10*time.Second, time.Millisecond)
	noticed := time.Since(cutAt)
	stale, reads, moved := 0, 0, 0
	for i := 0; ; i++ {
		if metric("bots_config_cache_in_use") != bypassed {
			break
		}
		target := int32(2 - i%2)
		code, body := call(a.URL(), http.MethodPut, path+"/aliases/production", map[string]any{"version": target})
		require.Equal(t, http.StatusOK, code, string(body))
		seen := make([]int32, 5)
		for j := range seen {
			seen[j] = served(b.URL(), path)
		}
		if metric("bots_config_cache_in_use") != bypassed {
			break // B listens again: its reads may have come from the cache
		}
		moved++
		for _, v := range seen {
			reads++
			if v != target {
				stale++
			}
		}
	}
	report(t, "notification connections cut: %d; B noticed after %s; while it read from the database, %d moves on A, %d reads of B right after them, stale: %d",
		cut, noticed.Round(100*time.Microsecond), moved, reads, stale)
	require.Positive(t, moved)
	require.Zero(t, stale, "a move made while B's feed was down was served stale")

	// Once B listens again, it serves from memory again.
	require.Eventually(t, func() bool { return metric("bots_config_cache_in_use") == inUse }, 10*time.Second, 10*time.Millisecond)
	before := metric(`bots_config_cache_requests_total{result="hit"}`)
	served(b.URL(), path)
	served(b.URL(), path)
	require.NotEqual(t, before, metric(`bots_config_cache_requests_total{result="hit"}`))
}
