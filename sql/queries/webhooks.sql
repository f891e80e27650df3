-- A webhook is its owner's alone: every query of the API is scoped to the caller, and another
-- user's webhook gives no row, as one that does not exist.

-- name: WebhookCreate :one
-- Registers a webhook while the caller has fewer than max_webhooks; no row otherwise. Run it
-- after UserLock, in the same transaction: the lock serialises the caller's creates, and this
-- statement's snapshot, taken after the lock, counts every webhook they committed.
INSERT INTO webhooks (id, owner_id, url, events, description, secret, enabled)
SELECT @id, @caller, @url, @events::text[], sqlc.narg(description), @secret, @enabled
WHERE (SELECT count(*) FROM webhooks WHERE owner_id = @caller) < @max_webhooks::bigint
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
-- Changes the fields set, only while the webhook's version is one the caller allows (If-Match;
-- webhooks take no If-None-Match, hence no except_versions).
UPDATE webhooks SET
    url         = COALESCE(sqlc.narg(url), url),
    events      = COALESCE(sqlc.narg(events)::text[], events),
    description = CASE WHEN @set_description::boolean THEN sqlc.narg(description) ELSE description END,
    enabled     = COALESCE(sqlc.narg(enabled), enabled),
    -- Enabling a disabled webhook starts afresh: no reason, no run of failures. A new URL
    -- is a new endpoint: the old one's run of failures is not its.
    failing_since   = CASE WHEN (sqlc.narg(enabled) AND NOT enabled) OR sqlc.narg(url) <> url THEN NULL
                           ELSE failing_since END,
    disabled_at     = CASE WHEN sqlc.narg(enabled) THEN NULL ELSE disabled_at END,
    disabled_reason = CASE WHEN sqlc.narg(enabled) THEN NULL ELSE disabled_reason END,
    version     = version + 1,
    updated_at  = now()
WHERE id = @id AND owner_id = @caller
  AND preconditions_hold(version, @check_version::boolean, @versions::bigint[], '{}')
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
  AND preconditions_hold(version, @check_version::boolean, @versions::bigint[], '{}')
RETURNING id;

-- name: WebhookVersion :one
-- The version of one of the caller's webhooks, to tell a failed precondition from a missing one.
SELECT version FROM webhooks WHERE id = @id AND owner_id = @caller;

-- Queries of the delivery worker, which acts for the system: scoped by the job's delivery.

-- name: WebhookDeliveryForSending :one
-- A delivery with its endpoint and its event; no row once the webhook or the bot is gone.
SELECT d.state, d.attempts, d.created_at AS queued_at, w.url, w.secret, w.enabled,
       -- The key a rotation replaced signs too, for 24 hours after it.
       (CASE WHEN w.rotated_at > now() - interval '24 hours' THEN w.previous_secret END)::bytea AS previous_secret,
       e.id AS event_id, e.bot_id, e.type, e.actor, e.request_id, e.created_at, e.data
FROM webhook_deliveries d
JOIN webhooks w ON w.id = d.webhook_id
JOIN bot_events e ON e.bot_id = d.bot_id AND e.id = d.event_id
WHERE d.id = @id;

-- name: WebhookDeliveryRecord :one
-- Records one attempt of a pending delivery, and what it says of its endpoint: endpoint_ok
-- true (it answered 2xx) ends the webhook's run of failures, false starts one or continues
-- it, null (no attempt was made) leaves it. A failed attempt whose run began longer ago than
-- disable_after_seconds (0: never) disables the webhook, naming since when it fails and the
-- last error. It answers whether the webhook is enabled after it; no row when the delivery
-- has changed since the attempt began (attempts is the count read then).
-- A delivery that a disable ended (WebhookDeliveryFailDisabled) while this attempt was on its
-- way still gets the attempt: delivered if the endpoint answered 2xx; otherwise it stays
-- failed, with the disable as its last_error, and counts the attempt.
WITH delivery AS (
    UPDATE webhook_deliveries wd SET
        state           = CASE WHEN wd.state = 'pending' OR @state::webhook_delivery_state = 'delivered'
                               THEN @state::webhook_delivery_state ELSE wd.state END,
        attempts        = wd.attempts + 1,
        last_status     = sqlc.narg(last_status),
        last_error      = CASE WHEN wd.state = 'pending' OR @state::webhook_delivery_state = 'delivered'
                               THEN sqlc.narg(last_error)::text ELSE wd.last_error END,
        last_latency_ms = @latency_ms,
        next_attempt_at = CASE WHEN wd.state = 'pending' THEN sqlc.narg(next_attempt_at)::timestamptz END,
        updated_at      = now()
    WHERE wd.id = @id AND wd.attempts = @attempts AND wd.state IN ('pending', 'failed')
    RETURNING wd.webhook_id
), streak AS (
    SELECT w.id, w.enabled,
           CASE sqlc.narg(endpoint_ok)::boolean
               WHEN true THEN NULL
               -- A run of failures began when its first failed attempt did, not when it ended.
               WHEN false THEN COALESCE(w.failing_since, @attempted_at::timestamptz)
               ELSE w.failing_since
           END AS failing_since,
           (w.enabled AND NOT sqlc.narg(endpoint_ok)::boolean AND @disable_after_seconds::double precision > 0
               AND w.failing_since <= now() - make_interval(secs => @disable_after_seconds::double precision)) IS TRUE AS disable
    FROM webhooks w JOIN delivery ON w.id = delivery.webhook_id
    -- Only an attempt that may change the webhook goes on: a failure, or a success that ends
    -- a run of failures. A success on a healthy webhook, nearly every attempt, neither locks
    -- nor writes the webhook's row, which concurrent deliveries to it would otherwise queue on.
    -- (Such a success racing with the first failure of a run leaves the run to the next
    -- success to end.)
    WHERE (NOT sqlc.narg(endpoint_ok)::boolean OR w.failing_since IS NOT NULL) IS TRUE
    -- The webhook as it is now, after any write this one waited for (another attempt's
    -- record, an owner enabling it), rather than as the statement began.
    FOR UPDATE OF w
), changed AS (
    UPDATE webhooks w SET
        failing_since   = s.failing_since,
        enabled         = w.enabled AND NOT s.disable,
        disabled_at     = CASE WHEN s.disable THEN now() ELSE w.disabled_at END,
        disabled_reason = CASE WHEN s.disable THEN format(
            'disabled automatically: every attempt since %s has failed; the last error: %s',
            to_char(w.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            sqlc.narg(last_error)::text) ELSE w.disabled_reason END,
        version         = w.version + 1,
        updated_at      = now()
    FROM streak s
    WHERE w.id = s.id AND (s.disable OR s.failing_since IS DISTINCT FROM w.failing_since)
    RETURNING w.id, w.enabled
)
-- enabled is the webhook's after this record: as changed left it, else as the lock of streak
-- read it (a disable this record waited for counts), else as the statement began.
SELECT w.id AS webhook_id, COALESCE(c.enabled, s.enabled, w.enabled)::boolean AS enabled
FROM delivery d
JOIN webhooks w ON w.id = d.webhook_id
LEFT JOIN streak s ON s.id = w.id
LEFT JOIN changed c ON c.id = w.id;

-- name: WebhookDeliveryFailDisabled :exec
-- Ends as failed the pending deliveries of a disabled webhook, saying who disabled it and
-- why; their jobs then find nothing to send, and enabling the webhook again does not resume
-- them. Attempts, last_status and last_latency_ms stay those of the last attempt made. A
-- delivery whose attempt is being recorded (its row locked) is skipped, not waited for: that
-- record ends it itself once it sees the webhook disabled, and waiting could deadlock with it,
-- since a record locks its delivery before the webhook.
UPDATE webhook_deliveries d SET
    state = 'failed', next_attempt_at = NULL, updated_at = now(),
    last_error = 'the webhook was ' || COALESCE(w.disabled_reason, 'disabled by its owner')
FROM webhooks w
WHERE w.id = @webhook_id AND d.webhook_id = w.id AND NOT w.enabled
  AND d.id IN (SELECT p.id FROM webhook_deliveries p
               WHERE p.webhook_id = @webhook_id AND p.state = 'pending'
               FOR UPDATE SKIP LOCKED);

-- name: WebhookDeliveryNotSent :exec
-- Records that a pending delivery was not sent this time, which is no attempt: its state,
-- next attempt and, when given, last_error change; attempts, last_status and
-- last_latency_ms stay those of the last attempt made, and the webhook's run of failures is
-- left as it was.
UPDATE webhook_deliveries SET
    state           = @state,
    last_error      = COALESCE(sqlc.narg(last_error), last_error),
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
