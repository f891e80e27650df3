-- Webhooks: endpoints to which an owner's bots' events are sent, signed as Standard Webhooks
-- specifies (internal/webhook).
--
-- A delivery is queued in the transaction of the write that caused it, as a row of
-- webhook_deliveries and a River job to send it, by a trigger on bot_events: every write that
-- records an event queues its deliveries, and a write that rolls back queues none. River's job
-- table is what its clients in other languages write to (its Ruby and Python clients insert
-- plain rows into it); the trigger inserts such a row, with the kind, queue and arguments of
-- internal/webhook's jobs, and sends the notification River's Go client sends on insert.
CREATE TABLE webhooks (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id),
    url         text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    -- Event types (bot_events.type), or '*' for all.
    events      text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 20),
    description text CHECK (char_length(description) <= 500),
    -- The signing key, as its whsec_ form encodes it; only the create answers it.
    secret      bytea NOT NULL CHECK (octet_length(secret) >= 24),
    enabled     boolean NOT NULL DEFAULT true,
    -- Every change increments it; it makes the webhook's ETag.
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- An owner's webhooks in the order the list shows them; also how the trigger finds that an
-- owner has none, in one probe.
CREATE INDEX webhooks_owner ON webhooks (owner_id, created_at, id);

CREATE TYPE webhook_delivery_state AS ENUM ('pending', 'delivered', 'failed');

-- One event to send to one webhook, and how its sending went so far.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    bot_id          uuid NOT NULL,
    event_id        bigint NOT NULL,
    state           webhook_delivery_state NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    -- The HTTP status of the last attempt; null when it got no answer.
    last_status     integer,
    -- Why the last attempt failed, or the start of a failed answer's body.
    last_error      text,
    last_latency_ms integer,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (bot_id, event_id) REFERENCES bot_events (bot_id, id) ON DELETE CASCADE
);

-- A webhook's deliveries, newest first.
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- The deliveries of an event, which go with it when its bot is purged.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (bot_id, event_id);

-- bot_events_webhook queues the deliveries of a new event: one per enabled webhook of the bot's
-- owner subscribed to its type, each with its River job (kind webhook_delivery, queue
-- webhooks, as internal/webhook declares them). An owner without such a webhook costs the
-- insert's one probe of webhooks_owner, which finds nothing and inserts nothing. max_attempts only bounds a job River would retry
-- forever: the worker gives up after WEBHOOK_RETRY_FOR, long before.
CREATE FUNCTION bot_events_webhook() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    owner  uuid;
    queued bigint;
BEGIN
    SELECT b.owner_id INTO owner FROM bots b WHERE b.id = NEW.bot_id;
    WITH delivery AS (
        INSERT INTO webhook_deliveries (webhook_id, bot_id, event_id, next_attempt_at)
        SELECT w.id, NEW.bot_id, NEW.id, now() FROM webhooks w
        WHERE w.owner_id = owner AND w.enabled AND w.events && ARRAY[NEW.type, '*']
        RETURNING id
    )
    INSERT INTO river_job (kind, queue, args, max_attempts)
    SELECT 'webhook_delivery', 'webhooks', jsonb_build_object('delivery_id', delivery.id), 1000
    FROM delivery;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        -- What River's client sends on insert, so that a worker fetches the job at once rather
        -- than at its next poll; PostgreSQL folds the copies of one transaction into one.
        PERFORM pg_notify(current_schema() || '.river_insert', '{"queue": "webhooks"}');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER bot_events_webhook
    AFTER INSERT ON bot_events
    FOR EACH ROW EXECUTE FUNCTION bot_events_webhook();
