-- A webhook is its owner's alone: every query of the API is scoped to the caller, and another
-- user's webhook gives no row, as one that does not exist.

-- name: WebhookCreate :one
INSERT INTO webhooks (id, owner_id, url, events, description, secret, enabled)
VALUES (@id, @caller, @url, @events::text[], sqlc.narg(description), @secret, @enabled)
RETURNING *;

-- name: WebhookGet :one
SELECT * FROM webhooks WHERE id = @id AND owner_id = @caller;

-- name: WebhookList :many
-- The caller's webhooks, oldest first, along webhooks_owner.
SELECT * FROM webhooks
WHERE owner_id = @caller
ORDER BY created_at, id
LIMIT @lim OFFSET @off;

-- name: WebhookCount :one
SELECT count(*) FROM webhooks WHERE owner_id = @caller;

-- name: WebhookUpdate :one
-- Changes the fields set, only while the webhook's version is one the caller allows (If-Match).
UPDATE webhooks SET
    url         = COALESCE(sqlc.narg(url), url),
    events      = COALESCE(sqlc.narg(events)::text[], events),
    description = CASE WHEN @set_description::boolean THEN sqlc.narg(description) ELSE description END,
    enabled     = COALESCE(sqlc.narg(enabled), enabled),
    version     = version + 1,
    updated_at  = now()
WHERE id = @id AND owner_id = @caller
  AND (NOT @check_version::boolean OR version = ANY (@versions::bigint[]))
RETURNING *;

-- name: WebhookRotateSecret :one
-- Replaces the signing key of one of the caller's webhooks; the key it replaces keeps
-- signing beside it for 24 hours (WebhookDeliveryForSending).
UPDATE webhooks SET secret = @secret, previous_secret = secret, rotated_at = now(),
    version = version + 1, updated_at = now()
WHERE id = @id AND owner_id = @caller
RETURNING *;

-- name: WebhookDelete :one
-- Deletes the webhook with its deliveries; a job of a delivery deleted finds nothing to send.
DELETE FROM webhooks
WHERE id = @id AND owner_id = @caller
  AND (NOT @check_version::boolean OR version = ANY (@versions::bigint[]))
RETURNING id;

-- name: WebhookVersion :one
-- The version of one of the caller's webhooks, to tell a failed precondition from a missing one.
SELECT version FROM webhooks WHERE id = @id AND owner_id = @caller;

-- Queries of the delivery worker, which acts for the system: scoped by the job's delivery.

-- name: WebhookDeliveryForSending :one
-- A delivery with its endpoint and its event; no row once the webhook or the bot is gone.
SELECT d.state, d.created_at AS queued_at, w.url, w.secret, w.enabled,
       -- The key a rotation replaced signs too, for 24 hours after it.
       (CASE WHEN w.rotated_at > now() - interval '24 hours' THEN w.previous_secret END)::bytea AS previous_secret,
       e.id AS event_id, e.bot_id, e.type, e.actor, e.request_id, e.created_at, e.data
FROM webhook_deliveries d
JOIN webhooks w ON w.id = d.webhook_id
JOIN bot_events e ON e.bot_id = d.bot_id AND e.id = d.event_id
WHERE d.id = @id;

-- name: WebhookDeliveryRecord :exec
-- Records one attempt of a pending delivery.
UPDATE webhook_deliveries SET
    state           = @state,
    attempts        = attempts + 1,
    last_status     = sqlc.narg(last_status),
    last_error      = sqlc.narg(last_error),
    last_latency_ms = @latency_ms,
    next_attempt_at = sqlc.narg(next_attempt_at),
    updated_at      = now()
WHERE id = @id AND state = 'pending';

-- name: WebhookDeliveryList :many
-- A webhook's deliveries, newest first, along webhook_deliveries_webhook; none for a webhook
-- that is not the caller's.
SELECT d.id, d.bot_id, d.event_id, e.type AS event_type, d.state, d.attempts, d.last_status,
       d.last_error, d.last_latency_ms, d.next_attempt_at, d.created_at, d.updated_at
FROM webhook_deliveries d
JOIN webhooks w ON w.id = d.webhook_id
JOIN bot_events e ON e.bot_id = d.bot_id AND e.id = d.event_id
WHERE d.webhook_id = @webhook_id AND w.owner_id = @caller
ORDER BY d.id DESC
LIMIT @lim OFFSET @off;

-- name: WebhookDeliveryCount :one
-- How many deliveries the webhook has; no row for a webhook that is not the caller's.
SELECT (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id) AS total
FROM webhooks w
WHERE w.id = @webhook_id AND w.owner_id = @caller;

-- name: WebhookDeliveryGet :one
-- One delivery of one of the caller's webhooks; no row for another webhook's delivery.
SELECT d.id, d.bot_id, d.event_id, e.type AS event_type, d.state, d.attempts, d.last_status,
       d.last_error, d.last_latency_ms, d.next_attempt_at, d.created_at, d.updated_at
FROM webhook_deliveries d
JOIN webhooks w ON w.id = d.webhook_id
JOIN bot_events e ON e.bot_id = d.bot_id AND e.id = d.event_id
WHERE d.id = @delivery_id AND d.webhook_id = @webhook_id AND w.owner_id = @caller;

-- name: WebhookDeliveryRedeliver :one
-- Queues the event of one of the caller's webhook's deliveries again, to the same webhook: a
-- new delivery and its River job (as the trigger bot_events_webhook writes them). Only while
-- the webhook is enabled and the event is not pending for it (webhook_deliveries_pending);
-- no row otherwise, and WebhookDeliveryRedeliverMiss tells why.
WITH delivery AS (
    INSERT INTO webhook_deliveries (webhook_id, bot_id, event_id, next_attempt_at)
    SELECT d.webhook_id, d.bot_id, d.event_id, now()
    FROM webhook_deliveries d
    JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.id = @delivery_id AND d.webhook_id = @webhook_id AND w.owner_id = @caller AND w.enabled
    ON CONFLICT (webhook_id, bot_id, event_id) WHERE state = 'pending' DO NOTHING
    RETURNING *
), job AS (
    INSERT INTO river_job (kind, queue, args, max_attempts)
    SELECT 'webhook_delivery', 'webhooks', jsonb_build_object('delivery_id', delivery.id), 1000
    FROM delivery
)
SELECT d.id, d.bot_id, d.event_id, e.type AS event_type, d.state, d.attempts, d.last_status,
       d.last_error, d.last_latency_ms, d.next_attempt_at, d.created_at, d.updated_at
FROM delivery d
JOIN bot_events e ON e.bot_id = d.bot_id AND e.id = d.event_id;

-- name: WebhookDeliveryRedeliverMiss :one
-- Why WebhookDeliveryRedeliver queued nothing: no row when the delivery is not one of the
-- caller's webhook's; otherwise whether the webhook is enabled.
SELECT w.enabled
FROM webhook_deliveries d
JOIN webhooks w ON w.id = d.webhook_id
WHERE d.id = @delivery_id AND d.webhook_id = @webhook_id AND w.owner_id = @caller;

-- name: WebhookQueueWake :exec
-- What River's client sends on insert, so that a worker fetches a job written in SQL at once
-- rather than at its next poll.
SELECT pg_notify(current_schema() || '.river_insert', '{"queue": "webhooks"}');
