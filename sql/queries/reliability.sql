-- name: IdempotencyTryLock :one
-- Claims a user's key for the rest of the transaction; false while another request holds it.
SELECT pg_try_advisory_xact_lock(hashtextextended(concat(sqlc.arg(user_id)::uuid, ':', sqlc.arg(key)::text), 0))::boolean AS locked;

-- name: IdempotencyGet :one
-- A key's stored response, unless it expired.
SELECT * FROM idempotency_keys
WHERE user_id = @user_id AND key = @key AND created_at > now() - make_interval(secs => @ttl_seconds::double precision);

-- name: IdempotencyPut :exec
-- Stores a key's response; an expired row for the same key is replaced.
INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body, location, etag)
VALUES (@user_id, @key, @request_hash, @response_status, @response_body, @location, @etag)
ON CONFLICT (user_id, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
    response_body = EXCLUDED.response_body, location = EXCLUDED.location, etag = EXCLUDED.etag,
    created_at = now();

-- name: IdempotencyPurge :execrows
DELETE FROM idempotency_keys
WHERE created_at < now() - make_interval(secs => @ttl_seconds::double precision);

-- name: BotPurgeDeleted :execrows
-- Deletes for good, in batches, the bots deleted longer ago than the retention; their status
-- history goes with them.
DELETE FROM bots WHERE id IN (
    SELECT id FROM bots
    WHERE deleted_at < now() - make_interval(secs => @retention_seconds::double precision)
    LIMIT @batch
);
