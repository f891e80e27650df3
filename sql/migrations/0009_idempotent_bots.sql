-- An idempotency key keeps the bot its first request created, as the service knows it, in
-- place of that request's HTTP answer: the HTTP edge renders the answer (201, Location, ETag
-- and body) from the bot, for the first request and for every replay alike.
ALTER TABLE idempotency_keys ADD COLUMN bot jsonb;

-- Keys stored before kept the answer: every one a 201 whose body is the bot's representation,
-- with the bot's version quoted in the ETag. The two hold every field of the bot, so those
-- keys stay replayable, byte for byte, for the rest of their 24 hours.
DELETE FROM idempotency_keys WHERE response_status <> 201 OR etag IS NULL;
UPDATE idempotency_keys
SET bot = convert_from(response_body, 'UTF8')::jsonb
    || jsonb_build_object('version', btrim(etag, '"')::bigint);

ALTER TABLE idempotency_keys
    ALTER COLUMN bot SET NOT NULL,
    DROP COLUMN response_status,
    DROP COLUMN response_body,
    DROP COLUMN location,
    DROP COLUMN etag;
