package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/statusfeed"
)

// ListBotStatusEvents returns a bot's status history.
func (h *Handler) ListBotStatusEvents(ctx context.Context, req api.ListBotStatusEventsRequestObject) (api.ListBotStatusEventsResponseObject, error) {
	skip, limit := deref(req.Params.Skip), deref(req.Params.Limit)
	page, err := h.bots.StatusEvents(ctx, auth.User(ctx), req.BotId, skip, limit)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.ListBotStatusEvents404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.ListBotStatusEvents200JSONResponse{Body: listOf[api.StatusEventList](page, skip, limit, eventToAPI)}, nil
}

// StreamBotStatus answers with a Server-Sent Events stream of the bot's status changes.
func (h *Handler) StreamBotStatus(ctx context.Context, req api.StreamBotStatusRequestObject) (api.StreamBotStatusResponseObject, error) {
	caller := auth.User(ctx)
	if !h.streams.acquire(caller) {
		p := newProblem(ctx, kindTooManyStreams, "you have too many status streams open; close one first")
		return api.StreamBotStatus429ApplicationProblemPlusJSONResponse{TooManyRequestsApplicationProblemPlusJSONResponse: api.TooManyRequestsApplicationProblemPlusJSONResponse{
			Body: p, Headers: api.TooManyRequestsResponseHeaders{RetryAfter: ptr(5)},
		}}, nil
	}
	// Subscribe before reading, so that no change falls between the read and the stream.
	wake, unsubscribe := h.feed.Subscribe(req.BotId)
	done := func() {
		unsubscribe()
		h.streams.release(caller)
	}
	after := deref(req.Params.LastEventID)
	var first []bots.StatusEvent
	var err error
	if req.Params.LastEventID != nil {
		first, err = h.bots.StatusEventsAfter(ctx, caller, req.BotId, after)
	} else {
		var page bots.EventPage
		page, err = h.bots.StatusEvents(ctx, caller, req.BotId, 0, 1)
		first = page.Items
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		done()
		return api.StreamBotStatus404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case err != nil:
		done()
		return nil, err
	}
	return &statusStream{
		ctx: ctx, h: h, caller: caller, bot: req.BotId,
		wake: wake, unsubscribe: done, first: first, after: after,
	}, nil
}

// statusStream writes one bot's status events until the client leaves.
type statusStream struct {
	ctx         context.Context
	h           *Handler
	caller, bot uuid.UUID
	wake        <-chan struct{}
	unsubscribe func()
	first       []bots.StatusEvent
	after       int64
}

// VisitStreamBotStatusResponse implements api.StreamBotStatusResponseObject.
func (s *statusStream) VisitStreamBotStatusResponse(w http.ResponseWriter) error {
	defer s.unsubscribe()
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary answers; a stream lives as long as its client.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := s.send(w, rc, s.first); err != nil {
		return nil // the client left
	}
	// A reconnecting client may have missed more than one page.
	if len(s.first) == bots.EventsAfterPage && s.sendNew(w, rc) {
		return nil
	}

	heartbeat := time.NewTicker(s.h.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return nil
		case <-s.h.stopping:
			return nil
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		case <-s.wake:
			// A wake-up is a status change or a change of who may see the bot: both are
			// read again from the database, scoped to the caller.
			if s.sendNew(w, rc) {
				return nil
			}
		}
	}
}

// sendNew sends every event after the last one sent, page by page, and reports whether the
// stream is over: the client left, or the caller may no longer see the bot, which the stream
// tells with a gone event.
func (s *statusStream) sendNew(w http.ResponseWriter, rc *http.ResponseController) bool {
	for {
		events, err := s.h.bots.StatusEventsAfter(s.ctx, s.caller, s.bot, s.after)
		if errors.Is(err, bots.ErrNotFound) {
			_, _ = fmt.Fprintf(w, "event: gone\ndata: {\"bot_id\":%q}\n\n", s.bot)
			_ = rc.Flush()
			return true
		}
		if err != nil {
			if s.ctx.Err() != nil {
				return true
			}
			// The database hiccupped; the next wake-up or reconnect catches up.
			s.h.logger.Warn("status stream read", "error", err.Error(), "bot_id", s.bot.String())
			return false
		}
		if err := s.send(w, rc, events); err != nil {
			return true
		}
		if len(events) < bots.EventsAfterPage {
			return false
		}
	}
}

func (s *statusStream) send(w http.ResponseWriter, rc *http.ResponseController, events []bots.StatusEvent) error {
	for _, e := range events {
		data, err := json.Marshal(eventToAPI(e))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: status\ndata: %s\n\n", e.ID, data); err != nil {
			return err
		}
		s.after = e.ID
	}
	return rc.Flush()
}

func eventToAPI(e bots.StatusEvent) api.StatusEvent {
	return api.StatusEvent{Id: e.ID, BotId: e.BotID, ToStatus: api.BotStatus(e.To), CreatedAt: e.CreatedAt,
		FromStatus: orNull((*api.StatusEventFromStatus)(e.From)), Message: orNull(e.Message)}
}

// feed is what status streams need of statusfeed.Feed.
type feed interface {
	Subscribe(bot uuid.UUID) (<-chan struct{}, func())
}

var _ feed = (*statusfeed.Feed)(nil)
