-- name: IdempotencyTryLock :one
-- Claims a user's key of a scope for the rest of the transaction; false while another request
-- holds it.
SELECT pg_try_advisory_xact_lock(hashtextextended(concat(sqlc.arg(user_id)::uuid, ':', sqlc.arg(scope)::text, ':', sqlc.arg(key)::text), 0))::boolean AS locked;

-- name: IdempotencyGet :one
-- The request a key was first used for and what it created, unless the key expired.
SELECT request_hash, resource FROM idempotency_keys
WHERE user_id = @user_id AND scope = @scope AND key = @key
  AND created_at > now() - make_interval(secs => @ttl_seconds::double precision);

-- name: IdempotencyPut :exec
-- Keeps what a key's request created; an expired row for the same key is replaced.
INSERT INTO idempotency_keys (user_id, scope, key, request_hash, resource)
VALUES (@user_id, @scope, @key, @request_hash, @resource)
ON CONFLICT (user_id, scope, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash, resource = EXCLUDED.resource, created_at = now();

-- name: IdempotencyPurge :execrows
DELETE FROM idempotency_keys
WHERE created_at < now() - make_interval(secs => @ttl_seconds::double precision);

-- name: BotPurgeDeleted :one
-- Deletes for good, in batches, the bots deleted longer ago than the retention, with their
-- events (the status history among them), and counts the bots.
WITH gone AS (
    DELETE FROM bots WHERE id IN (
        SELECT id FROM bots
        WHERE deleted_at < now() - make_interval(secs => @retention_seconds::double precision)
        LIMIT @batch
    )
    RETURNING id
), events AS (
    DELETE FROM bot_events WHERE bot_id IN (SELECT id FROM gone)
)
SELECT count(*) FROM gone;
