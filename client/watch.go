package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	gen "github.com/chatsphere/bots/gen/client"
)

// StatusEvent is one change of a bot's status.
type StatusEvent struct {
	// ID increases with every event; WatchStatus resumes after the last one it saw.
	ID    int64
	BotID uuid.UUID
	// From is the status before the change; empty for the bot's first status.
	From Status
	To   Status
	// Message is the bot's status message after the change (why it is in error); empty
	// when it has none.
	Message   string
	CreatedAt time.Time
}

// ErrGone ends a WatchStatus when the bot is deleted or the caller may no longer see it.
var ErrGone = errors.New("bots api: the bot is gone")

// maxEventLine bounds one line of a status stream; an event is a few hundred bytes.
const maxEventLine = 1 << 20

// WatchStatus follows the status of the bot id as it changes. The sequence starts with the
// bot's latest status event, then yields each change as it happens. It reads the service's
// event stream as it arrives and, when the connection drops, reconnects with the id of the
// last event it yielded (Last-Event-ID), so that no change is missed or yielded twice.
// Reconnects follow the retry policy of reads (WithRetry): while the service cannot be
// reached, tries with a growing backoff until the budget of waiting is spent; a stream the
// service refuses with 503 or 429, at most that many tries; an event or a heartbeat of the
// service (every 15 seconds) starts the count again. A stream that delivers nothing for
// StreamSilence (a frozen service, or a connection lost without a word) is resumed as a
// dropped one is.
//
// It is an iterator rather than a channel so that a caller that stops ranging closes the
// stream at once, and no goroutine outlives it. The sequence runs until the caller stops or
// an error ends it; an error is always the last value:
//   - ErrGone when the bot is deleted or stops being visible to the caller;
//   - ctx.Err() when ctx ends;
//   - a *Problem when the service refuses the stream (404 for a bot the caller cannot
//     see), for good or as often as the policy allows;
//   - an error that matches ErrUnreachable when the service could not be reached (or the
//     stream kept breaking off) for the whole budget: how the bot went on is unknown.
func (c *Client) WatchStatus(ctx context.Context, id uuid.UUID) iter.Seq2[StatusEvent, error] {
	return func(yield func(StatusEvent, error) bool) {
		var last *int64
		var spent retries
		for {
			began := time.Now()
			r, progressed, err := c.watchOnce(ctx, id, &last, yield)
			took := time.Since(began)
			if errors.Is(err, errWatchOver) {
				return
			}
			if ctx.Err() != nil {
				yield(StatusEvent{}, ctx.Err())
				return
			}
			if progressed {
				spent, took = retries{}, 0
			}
			wait, retry := c.next(&spent, r, err, true, took)
			if !retry {
				if err == nil {
					err = problemOf(r)
				}
				yield(StatusEvent{}, unreachable(err))
				return
			}
			if err := pause(ctx, wait); err != nil {
				yield(StatusEvent{}, err)
				return
			}
		}
	}
}

// errWatchOver says a watch ended: the caller stopped, or its last value was yielded.
var errWatchOver = errors.New("watch over")

// errSilent ends a stream that delivered nothing for the Client's silence bound.
var errSilent = errors.New("no event or heartbeat for too long")

// droppedError is a stream that ended after the service accepted it.
type droppedError struct{ err error }

func (e *droppedError) Error() string { return "bots api: status stream dropped: " + e.err.Error() }
func (e *droppedError) Unwrap() error { return e.err }

// watchOnce opens one stream after *last and yields its events. It returns the answer of a
// refused stream, whether the stream delivered an event or a heartbeat before it ended, and
// a connection error, a *droppedError or errWatchOver.
func (c *Client) watchOnce(ctx context.Context, id uuid.UUID, last **int64, yield func(StatusEvent, error) bool) (reply, bool, error) {
	// The stream's own context ends it when it stays silent; every line read puts that off.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	silence := time.AfterFunc(c.silence, func() { cancel(errSilent) })
	defer silence.Stop()
	res, err := c.api.StreamBotStatus(ctx, id, &gen.StreamBotStatusParams{LastEventID: *last})
	if err != nil {
		return reply{}, false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
		if err != nil {
			return reply{}, false, &droppedError{err}
		}
		return reply{status: res.StatusCode, header: res.Header, body: body}, false, nil
	}
	progressed := false
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, maxEventLine)
	var event, data string
	for sc.Scan() {
		silence.Reset(c.silence)
		line := sc.Text()
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			ev, gone, err := dispatch(event, data)
			event, data = "", ""
			switch {
			case err != nil:
				yield(StatusEvent{}, err)
				return reply{}, true, errWatchOver
			case gone:
				yield(StatusEvent{}, ErrGone)
				return reply{}, true, errWatchOver
			case ev == nil:
				continue
			}
			progressed = true
			*last = &ev.ID
			if !yield(*ev, nil) {
				return reply{}, true, errWatchOver
			}
		case field == "":
			progressed = true // a comment: the service's heartbeat
		case field == "event":
			event = value
		case field == "data":
			if data != "" {
				data += "\n"
			}
			data += value
		}
	}
	err = sc.Err()
	if errors.Is(context.Cause(ctx), errSilent) {
		err = fmt.Errorf("%w (%s)", errSilent, c.silence)
	}
	if err == nil {
		err = io.ErrUnexpectedEOF // the service never ends a stream but with a gone event
	}
	return reply{}, progressed, &droppedError{err}
}

// dispatch turns one complete event of the stream into a StatusEvent (nil for an event this
// SDK does not know, which later versions of the service may send), or says the bot is gone.
func dispatch(event, data string) (*StatusEvent, bool, error) {
	switch event {
	case "gone":
		return nil, true, nil
	case "status":
	default:
		return nil, false, nil
	}
	var e gen.StatusEvent
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return nil, false, fmt.Errorf("bots api: read status event: %w", err)
	}
	out := &StatusEvent{ID: e.Id, BotID: e.BotId, To: Status(e.ToStatus), CreatedAt: e.CreatedAt}
	if from, err := e.FromStatus.Get(); err == nil {
		out.From = Status(from)
	}
	if m, err := e.Message.Get(); err == nil {
		out.Message = m
	}
	return out, false, nil
}
