// Package botsproc runs the real `bots` binary as a child process, for the tests, the fault
// drills and the benchmark that need the service as it is deployed: it builds the binary once
// per process, starts `bots serve` or `bots worker` with an environment, reads the JSON log
// for the address it listens on, and stops or kills it.
package botsproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WaitLimit bounds how long Start waits for the ready line and Stop for the exit after its
// SIGTERM: long enough for a migration run and a shutdown on a loaded machine.
const WaitLimit = 60 * time.Second

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// Binary returns the path of a `bots` binary built from this module, building it on the
// first call only: every process that starts servers pays for one build.
func Binary() (string, error) {
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "bots-binary"); buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "bots")
		build := exec.Command("go", "build", "-o", buildPath, "github.com/chatsphere/bots/cmd/bots")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			buildErr = fmt.Errorf("build bots: %w", err)
		}
	})
	return buildPath, buildErr
}

// RemoveBinary deletes the binary Binary built, if it built one. Call it once no process
// needs the binary any more, for example at the end of TestMain.
func RemoveBinary() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// Config says which process to start and how.
type Config struct {
	// Binary is the bots binary to run; empty: the one Binary builds.
	Binary string
	// Args are the command and its flags, for example {"serve"}, {"serve", "--no-workers"}
	// or {"worker"}.
	Args []string
	// Env are KEY=VALUE settings added to this process's environment; a later one wins.
	Env []string
	// Log receives the process's standard output, its JSON log, line by line; nil: the log
	// is read and dropped, as a log collector would.
	Log io.Writer
	// Stderr receives the process's standard error; nil: it is kept only for the error of a
	// process that stops before it is ready.
	Stderr io.Writer
}

// Process is a running `bots serve` or `bots worker`.
type Process struct {
	// Addr is the host:port `serve` listens on, as its "listening" line gives it; empty for
	// `worker`.
	Addr string
	// ProfilerAddr is the host:port of the profiler, when DEBUG_ADDR is set.
	ProfilerAddr string

	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and its output is read
	err    error         // what cmd.Wait returned, once exited is closed
}

// Start starts the process and waits until it is ready: for `serve`, until it logs that it
// listens; for `worker`, until it logs that it works. A process that exits first, or is not
// ready within WaitLimit, is an error that quotes its standard error.
func Start(c Config) (*Process, error) {
	bin := c.Binary
	if bin == "" {
		var err error
		if bin, err = Binary(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	ready := make(chan struct{})
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	log := &logReader{p: p, ready: ready, out: c.Log}
	cmd.Stdout = log
	stderr := &tail{max: 4 << 10}
	cmd.Stderr = stderr
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, c.Stderr)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		// Wait returns once the process has exited and its output has been copied.
		p.err = cmd.Wait()
		close(p.exited)
	}()
	what := "bots " + strings.Join(c.Args, " ")
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s stopped before it was ready (%v): %s", what, p.err, stderr)
	case <-time.After(WaitLimit):
		_ = p.Kill()
		return nil, fmt.Errorf("%s was not ready within %s: %s", what, WaitLimit, stderr)
	}
}

// URL is the base URL of the API, http://Addr.
func (p *Process) URL() string { return "http://" + p.Addr }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Wait waits for the process to exit and returns how it exited, as exec.Cmd.Wait does. It
// may be called any number of times.
func (p *Process) Wait() error {
	<-p.exited
	return p.err
}

// Stop asks the process to shut down with SIGTERM and waits for it to exit; a process still
// running after WaitLimit is killed. It returns how the process exited: nil for a clean stop.
func (p *Process) Stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(WaitLimit):
		_ = p.Kill()
		return fmt.Errorf("bots did not stop within %s of SIGTERM and was killed", WaitLimit)
	}
}

// Kill ends the process with SIGKILL, with no shutdown at all, and waits for it to exit. It
// does nothing to a process that has exited already.
func (p *Process) Kill() error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return nil
}

// logReader reads the process's JSON log line by line until the process is ready, then only
// passes it on.
type logReader struct {
	p       *Process
	ready   chan struct{}
	out     io.Writer
	partial []byte
	done    bool // ready was closed
}

func (r *logReader) Write(b []byte) (int, error) {
	if r.out != nil {
		if _, err := r.out.Write(b); err != nil {
			r.out = nil // a writer that fails stops getting the log; the process goes on
		}
	}
	if r.done {
		return len(b), nil
	}
	r.partial = append(r.partial, b...)
	for !r.done {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.line(r.partial[:i])
		r.partial = r.partial[i+1:]
	}
	if r.done {
		r.partial = nil
	}
	return len(b), nil
}

// line notes what one log line says about where the process listens and whether it is ready.
func (r *logReader) line(raw []byte) {
	var entry struct{ Msg, Addr string }
	if json.Unmarshal(raw, &entry) != nil {
		return
	}
	switch entry.Msg {
	case "profiler listening":
		r.p.ProfilerAddr = entry.Addr
	case "listening":
		r.p.Addr = entry.Addr
		r.done = true
	case "working":
		r.done = true
	}
	if r.done {
		close(r.ready)
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return "it wrote nothing to standard error"
	}
	return strings.TrimSpace(string(t.buf))
}
