package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oapi-codegen/nullable"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/idempotency"
	"github.com/chatsphere/bots/internal/webhook"
)

// Handler implements the operations of openapi.yaml on the bot service. Each method decodes
// its request, calls the service once and maps the result; expected outcomes are typed
// responses, anything else is returned as an error for the error handler.
type Handler struct {
	bots      *bots.Service
	webhooks  *webhook.Service
	feed      feed
	heartbeat time.Duration
	stopping  <-chan struct{}
	streams   *streamCounter
	logger    *slog.Logger
}

var _ api.StrictServerInterface = (*Handler)(nil)

// ListBots lists a page of the caller's bots.
func (h *Handler) ListBots(ctx context.Context, req api.ListBotsRequestObject) (api.ListBotsResponseObject, error) {
	p := req.Params
	params := bots.ListParams{
		Model:    p.Model,
		IsPublic: p.IsPublic,
		Q:        p.Q,
		Skip:     deref(p.Skip),
		Limit:    deref(p.Limit),
		Sort:     bots.Sort(deref(p.Sort)),
	}
	if p.Status != nil {
		s := bots.Status(*p.Status)
		params.Status = &s
	}
	page, err := h.bots.List(ctx, auth.User(ctx), params)
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.ListBots422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Query, v)}, nil
	}
	if err != nil {
		return nil, err
	}
	return api.ListBots200JSONResponse{Body: listOf[api.BotList](page, params.Skip, params.Limit, toAPI)}, nil
}

// CreateBot creates a bot for the caller, once per Idempotency-Key.
func (h *Handler) CreateBot(ctx context.Context, req api.CreateBotRequestObject) (api.CreateBotResponseObject, error) {
	b := req.Body
	params := bots.CreateParams{
		Name:         b.Name,
		Description:  optional(b.Description),
		Model:        b.Model,
		Temperature:  deref(b.Temperature),
		SystemPrompt: deref(b.SystemPrompt),
		IsPublic:     deref(b.IsPublic),
	}
	user := auth.User(ctx)
	res, err := h.createOnce(ctx, req.Params.IdempotencyKey, requestHash("create", b), func(tx pgx.Tx) (bots.Bot, error) {
		return h.bots.CreateTx(ctx, tx, user, params)
	})
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.CreateBot422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Body, v)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNameTaken):
		return api.CreateBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: nameTaken(ctx, b.Name)}, nil
	case errors.Is(err, idempotency.ErrKeyInFlight):
		return api.CreateBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: keyInFlight(ctx)}, nil
	case errors.Is(err, idempotency.ErrKeyReused):
		return api.CreateBot422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: keyReused(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return res, nil
}

// GetBot returns a bot the caller may see, unless its preconditions say otherwise. They are
// evaluated on the bot the caller-scoped read returned, so they reveal nothing more.
func (h *Handler) GetBot(ctx context.Context, req api.GetBotRequestObject) (api.GetBotResponseObject, error) {
	bot, err := h.bots.Get(ctx, auth.User(ctx), req.BotId)
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.GetBot404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	cond := newConditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	switch {
	case cond.ifMatchFails(bot.Version):
		return api.GetBot412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, bot.Version)}, nil
	case cond.ifNoneMatchFails(bot.Version):
		return api.GetBot304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag(bot.Version)}}, nil
	}
	return api.GetBot200JSONResponse{Body: toAPI(bot), Headers: api.GetBot200ResponseHeaders{ETag: etag(bot.Version)}}, nil
}

// UpdateBot changes the fields the body sets.
func (h *Handler) UpdateBot(ctx context.Context, req api.UpdateBotRequestObject) (api.UpdateBotResponseObject, error) {
	b := req.Body
	params := bots.UpdateParams{
		Name:           b.Name,
		SetDescription: b.Description.IsSpecified(),
		Description:    optional(b.Description),
		Model:          b.Model,
		Temperature:    b.Temperature,
		SystemPrompt:   b.SystemPrompt,
		IsPublic:       b.IsPublic,
	}
	cond := newConditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	params.Precondition = cond.precondition()
	bot, err := h.bots.Update(ctx, auth.User(ctx), req.BotId, params)
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.UpdateBot422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Body, v)}, nil
	}
	if pe, ok := errors.AsType[*bots.PreconditionError](err); ok {
		return api.UpdateBot412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.UpdateBot404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.UpdateBot403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case errors.Is(err, bots.ErrNameTaken):
		return api.UpdateBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: nameTaken(ctx, deref(b.Name))}, nil
	case err != nil:
		return nil, err
	}
	return api.UpdateBot200JSONResponse{Body: toAPI(bot), Headers: api.UpdateBot200ResponseHeaders{ETag: etag(bot.Version)}}, nil
}

// DeleteBot soft-deletes a bot, once the caller has confirmed it.
func (h *Handler) DeleteBot(ctx context.Context, req api.DeleteBotRequestObject) (api.DeleteBotResponseObject, error) {
	if req.Params.IfMatch == nil && !deref(req.Params.Confirm) {
		return api.DeleteBot428ApplicationProblemPlusJSONResponse{PreconditionRequiredApplicationProblemPlusJSONResponse: api.PreconditionRequiredApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindConfirmationRequired, "confirm the deletion: send If-Match with the bot's current ETag, or add ?confirm=true"))}, nil
	}
	cond := newConditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	del, err := h.bots.Delete(ctx, auth.User(ctx), req.BotId, cond.precondition())
	if pe, ok := errors.AsType[*bots.PreconditionError](err); ok {
		return api.DeleteBot412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.DeleteBot404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.DeleteBot403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.DeleteBot200JSONResponse{Body: api.BotDeleted{Id: del.ID, Deleted: true, DeletedAt: del.DeletedAt},
		Headers: api.DeleteBot200ResponseHeaders{ETag: etag(del.Version)}}, nil
}

// RestoreBot brings back one of the caller's deleted bots, unless its preconditions, on the
// deleted bot's ETag, say otherwise.
func (h *Handler) RestoreBot(ctx context.Context, req api.RestoreBotRequestObject) (api.RestoreBotResponseObject, error) {
	cond := newConditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	bot, err := h.bots.Restore(ctx, auth.User(ctx), req.BotId, cond.precondition())
	if pe, ok := errors.AsType[*bots.PreconditionError](err); ok {
		return api.RestoreBot412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.RestoreBot404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.RestoreBot403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case errors.Is(err, bots.ErrNotDeleted):
		return api.RestoreBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindConflict, "the bot is not deleted"))}, nil
	case errors.Is(err, bots.ErrNameTaken):
		return api.RestoreBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(
			newProblem(ctx, kindNameTaken, "another of your bots now has this bot's name; rename it first"))}, nil
	case err != nil:
		return nil, err
	}
	return api.RestoreBot200JSONResponse{Body: toAPI(bot), Headers: api.RestoreBot200ResponseHeaders{ETag: etag(bot.Version)}}, nil
}

// DuplicateBot copies a bot the caller may see into a new bot of the caller's, once per
// Idempotency-Key, if the source's ETag matches If-Match. If-Match is left out of the
// request's hash and evaluated only by the request that copies: a retry gets the first
// answer, whatever it sends.
func (h *Handler) DuplicateBot(ctx context.Context, req api.DuplicateBotRequestObject) (api.DuplicateBotResponseObject, error) {
	var params bots.DuplicateParams
	if b := req.Body; b != nil {
		params = bots.DuplicateParams{Name: b.Name, IsPublic: deref(b.IsPublic)}
	}
	user := auth.User(ctx)
	cond := newConditions(req.Params.IfMatch, nil)
	hash := requestHash("duplicate "+req.BotId.String(), params)
	res, err := h.createOnce(ctx, req.Params.IdempotencyKey, hash, func(tx pgx.Tx) (bots.Bot, error) {
		return h.bots.DuplicateTx(ctx, tx, user, req.BotId, params, cond.precondition())
	})
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.DuplicateBot422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Body, v)}, nil
	}
	if pe, ok := errors.AsType[*bots.PreconditionError](err); ok {
		return api.DuplicateBot412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.DuplicateBot404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrNameTaken):
		return api.DuplicateBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: nameTaken(ctx, deref(params.Name))}, nil
	case errors.Is(err, idempotency.ErrKeyInFlight):
		return api.DuplicateBot409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: keyInFlight(ctx)}, nil
	case errors.Is(err, idempotency.ErrKeyReused):
		return api.DuplicateBot422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: keyReused(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return res, nil
}

// TrainBot puts the bot (back) into training, unless its preconditions say otherwise.
func (h *Handler) TrainBot(ctx context.Context, req api.TrainBotRequestObject) (api.TrainBotResponseObject, error) {
	cond := newConditions(req.Params.IfMatch, req.Params.IfNoneMatch)
	bot, err := h.bots.Train(ctx, auth.User(ctx), req.BotId, cond.precondition())
	if pe, ok := errors.AsType[*bots.PreconditionError](err); ok {
		return api.TrainBot412ApplicationProblemPlusJSONResponse{PreconditionFailedApplicationProblemPlusJSONResponse: preconditionFailed(ctx, cond, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, bots.ErrNotFound):
		return api.TrainBot404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: notFound(ctx)}, nil
	case errors.Is(err, bots.ErrForbidden):
		return api.TrainBot403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: forbidden(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.TrainBot202JSONResponse{Body: toAPI(bot), Headers: api.TrainBot202ResponseHeaders{ETag: etag(bot.Version)}}, nil
}

// ListModels returns the model catalog.
func (h *Handler) ListModels(ctx context.Context, _ api.ListModelsRequestObject) (api.ListModelsResponseObject, error) {
	models := bots.Models()
	out := api.ModelList{Items: make([]api.Model, len(models))}
	for i, m := range models {
		out.Items[i] = api.Model{
			Id:             m.ID,
			DisplayName:    m.DisplayName,
			Provider:       m.Provider,
			ContextWindow:  m.ContextWindow,
			MaxTemperature: m.MaxTemperature,
			Retired:        m.Retired,
		}
	}
	return api.ListModels200JSONResponse{Body: out}, nil
}

// GetHealth answers while the process runs.
func (h *Handler) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: api.Ok}, nil
}

// GetReadiness answers 200 when the database answers.
func (h *Handler) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	if err := h.bots.Ping(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return api.GetReadiness200JSONResponse{Status: api.Ok}, nil
}

// apiItems converts each of a list's items with toAPI, into a list that is never null.
func apiItems[T, R any](items []T, toAPI func(T) R) []R {
	out := make([]R, len(items))
	for i, item := range items {
		out[i] = toAPI(item)
	}
	return out
}

// apiList is the shape of every paged list of openapi.yaml.
type apiList[R any] interface {
	~struct {
		Items []R   `json:"items"`
		Limit int32 `json:"limit"`
		Skip  int32 `json:"skip"`
		Total int64 `json:"total"`
	}
}

// listOf converts a page of a service into the list L that answers it, each item with
// toAPI, so that every paged list reports its page in the same way.
func listOf[L apiList[R], T, R any](page bots.PageOf[T], skip, limit int32, toAPI func(T) R) L {
	return L{Items: apiItems(page.Items, toAPI), Limit: limit, Skip: skip, Total: page.Total}
}

// toAPI converts a bot to its representation.
func toAPI(b bots.Bot) api.BotResponse {
	return api.BotResponse{
		Id:            b.ID,
		OwnerId:       b.OwnerID,
		Name:          b.Name,
		Description:   orNull(b.Description),
		Model:         b.Model,
		Temperature:   b.Temperature,
		SystemPrompt:  b.SystemPrompt,
		IsPublic:      b.IsPublic,
		Status:        api.BotStatus(b.Status),
		StatusMessage: orNull(b.StatusMessage),
		ConfigVersion: b.ConfigVersion,
		CreatedAt:     b.CreatedAt,
		UpdatedAt:     b.UpdatedAt,
	}
}

// etag is the strong entity tag "N" of what a number names: a bot's or a webhook's version,
// an alias's etag, the version a runtime config runs.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

func location(b bots.Bot) string {
	return "/api/v1/bots/" + b.ID.String()
}

func notFound(ctx context.Context) api.NotFoundApplicationProblemPlusJSONResponse {
	return api.NotFoundApplicationProblemPlusJSONResponse(newProblem(ctx, kindNotFound, "no bot with this id"))
}

func forbidden(ctx context.Context) api.ForbiddenApplicationProblemPlusJSONResponse {
	return api.ForbiddenApplicationProblemPlusJSONResponse(newProblem(ctx, kindForbidden, "only the owner of this bot may change it"))
}

func nameTaken(ctx context.Context, name string) api.ConflictApplicationProblemPlusJSONResponse {
	detail := "you already have a bot with this name"
	if name = strings.TrimSpace(name); name != "" {
		detail = fmt.Sprintf("you already have a bot named %q (names are compared ignoring case)", name)
	}
	return api.ConflictApplicationProblemPlusJSONResponse(newProblem(ctx, kindNameTaken, detail))
}

func unprocessable(ctx context.Context, loc api.FieldErrorLocation, v *bots.ValidationError) api.UnprocessableEntityApplicationProblemPlusJSONResponse {
	fields := make([]api.FieldError, len(v.Fields))
	for i, f := range v.Fields {
		fields[i] = api.FieldError{Location: loc, Field: f.Field, Message: f.Message}
	}
	return api.UnprocessableEntityApplicationProblemPlusJSONResponse(invalid(ctx, fields).problem)
}

// optional returns the value of a nullable field, or nil when it is null or not sent.
func optional[T any](n nullable.Nullable[T]) *T {
	if v, err := n.Get(); err == nil {
		return &v
	}
	return nil
}

// orNull is a nullable field of an answer: null for nil.
func orNull[T any](v *T) nullable.Nullable[T] {
	if v == nil {
		return nullable.NewNullNullable[T]()
	}
	return nullable.NewNullableWithValue(*v)
}

// deref returns *p, or the zero value for nil. Defaults come from openapi.yaml: the request
// validator fills them in before a handler runs.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
