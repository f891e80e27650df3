-- One record of every change of a bot, written by triggers in the transaction of the change,
-- so that no write path can forget it and a rolled-back write leaves none. The events
-- endpoint reads it, and deliveries (webhooks) will be queued from its rows: each row holds
-- all an event says (id, bot, type, actor, request id, time and data, the JSON the endpoint
-- shows), and never changes. The status history and the status stream read it too, through
-- the view bot_status_events at the end: one record of each change, not two.
--
-- Who made a change and for which request is passed per transaction by the statement itself
-- (bot_events_context below, called in its WHERE clause): no extra round trip on any write.
-- A change made while nothing was set is the system's: the training worker and the purge.
CREATE TABLE bot_events (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    bot_id     uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    type       text NOT NULL CHECK (type IN ('bot.created', 'bot.updated', 'bot.deleted', 'bot.restored',
                                             'bot.duplicated', 'bot.status_changed', 'version.created',
                                             'alias.moved', 'alias.deleted')),
    -- The user's id, or 'system'.
    actor      text NOT NULL CHECK (actor = 'system' OR actor ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    data       jsonb NOT NULL,
    -- The key also serves a bot's events newest first (a backward scan); ids are unique on
    -- their own, from the identity.
    PRIMARY KEY (bot_id, id)
);

-- A bot's events of one type, newest first.
CREATE INDEX bot_events_type ON bot_events (bot_id, type, id);

-- A bot's status history (the view bot_status_events), newest or oldest first, without
-- reading its other events.
CREATE INDEX bot_events_status ON bot_events (bot_id, id)
    WHERE type IN ('bot.created', 'bot.duplicated', 'bot.status_changed');

-- The status history so far becomes the first events, with the ids that status streams
-- have sent as their events' ids, so that a client's Last-Event-ID stays valid; new events
-- are numbered after them. Nobody recorded who made these changes: the actor is inferred
-- from the transition. The bot's first status and a change to training are always an
-- owner's write; error to active is a revert; the rest is training or the purge, but for a
-- revert to an active version while the bot was in training, which is counted as the
-- system's.
INSERT INTO bot_events (id, bot_id, type, actor, created_at, data) OVERRIDING SYSTEM VALUE
SELECT e.id, e.bot_id, 'bot.status_changed',
       CASE WHEN e.from_status IS NULL OR e.to_status = 'training' OR (e.from_status = 'error' AND e.to_status = 'active')
            THEN b.owner_id::text ELSE 'system' END,
       e.created_at,
       jsonb_build_object('from', e.from_status, 'to', e.to_status, 'message', e.message)
FROM bot_status_events e
JOIN bots b ON b.id = e.bot_id;

SELECT setval(pg_get_serial_sequence('bot_events', 'id'), COALESCE(max(id), 0) + 1, false) FROM bot_events;

-- An event never changes.
CREATE FUNCTION bot_events_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event % is immutable', OLD.id
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'bot_events_immutable';
END;
$$;

CREATE TRIGGER bot_events_immutable
    BEFORE UPDATE ON bot_events
    FOR EACH ROW EXECUTE FUNCTION bot_events_immutable();

-- bot_events_context names who writes, and for which request, for the rest of the transaction;
-- a write statement calls it in its WHERE clause, so that a single autocommit statement needs
-- no statement before it. It is always true.
CREATE FUNCTION bot_events_context(actor uuid, request_id text) RETURNS boolean
    LANGUAGE sql VOLATILE AS $$
    SELECT set_config('bots.actor', actor::text, true) IS NOT NULL
       AND set_config('bots.request_id', COALESCE(request_id, ''), true) IS NOT NULL
$$;

-- bot_event_record stores one event of bot, with the transaction's actor (the system when no
-- statement named one) and request id. PL/pgSQL keeps the INSERT's plan for the session,
-- where a SQL function is planned at every call (measured on a busy two-core host: 83 µs
-- a call against 118 µs).
CREATE FUNCTION bot_event_record(bot uuid, type text, data jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bot_events (bot_id, type, actor, request_id, data)
    VALUES (bot, type, COALESCE(NULLIF(current_setting('bots.actor', true), ''), 'system'),
            NULLIF(current_setting('bots.request_id', true), ''), data);
END;
$$;

-- bot_event_time writes a time as the API does (RFC 3339, UTC), whatever the session's time zone.
CREATE FUNCTION bot_event_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- bot_event_representation is a bot as GET /api/v1/bots/{id} shows it (BotResponse).
CREATE FUNCTION bot_event_representation(b bots) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', b.id, 'owner_id', b.owner_id, 'name', b.name, 'description', b.description,
        'model', b.model, 'temperature', b.temperature, 'system_prompt', b.system_prompt,
        'is_public', b.is_public, 'status', b.status, 'status_message', b.status_message,
        'config_version', b.config_version,
        'created_at', bot_event_time(b.created_at), 'updated_at', bot_event_time(b.updated_at))
$$;

-- bot_event_patch is the JSON Patch (RFC 6902) that takes the representation of o to that of
-- n, over the fields a write changes: one replace per field that differs, in the order of
-- the representation. Left out: status and status_message (bot.status_changed says how they
-- change, including what training does without any write), updated_at (it changes with
-- every write; the event has its own time), and the fields no write changes (id, owner_id,
-- created_at).
CREATE FUNCTION bot_event_patch(o bots, n bots) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('op', 'replace', 'path', '/' || f.field, 'value', f.new)
                              ORDER BY f.ord), '[]')
    FROM (VALUES
        (1, 'name', to_jsonb(o.name), to_jsonb(n.name)),
        (2, 'description', COALESCE(to_jsonb(o.description), 'null'), COALESCE(to_jsonb(n.description), 'null')),
        (3, 'model', to_jsonb(o.model), to_jsonb(n.model)),
        (4, 'temperature', to_jsonb(o.temperature), to_jsonb(n.temperature)),
        (5, 'system_prompt', to_jsonb(o.system_prompt), to_jsonb(n.system_prompt)),
        (6, 'is_public', to_jsonb(o.is_public), to_jsonb(n.is_public)),
        (7, 'config_version', to_jsonb(o.config_version), to_jsonb(n.config_version))
    ) AS f (ord, field, old, new)
    WHERE f.old IS DISTINCT FROM f.new
$$;

-- bots_event records a bot's creation (or its creation as a copy, when the statement named
-- the source in bots.duplicate_of), and each kind of change an update makes, in this order:
-- deleted or restored, updated (with its patch), status changed.
CREATE FUNCTION bots_event() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    source text;
    patch  jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        source := NULLIF(current_setting('bots.duplicate_of', true), '');
        IF source IS NULL THEN
            PERFORM bot_event_record(NEW.id, 'bot.created', jsonb_build_object('bot', bot_event_representation(NEW)));
        ELSE
            PERFORM bot_event_record(NEW.id, 'bot.duplicated', jsonb_build_object(
                'source_bot_id', source, 'bot', bot_event_representation(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        PERFORM bot_event_record(NEW.id, 'bot.deleted', jsonb_build_object('deleted_at', bot_event_time(NEW.deleted_at)));
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        PERFORM bot_event_record(NEW.id, 'bot.restored', '{}');
    END IF;
    patch := bot_event_patch(OLD, NEW);
    IF patch <> '[]' THEN
        PERFORM bot_event_record(NEW.id, 'bot.updated', jsonb_build_object('patch', patch));
    END IF;
    IF OLD.status <> NEW.status THEN
        PERFORM bot_event_record(NEW.id, 'bot.status_changed', jsonb_build_object(
            'from', OLD.status, 'to', NEW.status, 'message', NEW.status_message));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_event_created
    AFTER INSERT ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_event();

-- Only an update that changes what an event tells calls the function.
CREATE TRIGGER bots_event_changed
    AFTER UPDATE ON bots
    FOR EACH ROW
    WHEN ((OLD.name, OLD.description, OLD.model, OLD.temperature, OLD.system_prompt, OLD.is_public,
           OLD.config_version, OLD.status, OLD.deleted_at IS NULL)
          IS DISTINCT FROM
          (NEW.name, NEW.description, NEW.model, NEW.temperature, NEW.system_prompt, NEW.is_public,
           NEW.config_version, NEW.status, NEW.deleted_at IS NULL))
    EXECUTE FUNCTION bots_event();

-- bot_versions_event records every version, as GET .../versions/{n} shows it when recorded.
CREATE FUNCTION bot_versions_event() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bot_event_record(NEW.bot_id, 'version.created', jsonb_build_object('version', jsonb_build_object(
        'number', NEW.number, 'model', NEW.model, 'temperature', NEW.temperature,
        'system_prompt', NEW.system_prompt, 'status', NEW.status, 'status_message', NEW.status_message,
        'created_at', bot_event_time(NEW.created_at), 'created_by', NEW.created_by,
        'source', NEW.source, 'reverted_from', NEW.reverted_from)));
    RETURN NULL;
END;
$$;

CREATE TRIGGER bot_versions_event
    AFTER INSERT ON bot_versions
    FOR EACH ROW EXECUTE FUNCTION bot_versions_event();

-- bot_alias_moves_event records every move of an alias (its creation included) and every
-- deletion, from the alias's history, which holds only real moves (pointing an alias at the
-- version it has moves nothing) and is not written when a purge takes the aliases with the bot.
CREATE FUNCTION bot_alias_moves_event() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bot_event_record(NEW.bot_id,
        CASE WHEN NEW.to_version IS NULL THEN 'alias.deleted' ELSE 'alias.moved' END,
        jsonb_build_object('alias', NEW.name, 'from_version', NEW.from_version, 'to_version', NEW.to_version));
    RETURN NULL;
END;
$$;

CREATE TRIGGER bot_alias_moves_event
    AFTER INSERT ON bot_alias_moves
    FOR EACH ROW EXECUTE FUNCTION bot_alias_moves_event();

-- The status history is a view of the events: a bot's first status is in bot.created (or
-- bot.duplicated), every later change is a bot.status_changed (and, in the history recorded
-- before this migration, so is the first status, from null). The status trigger still
-- refuses the transitions the lifecycle does not have and wakes the streams; it records
-- nothing itself, and a creation no longer reaches it.
DROP TABLE bot_status_events;

CREATE VIEW bot_status_events AS
SELECT id, bot_id,
       (data ->> 'from')::bot_status AS from_status,
       (CASE WHEN type = 'bot.status_changed' THEN data ->> 'to' ELSE data -> 'bot' ->> 'status' END)::bot_status AS to_status,
       CASE WHEN type = 'bot.status_changed' THEN data ->> 'message' ELSE data -> 'bot' ->> 'status_message' END AS message,
       created_at
FROM bot_events
WHERE type IN ('bot.created', 'bot.duplicated', 'bot.status_changed');

DROP TRIGGER bots_status_change ON bots;

CREATE OR REPLACE FUNCTION bots_status_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ((OLD.status = 'training' AND NEW.status IN ('active', 'error'))
         OR (OLD.status IN ('active', 'error') AND NEW.status = 'training')
         OR (OLD.status = 'error' AND NEW.status = 'active')) THEN
        RAISE EXCEPTION 'a bot cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bots_status_transition';
    END IF;
    PERFORM pg_notify('bot_status', json_build_object('bot_id', NEW.id)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_status_change
    AFTER UPDATE OF status ON bots
    FOR EACH ROW
    WHEN (OLD.status <> NEW.status)
    EXECUTE FUNCTION bots_status_change();
