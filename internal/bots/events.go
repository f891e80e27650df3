package bots

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/gen/db"
)

// EventType names the kind of change an event records: one of openapi.yaml's BotEventType,
// which says what each records. Triggers record them (migration 0016_bot_events.sql), in the
// transaction of the write: no write path can leave one out.
type EventType string

// ActorSystem is the actor of the changes no user made: the training worker's and the purge's.
const ActorSystem = "system"

// BotEvent is one recorded change of a bot. ID orders a bot's events; Actor is the user's id or
// ActorSystem; RequestID is nil for the system's changes; Data is the JSON recorded with it,
// as the events endpoint shows it.
type BotEvent struct {
	ID        int64
	BotID     uuid.UUID
	Type      EventType
	Actor     string
	RequestID *string
	CreatedAt time.Time
	Data      json.RawMessage
}

// BotEventPage is one page of a bot's events and the number of events over all pages.
type BotEventPage = PageOf[BotEvent]

type requestIDKey struct{}

// WithRequestID returns a context that carries the id of the request a write serves, which
// the write's events record.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries; "" (recorded as none) when there is none.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Events returns a page of the events of a bot the caller owns, newest first, only those of
// typ unless it is nil. The trail is the owner's: a public bot's viewers get ErrNotFound, as
// for a bot they may not see.
func (s *Service) Events(ctx context.Context, caller, id uuid.UUID, typ *EventType, skip, limit int32) (BotEventPage, error) {
	if typ == nil {
		return CountedPage(ctx, s.pool, "events", ErrNotFound,
			s.q.BotEventCount, db.BotEventCountParams{BotID: id, Caller: caller},
			s.q.BotEventList, db.BotEventListParams{BotID: id, Caller: caller, Off: skip, Lim: limit},
			botEventFromDB)
	}
	return CountedPage(ctx, s.pool, "events", ErrNotFound,
		s.q.BotEventCountByType, db.BotEventCountByTypeParams{BotID: id, Caller: caller, Type: string(*typ)},
		s.q.BotEventListByType, db.BotEventListByTypeParams{BotID: id, Caller: caller, Type: string(*typ), Off: skip, Lim: limit},
		botEventFromDB)
}

func botEventFromDB(r db.BotEvent) BotEvent {
	return BotEvent{ID: r.ID, BotID: r.BotID, Type: EventType(r.Type), Actor: r.Actor, RequestID: r.RequestID,
		CreatedAt: r.CreatedAt, Data: r.Data}
}
