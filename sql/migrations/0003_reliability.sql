-- Idempotent creates: the first successful response to a request with an Idempotency-Key,
-- stored in the transaction that created the bot, replayed to retries for 24 hours.
CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL REFERENCES users (id),
    key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- request_hash identifies the request the key was first used for (method, path, body).
    request_hash    bytea NOT NULL,
    response_status integer NOT NULL,
    response_body   bytea NOT NULL,
    location        text,
    etag            text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The purge of deleted bots walks this index instead of the whole table.
CREATE INDEX bots_deleted_idx ON bots (deleted_at) WHERE deleted_at IS NOT NULL;
