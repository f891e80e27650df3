package httpapi

import (
	"context"
	"errors"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// ListBotEvents answers with a page of the changes of a bot the caller owns.
func (h *Handler) ListBotEvents(ctx context.Context, req api.ListBotEventsRequestObject) (api.ListBotEventsResponseObject, error) {
	skip, limit := deref(req.Params.Skip), deref(req.Params.Limit)
	page, err := h.bots.Events(ctx, auth.User(ctx), req.BotId, (*bots.EventType)(req.Params.Type), skip, limit)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.ListBotEvents404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	out := api.BotEventList{Items: make([]api.BotEvent, len(page.Items)), Total: page.Total, Skip: skip, Limit: limit}
	for i, e := range page.Items {
		item := api.BotEvent{Id: e.ID, BotId: e.BotID, Type: api.BotEventType(e.Type), Actor: e.Actor,
			CreatedAt: e.CreatedAt, Data: e.Data}
		item.RequestId.SetNull()
		if e.RequestID != nil {
			item.RequestId.Set(*e.RequestID)
		}
		out.Items[i] = item
	}
	return api.ListBotEvents200JSONResponse{Body: out}, nil
}
