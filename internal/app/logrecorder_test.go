package app_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// logRecorder is a thread-safe io.Writer that keeps what a command writes, line by line, and
// lets a test wait for a line without sleeping.
type logRecorder struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed and replaced whenever a line arrives or the command ends
	ended   bool
	err     error // what the command returned, once ended
}

func newLogRecorder() *logRecorder {
	return &logRecorder{changed: make(chan struct{})}
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.lines = append(r.lines, string(r.partial[:i]))
		r.partial = r.partial[i+1:]
	}
	r.notify()
	return len(p), nil
}

func (r *logRecorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// end records that the command returned err; waiters stop waiting for new lines.
func (r *logRecorder) end(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended, r.err = true, err
	r.notify()
}

// text returns everything written so far.
func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, line := range r.lines {
		b.WriteString(line + "\n")
	}
	b.Write(r.partial)
	return b.String()
}

// entries parses every complete line as a JSON object; a line that is not one fails the test,
// since the service promises JSON logs on stdout.
func (r *logRecorder) entries(t *testing.T) []map[string]any {
	t.Helper()
	r.mu.Lock()
	lines := slices.Clone(r.lines)
	r.mu.Unlock()
	return parseLogLines(t, lines)
}

func parseLogLines(t *testing.T, lines []string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(lines))
	for _, line := range lines {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "log line is not a JSON object: %q", line)
		out = append(out, entry)
	}
	return out
}

// waitFor returns the first log entry match accepts, waiting for it until appWaitLimit. It
// fails at once if the command ends without having logged it.
func (r *logRecorder) waitFor(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(appWaitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		lines, changed, ended, err := slices.Clone(r.lines), r.changed, r.ended, r.err
		r.mu.Unlock()
		for _, entry := range parseLogLines(t, lines) {
			if match(entry) {
				return entry
			}
		}
		if ended {
			t.Fatalf("the command returned %v without logging %s; it logged:\n%s", err, what, strings.Join(lines, "\n"))
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log line %s within %s; got:\n%s", what, appWaitLimit, strings.Join(lines, "\n"))
		}
	}
}

// requestLog waits for the request log line carrying id.
func (r *logRecorder) requestLog(t *testing.T, id string) map[string]any {
	t.Helper()
	return r.waitFor(t, "for request "+id, func(e map[string]any) bool {
		return e["msg"] == "request" && e["request_id"] == id
	})
}
