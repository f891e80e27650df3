-- Status streams end when their caller may no longer see the bot. Streams are woken only by
-- the bot_status channel, so a change that can take a caller's access away announces itself
-- there too: a delete (soft, or a hard delete of a live bot), a public bot made private, and a
-- change of owner. Woken streams read again, scoped to their caller, and end when the bot is
-- gone for them. The payload names the bot only: it is not a status event.
CREATE FUNCTION bots_access_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bot_status', json_build_object('bot_id', OLD.id)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_access_change
    AFTER UPDATE OF deleted_at, is_public, owner_id ON bots
    FOR EACH ROW
    WHEN ((OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
       OR (OLD.is_public AND NOT NEW.is_public)
       OR OLD.owner_id <> NEW.owner_id)
    EXECUTE FUNCTION bots_access_change();

CREATE TRIGGER bots_access_removed
    AFTER DELETE ON bots
    FOR EACH ROW
    WHEN (OLD.deleted_at IS NULL)
    EXECUTE FUNCTION bots_access_change();
