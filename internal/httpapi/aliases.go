package httpapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// ListBotAliases returns every alias of a bot, by name.
func (h *Handler) ListBotAliases(ctx context.Context, req api.ListBotAliasesRequestObject) (api.ListBotAliasesResponseObject, error) {
	aliases, err := h.bots.Aliases(ctx, auth.User(ctx), req.BotId)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.ListBotAliases404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.ListBotAliases200JSONResponse{Body: api.BotAliasList{Items: apiItems(aliases, aliasToAPI)}}, nil
}

// GetBotAlias returns one alias, or 304 when If-None-Match holds its ETag.
func (h *Handler) GetBotAlias(ctx context.Context, req api.GetBotAliasRequestObject) (api.GetBotAliasResponseObject, error) {
	a, err := h.bots.Alias(ctx, auth.User(ctx), req.BotId, req.Alias)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.GetBotAlias404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: aliasNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	tag := etag(a.Etag)
	if parseEntityTags(req.Params.IfNoneMatch, true).match(a.Etag) {
		return api.GetBotAlias304Response{Headers: api.GetBotAlias304ResponseHeaders{ETag: tag}}, nil
	}
	return api.GetBotAlias200JSONResponse{Body: aliasToAPI(a), Headers: api.GetBotAlias200ResponseHeaders{ETag: tag}}, nil
}

// PutBotAlias points an alias at a version: 201 when the alias is new, 200 otherwise.
func (h *Handler) PutBotAlias(ctx context.Context, req api.PutBotAliasRequestObject) (api.PutBotAliasResponseObject, error) {
	cond := bots.AliasCondition{MustExist: req.Params.IfMatch != nil, Etags: aliasIfMatch(req.Params.IfMatch)}
	if req.Params.IfNoneMatch != nil && parseEntityTags(req.Params.IfNoneMatch, true).any {
		cond.CreateOnly = true
	}
	a, created, err := h.bots.PutAlias(ctx, auth.User(ctx), req.BotId, req.Alias, req.Body.Version, cond)
	if nr, ok := errors.AsType[*bots.NotReadyError](err); ok {
		return aliasPutConflict(ctx, kindVersionNotReady, nr.Error()+"; only an active version can be aliased"), nil
	}
	var pre *bots.AliasPreconditionError
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.PutBotAlias404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.PutBotAlias403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case errors.Is(err, bots.ErrVersionNotFound):
		return api.PutBotAlias404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindNotFound, fmt.Sprintf("the bot has no version %d", req.Body.Version)))}, nil
	case errors.Is(err, bots.ErrTooManyAliases):
		return aliasPutConflict(ctx, kindTooManyAliases, fmt.Sprintf("the bot already has the most aliases a bot may have, %d; delete one it no longer needs (DELETE /api/v1/bots/{bot_id}/aliases/{alias}) to create another, or move an existing alias to this version", bots.MaxAliases)), nil
	case errors.As(err, &pre):
		return api.PutBotAlias412ApplicationProblemPlusJSONResponse{AliasPreconditionFailedApplicationProblemPlusJSONResponse: aliasPreconditionFailed(ctx, pre,
			"the alias has changed since you read it (If-Match does not match its ETag), or it exists and If-None-Match: * forbids that; fetch it again and retry")}, nil
	case err != nil:
		return nil, err
	}
	if created {
		loc := "/api/v1/bots/" + req.BotId.String() + "/aliases/" + a.Name
		return api.PutBotAlias201JSONResponse{Body: aliasToAPI(a), Headers: api.PutBotAlias201ResponseHeaders{ETag: etag(a.Etag), Location: loc}}, nil
	}
	return api.PutBotAlias200JSONResponse{Body: aliasToAPI(a), Headers: api.PutBotAlias200ResponseHeaders{ETag: etag(a.Etag)}}, nil
}

// DeleteBotAlias deletes an alias; If-Match makes the delete conditional.
func (h *Handler) DeleteBotAlias(ctx context.Context, req api.DeleteBotAliasRequestObject) (api.DeleteBotAliasResponseObject, error) {
	err := h.bots.DeleteAlias(ctx, auth.User(ctx), req.BotId, req.Alias, aliasIfMatch(req.Params.IfMatch))
	var pre *bots.AliasPreconditionError
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.DeleteBotAlias404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrAliasNotFound):
		return api.DeleteBotAlias404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: aliasNotFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.DeleteBotAlias403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case errors.As(err, &pre):
		return api.DeleteBotAlias412ApplicationProblemPlusJSONResponse{AliasPreconditionFailedApplicationProblemPlusJSONResponse: aliasPreconditionFailed(ctx, pre,
			"the alias has changed since you read it (If-Match does not match its ETag); fetch it again and retry")}, nil
	case err != nil:
		return nil, err
	}
	return api.DeleteBotAlias204Response{}, nil
}

// GetBotAliasHistory returns a page of an alias's moves, newest first.
func (h *Handler) GetBotAliasHistory(ctx context.Context, req api.GetBotAliasHistoryRequestObject) (api.GetBotAliasHistoryResponseObject, error) {
	skip, limit := deref(req.Params.Skip), deref(req.Params.Limit)
	page, err := h.bots.AliasHistory(ctx, auth.User(ctx), req.BotId, req.Alias, skip, limit)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.GetBotAliasHistory404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: aliasNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.GetBotAliasHistory200JSONResponse{Body: listOf[api.BotAliasHistory](page, skip, limit, aliasMoveToAPI)}, nil
}

func aliasMoveToAPI(m bots.AliasMove) api.BotAliasMove {
	return api.BotAliasMove{ChangedBy: m.ChangedBy, ChangedAt: m.ChangedAt, FromVersion: orNull(m.FromVersion), ToVersion: orNull(m.ToVersion)}
}

func aliasToAPI(a bots.Alias) api.BotAlias {
	return api.BotAlias{Name: a.Name, Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// aliasIfMatch is an If-Match header as the alias service takes it: the etags the alias may
// have, none when tags this server never issued are all it names, and nil (any etag) when
// the header is absent or "*".
func aliasIfMatch(header *string) []int64 {
	tags := parseEntityTags(header, false)
	if !tags.sent || tags.any {
		return nil
	}
	return append([]int64{}, tags.versions...)
}

// aliasPutConflict is the 409 of an alias put, of kind k.
func aliasPutConflict(ctx context.Context, k problemKind, detail string) api.PutBotAlias409ApplicationProblemPlusJSONResponse {
	return api.PutBotAlias409ApplicationProblemPlusJSONResponse{AliasPutConflictApplicationProblemPlusJSONResponse: api.AliasPutConflictApplicationProblemPlusJSONResponse(newProblem(ctx, k, detail))}
}

func aliasNotFound(ctx context.Context) api.NotFoundApplicationProblemPlusJSONResponse {
	return api.NotFoundApplicationProblemPlusJSONResponse(newProblem(ctx, kindNotFound, "no bot with this id, or the bot has no alias with this name"))
}

// aliasPreconditionFailed is the 412 of an alias write, with the alias's current ETag when it
// exists; changed is its detail then, naming the headers the operation takes.
func aliasPreconditionFailed(ctx context.Context, pre *bots.AliasPreconditionError, changed string) api.AliasPreconditionFailedApplicationProblemPlusJSONResponse {
	if pre.Etag == 0 {
		return api.AliasPreconditionFailedApplicationProblemPlusJSONResponse{Body: newProblem(ctx, kindPreconditionFailed,
			"the bot has no alias with this name, and If-Match requires one")}
	}
	tag := etag(pre.Etag)
	return api.AliasPreconditionFailedApplicationProblemPlusJSONResponse{
		Body:    newProblem(ctx, kindPreconditionFailed, changed),
		Headers: api.AliasPreconditionFailedResponseHeaders{ETag: &tag},
	}
}
