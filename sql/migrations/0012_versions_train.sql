-- Training trains a version. Each version keeps its own status, status message and prepared
-- configuration; a training job names the version it trains and writes only that version,
-- and, when that version is still its bot's latest, the bot's copy of them. The bot row keeps
-- its latest version's configuration, status, status message and prepared configuration, so
-- that reads of the bot stay one row; every statement that records a version or changes a
-- version's status writes both in the same statement (sql/queries).

ALTER TABLE bot_versions ADD COLUMN prepared_config jsonb;

-- A training of an active version's configuration, asked for with POST /train, is recorded
-- as a new version: an active version never changes again.
ALTER TABLE bot_versions DROP CONSTRAINT bot_versions_source_check;
ALTER TABLE bot_versions ADD CONSTRAINT bot_versions_source_check
    CHECK (source IN ('create', 'update', 'duplicate', 'revert', 'train'));

-- Versions no longer follow their bot's status: statements write each version themselves.
DROP TRIGGER bots_version_status ON bots;
DROP FUNCTION bots_version_status();

-- The latest versions take their bot's prepared configuration.
UPDATE bot_versions v SET prepared_config = b.prepared_config
FROM bots b
WHERE v.bot_id = b.id AND v.number = b.config_version AND v.status = 'active';

-- Versions superseded while in training were never trained (their job trained the bot, which
-- had moved on); no job will finish them.
UPDATE bot_versions v
SET status = 'error',
    status_message = 'this version was replaced before its training finished; revert to it to train it'
FROM bots b
WHERE v.bot_id = b.id AND v.number < b.config_version AND v.status = 'training';

-- Superseded active versions get their prepared configuration from the Go step of this
-- migration (internal/migrate), which prepares each with the training's own rules and leaves
-- the result in the temporary table prepared_versions.
UPDATE bot_versions v SET prepared_config = p.prepared_config,
    status = p.status::bot_status, status_message = p.status_message
FROM prepared_versions p
WHERE v.bot_id = p.bot_id AND v.number = p.number;

-- A version's configuration never changes, and once it is active nothing about it changes
-- again: an active version is what aliases point at and what the chat runtime reads.
CREATE OR REPLACE FUNCTION bot_versions_immutable() RETURNS trigger
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
    IF OLD.status = 'active'
       AND (NEW.status, NEW.status_message, NEW.prepared_config)
           IS DISTINCT FROM (OLD.status, OLD.status_message, OLD.prepared_config) THEN
        RAISE EXCEPTION 'version % of bot % is active: it no longer changes', OLD.number, OLD.bot_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'bot_versions_immutable';
    END IF;
    RETURN NEW;
END;
$$;

-- The versions in training are few at any time; the upkeep looks for abandoned ones among them.
CREATE INDEX bot_versions_training ON bot_versions (bot_id, number) WHERE status = 'training';

-- An active version always has its prepared configuration, and only an active one has it.
ALTER TABLE bot_versions ADD CONSTRAINT bot_versions_prepared
    CHECK ((status = 'active') = (prepared_config IS NOT NULL));

-- A revert to an active version makes the bot active at once, whatever its latest version's
-- status was: error -> active joins the lifecycle.
CREATE OR REPLACE FUNCTION bots_status_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    event bot_status_events;
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

-- Training jobs queued before this migration name the bot's row version; they now name the
-- version they train. (River's tables exist here unless the database is new, and then there
-- are no jobs.)
DO $$
BEGIN
    IF to_regclass('river_job') IS NOT NULL THEN
        UPDATE river_job j SET args = j.args - 'version' || jsonb_build_object('number', b.config_version)
        FROM bots b
        WHERE j.kind = 'train_bot' AND j.finalized_at IS NULL AND j.args ? 'version'
          AND b.id = (j.args->>'bot_id')::uuid AND b.version = (j.args->>'version')::bigint;
    END IF;
END;
$$;
