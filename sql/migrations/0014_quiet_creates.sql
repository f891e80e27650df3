-- A commit that sends a notification holds PostgreSQL's notification lock from before its WAL
-- flush until it is done, so such commits happen one at a time across the whole server. Every
-- create notified bot_status (its first status), for nobody: a stream can only be opened on a
-- bot whose creation has committed. Creates no longer notify; a change of status still does,
-- with the bot's id only, which is all that listeners read (they read the change itself from
-- the status history).
CREATE OR REPLACE FUNCTION bots_status_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.status = OLD.status THEN
            RETURN NULL;
        END IF;
        IF NOT ((OLD.status = 'training' AND NEW.status IN ('active', 'error'))
             OR (OLD.status IN ('active', 'error') AND NEW.status = 'training')
             OR (OLD.status = 'error' AND NEW.status = 'active')) THEN
            RAISE EXCEPTION 'a bot cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bots_status_transition';
        END IF;
    END IF;
    INSERT INTO bot_status_events (bot_id, from_status, to_status, message)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.status_message);
    IF TG_OP = 'UPDATE' THEN
        PERFORM pg_notify('bot_status', json_build_object('bot_id', NEW.id)::text);
    END IF;
    RETURN NULL;
END;
$$;
