package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lockedBuffer is the log output under test, safe to read while the logger writes.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n")
}

func (l *lockedBuffer) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logTo makes a logger at level that writes to a new lockedBuffer.
func logTo(level slog.Level) (*lockedBuffer, *slog.Logger, func()) {
	out := &lockedBuffer{}
	logger, closeLogs := newLogger(out, level)
	return out, logger, closeLogs
}

func TestLogger(t *testing.T) {
	t.Parallel()

	t.Run("CloseWritesEveryLineInOrderInFewWrites", func(t *testing.T) {
		t.Parallel()
		out, logger, closeLogs := logTo(slog.LevelInfo)
		for i := range 1000 {
			logger.Info("request", slog.Int("n", i))
		}
		closeLogs()
		lines := out.lines()
		require.Len(t, lines, 1000)
		for i, line := range lines {
			var e map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &e), "line %d is not JSON: %s", i, line)
			require.EqualValues(t, i, e["n"])
		}
		require.Less(t, out.writes, 100, "1000 lines must be written in batches, not one write each")
	})

	t.Run("InfoLinesAreWrittenWithoutWaitingForMore", func(t *testing.T) {
		t.Parallel()
		out, logger, closeLogs := logTo(slog.LevelInfo)
		defer closeLogs()
		logger.Info("listening")
		require.Eventually(t, func() bool { return strings.Contains(out.text(), `"listening"`) },
			5*time.Second, 5*time.Millisecond, "a lone info line must be written by the flusher")
	})

	t.Run("WarningsAreWrittenAtOnceWithWhatCameBefore", func(t *testing.T) {
		t.Parallel()
		out, logger, closeLogs := logTo(slog.LevelInfo)
		defer closeLogs()
		logger.Info("before")
		logger.With(slog.String("component", "db")).Warn("database unavailable")
		text := out.text()
		require.Contains(t, text, `"before"`)
		require.Contains(t, text, `"database unavailable"`)
		require.Contains(t, text, `"component":"db"`)
	})

	t.Run("TheLevelStillFilters", func(t *testing.T) {
		t.Parallel()
		out, logger, closeLogs := logTo(slog.LevelWarn)
		logger.Info("hidden")
		logger.WithGroup("g").Error("shown", slog.String("k", "v"))
		closeLogs()
		require.NotContains(t, out.text(), "hidden")
		require.Contains(t, out.text(), `"g":{"k":"v"}`)
	})

	t.Run("ConcurrentLinesStayWhole", func(t *testing.T) {
		t.Parallel()
		out, logger, closeLogs := logTo(slog.LevelInfo)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					logger.Info("request", slog.String("who", fmt.Sprintf("%d-%d", g, i)))
				}
			})
		}
		wg.Wait()
		closeLogs()
		closeLogs() // a second close is harmless
		lines := out.lines()
		require.Len(t, lines, 1600)
		seen := make(map[string]bool)
		for _, line := range lines {
			var e map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &e), "torn line: %s", line)
			seen[e["who"].(string)] = true
		}
		require.Len(t, seen, 1600)
	})
}

// countingWriter counts the writes that reach the log's output.
type countingWriter struct{ writes int }

func (c *countingWriter) Write(p []byte) (int, error) { c.writes++; return len(p), nil }

// BenchmarkRequestLogLine writes the line the server logs for every request; writes/op shows
// how many writes reach the output per line.
func BenchmarkRequestLogLine(b *testing.B) {
	out := &countingWriter{}
	logger, closeLogs := newLogger(out, slog.LevelInfo)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		logger.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", "GET"),
			slog.String("route", "/api/v1/bots/:bot_id"),
			slog.Int("status", 200),
			slog.Float64("duration_ms", 1.234),
			slog.String("user_id", "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"),
			slog.String("request_id", "8b7a4c3e-2f1d-4e5c-9a8b-7c6d5e4f3a2b"),
		)
	}
	closeLogs() // the flusher has stopped: writes can be read
	b.ReportMetric(float64(out.writes)/float64(b.N), "writes/op")
}
