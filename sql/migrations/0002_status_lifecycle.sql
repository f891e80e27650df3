-- The status lifecycle: what training prepared, every status change, and the rule of which
-- changes are allowed.

-- prepared_config is what training made of the bot's configuration for the chat runtime;
-- NULL until a training succeeded.
ALTER TABLE bots ADD COLUMN prepared_config jsonb;

-- One row per status change, written by the trigger below in the transaction of the change.
-- from_status is NULL for the bot's first status, at creation.
CREATE TABLE bot_status_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id      uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    from_status bot_status,
    to_status   bot_status NOT NULL,
    message     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_status_events_bot_idx ON bot_status_events (bot_id, id);

-- bots_status_change refuses the transitions the lifecycle does not have, records every
-- change, and announces it on the bot_status channel (delivered at commit) so that every
-- replica can tell its stream subscribers. Allowed: training -> active | error,
-- active | error -> training; a status may also stay as it is.
CREATE FUNCTION bots_status_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    event bot_status_events;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.status = OLD.status THEN
            RETURN NULL;
        END IF;
        IF NOT ((OLD.status = 'training' AND NEW.status IN ('active', 'error'))
             OR (OLD.status IN ('active', 'error') AND NEW.status = 'training')) THEN
            RAISE EXCEPTION 'a bot cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bots_status_transition';
        END IF;
    END IF;
    INSERT INTO bot_status_events (bot_id, from_status, to_status, message)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.status_message)
    RETURNING * INTO event;
    PERFORM pg_notify('bot_status', json_build_object(
        'id', event.id,
        'bot_id', event.bot_id,
        'from_status', event.from_status,
        'to_status', event.to_status,
        'message', left(event.message, 1000),
        'created_at', event.created_at
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_status_change
    AFTER INSERT OR UPDATE OF status ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_status_change();
