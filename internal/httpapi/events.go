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
	return api.ListBotEvents200JSONResponse{Body: listOf[api.BotEventList](page, skip, limit, botEventToAPI)}, nil
}

func botEventToAPI(e bots.BotEvent) api.BotEvent {
	return api.BotEvent{Id: e.ID, BotId: e.BotID, Type: api.BotEventType(e.Type), Actor: e.Actor,
		CreatedAt: e.CreatedAt, Data: e.Data, RequestId: orNull(e.RequestID)}
}
