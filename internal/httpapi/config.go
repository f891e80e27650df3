package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// GetBotConfig returns the configuration a chat runtime runs: an active version of the bot,
// by alias, by number or the latest active one, or 304 when If-None-Match holds its ETag.
func (h *Handler) GetBotConfig(ctx context.Context, req api.GetBotConfigRequestObject) (api.GetBotConfigResponseObject, error) {
	p := req.Params
	if p.Alias != nil && p.Version != nil {
		v := &bots.ValidationError{Fields: []bots.FieldError{{Field: "version", Message: "cannot be given with alias: pick the version one way"}}}
		return api.GetBotConfig422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Query, v)}, nil
	}
	c, err := h.bots.RuntimeConfig(ctx, auth.User(ctx), req.BotId, bots.RuntimeSelector{Alias: p.Alias, Version: p.Version})
	if nr, ok := errors.AsType[*bots.NotReadyError](err); ok {
		return api.GetBotConfig409ApplicationProblemPlusJSONResponse{VersionNotReadyApplicationProblemPlusJSONResponse: api.VersionNotReadyApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindVersionNotReady, nr.Error()+"; only an active version can be run"))}, nil
	}
	switch {
	case errors.Is(err, bots.ErrAliasNotFound):
		return api.GetBotConfig404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindNotFound, fmt.Sprintf("the bot has no alias named %q", *p.Alias)))}, nil
	case errors.Is(err, bots.ErrNotFound):
		return api.GetBotConfig404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindNotFound, "no bot with this id, or the bot has no version with this number"))}, nil
	case err != nil:
		return nil, err
	}
	// By number the answer never changes; by alias or as the latest it can, at any time.
	headers := api.GetBotConfig200ResponseHeaders{ETag: `"` + strconv.FormatInt(int64(c.Version), 10) + `"`, CacheControl: "private, no-cache"}
	if p.Version != nil {
		headers.CacheControl = immutable
	}
	if tagListHas(p.IfNoneMatch, headers.ETag) {
		return api.GetBotConfig304Response{Headers: api.GetBotConfig304ResponseHeaders(headers)}, nil
	}
	body := api.BotConfig{
		BotId:          c.BotID,
		Version:        c.Version,
		Model:          c.Model,
		Temperature:    c.Temperature,
		SystemPrompt:   c.SystemPrompt,
		PreparedConfig: c.Prepared,
		Alias:          orNull(c.Alias),
	}
	return api.GetBotConfig200JSONResponse{Body: body, Headers: headers}, nil
}
