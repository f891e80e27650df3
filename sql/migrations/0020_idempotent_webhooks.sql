-- Idempotency keys serve the creates of several kinds of resource (bots, webhooks). Each kind
-- has keys of its own: one key sent to create a bot and then a webhook creates each once, and
-- never answers one with the other. A key keeps, in resource, what its first request created
-- (the bot, or the webhook with its secret), for the HTTP edge to render every replay from.
ALTER TABLE idempotency_keys
    ADD COLUMN scope text NOT NULL DEFAULT 'bot' CHECK (scope IN ('bot', 'webhook'));
ALTER TABLE idempotency_keys ALTER COLUMN scope DROP DEFAULT;
ALTER TABLE idempotency_keys RENAME COLUMN bot TO resource;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD PRIMARY KEY (user_id, scope, key);
