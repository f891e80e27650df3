package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"

	"github.com/google/uuid"

	gen "github.com/chatsphere/bots/gen/client"
)

// Event is one change of a bot, from its owner's record of changes: who made it (a user's
// id, or "system" for training and the purge), for which request, when, and what changed.
type Event struct {
	// ID orders a bot's events: a later event has a greater one.
	ID    int64
	BotID uuid.UUID
	// Type is the kind of change: "bot.created", "bot.updated", "bot.deleted",
	// "bot.restored", "bot.duplicated", "bot.status_changed", "version.created",
	// "alias.moved" or "alias.deleted".
	Type  string
	Actor string
	// RequestID is the X-Request-Id of the request that made the change; empty for the
	// system's.
	RequestID string
	CreatedAt time.Time
	// Data is what changed, as the service sends it; its members depend on Type (for
	// "bot.updated", a JSON Patch under "patch").
	Data json.RawMessage
}

// Events iterates over the events of the caller's bot botID, newest first, every page, with
// the retries of Get; a non-empty typ keeps only the events of that type. Only the owner sees
// a bot's events: for anyone else the first value is a *Problem with Status 404.
func (c *Client) Events(ctx context.Context, botID uuid.UUID, typ string) iter.Seq2[Event, error] {
	return pages(ctx, c, toEvent, func(ctx context.Context, skip int) (*http.Response, error) {
		params := &gen.ListBotEventsParams{Skip: ptr(int32(skip))}
		if typ != "" {
			params.Type = ptr(gen.BotEventType(typ))
		}
		return c.api.ListBotEvents(ctx, botID, params)
	})
}

// toEvent converts the generated model at the one boundary where the SDK meets it.
func toEvent(e gen.BotEvent, _ string) Event {
	out := Event{ID: e.Id, BotID: e.BotId, Type: string(e.Type), Actor: e.Actor, CreatedAt: e.CreatedAt, Data: e.Data}
	if id, err := e.RequestId.Get(); err == nil {
		out.RequestID = id
	}
	return out
}
