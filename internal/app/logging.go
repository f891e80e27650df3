package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushInterval is the longest an info line waits in the log buffer.
const logFlushInterval = 100 * time.Millisecond

// newLogger returns the command's JSON logger on w and a function that writes out what is
// still buffered and stops the flusher; call it when the command ends.
//
// Lines are buffered: a busy server writes a request line per request, and a write(2) for
// each cost about 5% of the server's CPU under load. Warnings and errors are written at once,
// info and debug lines within logFlushInterval.
func newLogger(w io.Writer, level slog.Level) (*slog.Logger, func()) {
	buf := newLogBuffer(w, logFlushInterval)
	h := slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level})
	return slog.New(flushOnWarn{Handler: h, buf: buf}), buf.close
}

// logBuffer collects whole log lines and writes them out when it fills, every interval, on
// demand and when closed.
type logBuffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newLogBuffer(w io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.flush()
			case <-b.stop:
				return
			}
		}
	}()
	return b
}

// Write takes one line from the handler, which writes each record in one call.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

func (b *logBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.w.Flush() // there is nowhere left to report a failing log output
}

func (b *logBuffer) close() {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.flush()
	})
}

// flushOnWarn writes the buffer out after every record of level warning or above, so that
// problems are seen at once.
type flushOnWarn struct {
	slog.Handler
	buf *logBuffer
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{Handler: h.Handler.WithAttrs(attrs), buf: h.buf}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{Handler: h.Handler.WithGroup(name), buf: h.buf}
}
