package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/idempotency"
	"github.com/chatsphere/bots/internal/webhook"
)

// ListWebhooks answers with a page of the caller's webhooks.
func (h *Handler) ListWebhooks(ctx context.Context, req api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	skip, limit := deref(req.Params.Skip), deref(req.Params.Limit)
	page, err := h.webhooks.List(ctx, auth.User(ctx), skip, limit)
	if err != nil {
		return nil, err
	}
	return api.ListWebhooks200JSONResponse{Body: listOf[api.WebhookList](page, skip, limit, webhookToAPI)}, nil
}

// CreateWebhook registers a webhook for the caller, once per Idempotency-Key, and answers
// with its secret: this once, and to the retries of the same request.
func (h *Handler) CreateWebhook(ctx context.Context, req api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	b := req.Body
	w, replayed, err := h.webhooks.Create(ctx, auth.User(ctx), idempotencyKey(req.Params.IdempotencyKey), requestHash("create webhook", b),
		webhook.CreateParams{URL: b.Url, Events: b.Events, Description: optional(b.Description), Enabled: deref(b.Enabled)})
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.CreateWebhook422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Body, v)}, nil
	}
	switch {
	case errors.Is(err, idempotency.ErrKeyInFlight):
		return api.CreateWebhook409ApplicationProblemPlusJSONResponse{WebhookCreateConflictApplicationProblemPlusJSONResponse: api.WebhookCreateConflictApplicationProblemPlusJSONResponse(keyInFlight(ctx))}, nil
	case errors.Is(err, webhook.ErrTooMany):
		return api.CreateWebhook409ApplicationProblemPlusJSONResponse{WebhookCreateConflictApplicationProblemPlusJSONResponse: api.WebhookCreateConflictApplicationProblemPlusJSONResponse(newProblem(ctx, kindTooManyWebhooks,
			fmt.Sprintf("you have %d webhooks, the most a user may have; delete one (DELETE /api/v1/webhooks/{webhook_id}) to register another", webhook.MaxPerUser)))}, nil
	case errors.Is(err, idempotency.ErrKeyReused):
		return api.CreateWebhook422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: keyReused(ctx)}, nil
	case err != nil:
		return nil, err
	}
	headers := api.CreateWebhook201ResponseHeaders{Location: webhookPath(w.ID), ETag: etag(w.Version)}
	if replayed {
		headers.IdempotentReplayed = new("true")
	}
	return api.CreateWebhook201JSONResponse{Body: withSecret(w), Headers: headers}, nil
}

// RotateWebhookSecret gives one of the caller's webhooks a new secret and answers with it, this once.
func (h *Handler) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	w, err := h.webhooks.RotateSecret(ctx, auth.User(ctx), req.WebhookId)
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return api.RotateWebhookSecret404ApplicationProblemPlusJSONResponse{WebhookNotFoundApplicationProblemPlusJSONResponse: webhookNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse{Body: withSecret(w), Headers: api.RotateWebhookSecret200ResponseHeaders{ETag: etag(w.Version)}}, nil
}

// withSecret is a webhook as its create and its rotation show it, with its secret.
func withSecret(w webhook.Webhook) api.WebhookCreated {
	shown := webhookToAPI(w)
	return api.WebhookCreated{Id: shown.Id, Url: shown.Url, Events: shown.Events, Description: shown.Description,
		Enabled: shown.Enabled, FailingSince: shown.FailingSince, DisabledAt: shown.DisabledAt, DisabledReason: shown.DisabledReason,
		CreatedAt: shown.CreatedAt, UpdatedAt: shown.UpdatedAt, Secret: w.SecretString()}
}

// GetWebhook returns one of the caller's webhooks.
func (h *Handler) GetWebhook(ctx context.Context, req api.GetWebhookRequestObject) (api.GetWebhookResponseObject, error) {
	w, err := h.webhooks.Get(ctx, auth.User(ctx), req.WebhookId)
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return api.GetWebhook404ApplicationProblemPlusJSONResponse{WebhookNotFoundApplicationProblemPlusJSONResponse: webhookNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.GetWebhook200JSONResponse{Body: webhookToAPI(w), Headers: api.GetWebhook200ResponseHeaders{ETag: etag(w.Version)}}, nil
}

// UpdateWebhook changes the fields the body sets, if If-Match allows.
func (h *Handler) UpdateWebhook(ctx context.Context, req api.UpdateWebhookRequestObject) (api.UpdateWebhookResponseObject, error) {
	b := req.Body
	params := webhook.UpdateParams{
		URL:            b.Url,
		SetDescription: b.Description.IsSpecified(),
		Description:    optional(b.Description),
		Enabled:        b.Enabled,
		IfMatch:        webhookIfMatch(req.Params.IfMatch),
	}
	if b.Events != nil {
		params.Events = *b.Events
	}
	w, err := h.webhooks.Update(ctx, auth.User(ctx), req.WebhookId, params)
	if v, ok := errors.AsType[*bots.ValidationError](err); ok {
		return api.UpdateWebhook422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: unprocessable(ctx, api.Body, v)}, nil
	}
	if pe, ok := errors.AsType[*webhook.PreconditionError](err); ok {
		return api.UpdateWebhook412ApplicationProblemPlusJSONResponse{WebhookPreconditionFailedApplicationProblemPlusJSONResponse: webhookChanged(ctx, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return api.UpdateWebhook404ApplicationProblemPlusJSONResponse{WebhookNotFoundApplicationProblemPlusJSONResponse: webhookNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.UpdateWebhook200JSONResponse{Body: webhookToAPI(w), Headers: api.UpdateWebhook200ResponseHeaders{ETag: etag(w.Version)}}, nil
}

// DeleteWebhook deletes one of the caller's webhooks, if If-Match allows.
func (h *Handler) DeleteWebhook(ctx context.Context, req api.DeleteWebhookRequestObject) (api.DeleteWebhookResponseObject, error) {
	err := h.webhooks.Delete(ctx, auth.User(ctx), req.WebhookId, webhookIfMatch(req.Params.IfMatch))
	if pe, ok := errors.AsType[*webhook.PreconditionError](err); ok {
		return api.DeleteWebhook412ApplicationProblemPlusJSONResponse{WebhookPreconditionFailedApplicationProblemPlusJSONResponse: webhookChanged(ctx, pe.Version)}, nil
	}
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return api.DeleteWebhook404ApplicationProblemPlusJSONResponse{WebhookNotFoundApplicationProblemPlusJSONResponse: webhookNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.DeleteWebhook204Response{}, nil
}

// ListWebhookDeliveries answers with a page of the deliveries of one of the caller's webhooks.
func (h *Handler) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	skip, limit := deref(req.Params.Skip), deref(req.Params.Limit)
	page, err := h.webhooks.Deliveries(ctx, auth.User(ctx), req.WebhookId, skip, limit)
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return api.ListWebhookDeliveries404ApplicationProblemPlusJSONResponse{WebhookNotFoundApplicationProblemPlusJSONResponse: webhookNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.ListWebhookDeliveries200JSONResponse{Body: listOf[api.WebhookDeliveryList](page, skip, limit, deliveryToAPI)}, nil
}

// GetWebhookDelivery answers with one delivery of one of the caller's webhooks.
func (h *Handler) GetWebhookDelivery(ctx context.Context, req api.GetWebhookDeliveryRequestObject) (api.GetWebhookDeliveryResponseObject, error) {
	d, err := h.webhooks.Delivery(ctx, auth.User(ctx), req.WebhookId, req.DeliveryId)
	switch {
	case errors.Is(err, webhook.ErrDeliveryNotFound):
		return api.GetWebhookDelivery404ApplicationProblemPlusJSONResponse{DeliveryNotFoundApplicationProblemPlusJSONResponse: deliveryNotFound(ctx)}, nil
	case err != nil:
		return nil, err
	}
	return api.GetWebhookDelivery200JSONResponse{Body: deliveryToAPI(d)}, nil
}

// RedeliverWebhookDelivery queues a delivery's event again to its webhook and answers with
// the new delivery.
func (h *Handler) RedeliverWebhookDelivery(ctx context.Context, req api.RedeliverWebhookDeliveryRequestObject) (api.RedeliverWebhookDeliveryResponseObject, error) {
	d, err := h.webhooks.Redeliver(ctx, auth.User(ctx), req.WebhookId, req.DeliveryId)
	switch {
	case errors.Is(err, webhook.ErrDeliveryNotFound):
		return api.RedeliverWebhookDelivery404ApplicationProblemPlusJSONResponse{DeliveryNotFoundApplicationProblemPlusJSONResponse: deliveryNotFound(ctx)}, nil
	case errors.Is(err, webhook.ErrPending):
		return api.RedeliverWebhookDelivery409ApplicationProblemPlusJSONResponse{RedeliveryConflictApplicationProblemPlusJSONResponse: api.RedeliveryConflictApplicationProblemPlusJSONResponse(newProblem(ctx, kindDeliveryPending,
			"this event is still pending for this webhook; wait until its delivery is delivered or failed"))}, nil
	case errors.Is(err, webhook.ErrDisabled):
		return api.RedeliverWebhookDelivery409ApplicationProblemPlusJSONResponse{RedeliveryConflictApplicationProblemPlusJSONResponse: api.RedeliveryConflictApplicationProblemPlusJSONResponse(newProblem(ctx, kindWebhookDisabled,
			`the webhook is disabled; enable it first (PUT with "enabled": true)`))}, nil
	case err != nil:
		return nil, err
	}
	return api.RedeliverWebhookDelivery202JSONResponse{Body: deliveryToAPI(d), Headers: api.RedeliverWebhookDelivery202ResponseHeaders{
		Location: webhookPath(req.WebhookId) + "/deliveries/" + strconv.FormatInt(d.ID, 10),
	}}, nil
}

func deliveryToAPI(d webhook.Delivery) api.WebhookDelivery {
	out := api.WebhookDelivery{Id: d.ID, BotId: d.BotID, EventId: d.EventID, EventType: api.BotEventType(d.EventType),
		State: api.WebhookDeliveryState(d.State), Attempts: d.Attempts, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	out.LastStatus = orNull(d.LastStatus)
	out.LastError = orNull(d.LastError)
	out.LatencyMs = orNull(d.LatencyMs)
	out.NextAttemptAt = orNull(d.NextAttemptAt)
	return out
}

func deliveryNotFound(ctx context.Context) api.DeliveryNotFoundApplicationProblemPlusJSONResponse {
	return api.DeliveryNotFoundApplicationProblemPlusJSONResponse(newProblem(ctx, kindNotFound, "no delivery with this id for this webhook"))
}

// webhookIfMatch is an If-Match header as the webhook service takes it; nil when not sent.
// Tags this server never issued allow no version.
func webhookIfMatch(header *string) *webhook.Precondition {
	tags := parseEntityTags(header, false)
	if !tags.sent {
		return nil
	}
	return &webhook.Precondition{Any: tags.any, Versions: tags.versions}
}

func webhookToAPI(w webhook.Webhook) api.Webhook {
	return api.Webhook{Id: w.ID, Url: w.URL, Events: w.Events, Description: orNull(w.Description), Enabled: w.Enabled,
		FailingSince: orNull(w.FailingSince), DisabledAt: orNull(w.DisabledAt), DisabledReason: orNull(w.DisabledReason),
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// webhookPath is the URL of a webhook.
func webhookPath(id uuid.UUID) string { return "/api/v1/webhooks/" + id.String() }

func webhookNotFound(ctx context.Context) api.WebhookNotFoundApplicationProblemPlusJSONResponse {
	return api.WebhookNotFoundApplicationProblemPlusJSONResponse(newProblem(ctx, kindNotFound, "no webhook with this id"))
}

// webhookChanged is the 412 answer for a webhook whose current version is version.
func webhookChanged(ctx context.Context, version int64) api.WebhookPreconditionFailedApplicationProblemPlusJSONResponse {
	return api.WebhookPreconditionFailedApplicationProblemPlusJSONResponse{
		Body: newProblem(ctx, kindPreconditionFailed,
			"the webhook has changed since you read it (If-Match does not match its ETag); fetch it again and retry"),
		Headers: api.WebhookPreconditionFailedResponseHeaders{ETag: etag(version)},
	}
}
