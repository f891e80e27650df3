package httpapi

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// immutable is the Cache-Control of an active version, which never changes again.
const immutable = "private, max-age=31536000, immutable"

// ListBotVersions returns a page of a bot's versions, newest first.
func (h *Handler) ListBotVersions(ctx context.Context, req api.ListBotVersionsRequestObject) (api.ListBotVersionsResponseObject, error) {
	skip, limit := deref(req.Params.Skip), deref(req.Params.Limit)
	page, err := h.bots.Versions(ctx, auth.User(ctx), req.BotId, skip, limit)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.ListBotVersions404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.ListBotVersions200JSONResponse{Body: listOf[api.BotVersionList](page, skip, limit, versionToAPI)}, nil
}

// GetBotVersion returns one version of a bot, or 304 when If-None-Match holds its ETag.
func (h *Handler) GetBotVersion(ctx context.Context, req api.GetBotVersionRequestObject) (api.GetBotVersionResponseObject, error) {
	v, err := h.bots.Version(ctx, auth.User(ctx), req.BotId, req.Number)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.GetBotVersion404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: versionNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	tag, cache := versionETag(v), versionCacheControl(v)
	if parseEntityTags(req.Params.IfNoneMatch, true).has(tag) {
		return api.GetBotVersion304Response{Headers: api.GetBotVersion304ResponseHeaders{ETag: tag, CacheControl: cache}}, nil
	}
	return api.GetBotVersion200JSONResponse{Body: versionToAPI(v), Headers: api.GetBotVersion200ResponseHeaders{ETag: tag, CacheControl: cache}}, nil
}

// RevertBotVersion records a new latest version with an earlier version's configuration.
func (h *Handler) RevertBotVersion(ctx context.Context, req api.RevertBotVersionRequestObject) (api.RevertBotVersionResponseObject, error) {
	cond := newConditions(req.Params.IfMatch, nil)
	v, err := h.bots.Revert(ctx, auth.User(ctx), req.BotId, req.Number, cond.precondition())
	if pe, ok := errors.AsType[*bots.PreconditionError](err); ok {
		return api.RevertBotVersion412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.RevertBotVersion404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: versionNotFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.RevertBotVersion403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case err != nil:
		return nil, err
	}
	loc := "/api/v1/bots/" + req.BotId.String() + "/versions/" + strconv.FormatInt(int64(v.Number), 10)
	return api.RevertBotVersion201JSONResponse{Body: versionToAPI(v), Headers: api.RevertBotVersion201ResponseHeaders{
		ETag: versionETag(v), CacheControl: versionCacheControl(v), Location: loc}}, nil
}

func versionNotFound(ctx context.Context) api.NotFoundApplicationProblemPlusJSONResponse {
	return api.NotFoundApplicationProblemPlusJSONResponse(newProblem(ctx, kindNotFound, "no bot with this id, or the bot has no version with this number"))
}

// versionCacheControl lets clients keep an active version for good: it never changes again.
func versionCacheControl(v bots.Version) string {
	if v.Status == bots.StatusActive {
		return immutable
	}
	return "no-store"
}

// versionToAPI converts a version to its representation.
func versionToAPI(v bots.Version) api.BotVersion {
	return api.BotVersion{
		Number:        v.Number,
		Model:         v.Model,
		Temperature:   v.Temperature,
		SystemPrompt:  v.SystemPrompt,
		Status:        api.BotStatus(v.Status),
		StatusMessage: orNull(v.StatusMessage),
		CreatedAt:     v.CreatedAt,
		CreatedBy:     v.CreatedBy,
		Source:        api.BotVersionSource(v.Source),
		RevertedFrom:  orNull(v.RevertedFrom),
	}
}

// versionETag is the strong entity tag of a version: its configuration never changes, so its
// number, status and status message (hashed) name everything it shows.
func versionETag(v bots.Version) string {
	tag := strconv.FormatInt(int64(v.Number), 10) + "-" + string(v.Status)
	if v.StatusMessage != nil {
		h := fnv.New64a()
		_, _ = h.Write([]byte(*v.StatusMessage))
		tag += "-" + strconv.FormatUint(h.Sum64(), 16)
	}
	return `"` + tag + `"`
}

// GetBotVersionDiff returns the JSON Patch from one version's configuration to another's, or
// 304 when If-None-Match holds its ETag. Both configurations are immutable, so the answer is
// too.
func (h *Handler) GetBotVersionDiff(ctx context.Context, req api.GetBotVersionDiffRequestObject) (api.GetBotVersionDiffResponseObject, error) {
	d, err := h.bots.VersionDiff(ctx, auth.User(ctx), req.BotId, req.Number, req.Params.Against)
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.GetBotVersionDiff422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Query, v)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.GetBotVersionDiff404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindNotFound, "no bot with this id, or the bot has no version with one of these numbers"))}, nil
	case err != nil:
		return nil, err
	}
	tag := `"` + strconv.FormatInt(int64(d.Against), 10) + "-" + strconv.FormatInt(int64(d.Number), 10) + `"`
	headers := api.GetBotVersionDiff200ResponseHeaders{ETag: tag, CacheControl: immutable}
	if parseEntityTags(req.Params.IfNoneMatch, true).has(tag) {
		return api.GetBotVersionDiff304Response{Headers: api.GetBotVersionDiff304ResponseHeaders(headers)}, nil
	}
	body := make(api.VersionPatch, len(d.Ops))
	for i, op := range d.Ops {
		body[i] = api.VersionPatchOperation{Op: api.VersionPatchOperationOp(op.Op), Path: api.VersionPatchOperationPath(op.Path), Value: op.Value}
	}
	return api.GetBotVersionDiff200ApplicationJSONPatchPlusJSONResponse{Body: body, Headers: headers}, nil
}

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
		return api.GetBotConfig404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: versionNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	// By number the answer never changes; by alias or as the latest it can, at any time.
	headers := api.GetBotConfig200ResponseHeaders{ETag: etag(int64(c.Version)), CacheControl: "private, no-cache"}
	if p.Version != nil {
		headers.CacheControl = immutable
	}
	if parseEntityTags(p.IfNoneMatch, true).has(headers.ETag) {
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
