-- A bot's configuration (model, temperature, system_prompt) is kept as numbered versions:
-- every write that changes it records version N+1 of the bot in the same transaction, and
-- bots.config_version names the latest. The checks repeat those of bots' columns.
CREATE TABLE bot_versions (
    bot_id         uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    number         integer NOT NULL CHECK (number >= 1),
    model          text NOT NULL CHECK (char_length(model) BETWEEN 1 AND 100),
    temperature    double precision NOT NULL CHECK (temperature BETWEEN 0 AND 2),
    system_prompt  text NOT NULL CHECK (char_length(system_prompt) <= 1000),
    status         bot_status NOT NULL,
    status_message text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     uuid NOT NULL REFERENCES users (id),
    source         text NOT NULL CHECK (source IN ('create', 'update', 'duplicate', 'revert')),
    reverted_from  integer CHECK (reverted_from >= 1 AND reverted_from < number),
    CHECK ((source = 'revert') = (reverted_from IS NOT NULL)),
    -- The key also serves the list, newest first.
    PRIMARY KEY (bot_id, number)
);

ALTER TABLE bots ADD COLUMN config_version integer NOT NULL DEFAULT 1 CHECK (config_version >= 1);

-- Every bot so far gets version 1: its configuration and status as they are.
INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, status_message,
                          created_at, created_by, source)
SELECT id, 1, model, temperature, system_prompt, status, status_message, created_at, owner_id, 'create'
FROM bots;

-- A version is immutable: only its status and status message may change (while it trains).
CREATE FUNCTION bot_versions_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.bot_id, NEW.number, NEW.model, NEW.temperature, NEW.system_prompt, NEW.created_at,
        NEW.created_by, NEW.source, NEW.reverted_from)
       IS DISTINCT FROM
       (OLD.bot_id, OLD.number, OLD.model, OLD.temperature, OLD.system_prompt, OLD.created_at,
        OLD.created_by, OLD.source, OLD.reverted_from) THEN
        RAISE EXCEPTION 'version % of bot % is immutable: only its status may change', OLD.number, OLD.bot_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'bot_versions_immutable';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER bot_versions_immutable
    BEFORE UPDATE ON bot_versions
    FOR EACH ROW EXECUTE FUNCTION bot_versions_immutable();

-- For now a version's status is its bot's: a change of the bot's status or status message is
-- copied to the bot's latest version.
CREATE FUNCTION bots_version_status() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bot_versions SET status = NEW.status, status_message = NEW.status_message
    WHERE bot_id = NEW.id AND number = NEW.config_version
      AND (status, status_message) IS DISTINCT FROM (NEW.status, NEW.status_message);
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_version_status
    AFTER UPDATE OF status, status_message ON bots
    FOR EACH ROW
    WHEN ((OLD.status, OLD.status_message) IS DISTINCT FROM (NEW.status, NEW.status_message))
    EXECUTE FUNCTION bots_version_status();

-- A bot kept under an idempotency key is replayed as it was created: as version 1.
UPDATE idempotency_keys SET bot = bot || '{"config_version": 1}'::jsonb
WHERE NOT bot ? 'config_version';
