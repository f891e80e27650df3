-- The runtime read path (GET /bots/{id}/config) serves from each replica's memory what a bot's
-- configuration read depends on: who may see the bot, its aliases, and which of its versions
-- are active. Every change of those announces the bot on the bot_config channel (delivered
-- at commit; PostgreSQL sends one notification per bot and transaction), and every replica
-- forgets what it holds of that bot. The payload is the bot's id.
CREATE FUNCTION bots_config_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bot_config', COALESCE(NEW.id, OLD.id)::text);
    RETURN NULL;
END;
$$;

-- The same for the rows of a bot's versions and aliases.
CREATE FUNCTION bot_parts_config_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bot_config', COALESCE(NEW.bot_id, OLD.bot_id)::text);
    RETURN NULL;
END;
$$;

-- Visibility: deleted and restored, made public or private, given to another owner, purged.
CREATE TRIGGER bots_config_change
    AFTER UPDATE OF deleted_at, is_public, owner_id ON bots
    FOR EACH ROW
    WHEN ((OLD.deleted_at, OLD.is_public, OLD.owner_id) IS DISTINCT FROM (NEW.deleted_at, NEW.is_public, NEW.owner_id))
    EXECUTE FUNCTION bots_config_change();

CREATE TRIGGER bots_config_removed
    AFTER DELETE ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_config_change();

-- A version that is active from the start (an instant change or rollback) or becomes active.
CREATE TRIGGER bot_versions_config_active
    AFTER INSERT ON bot_versions
    FOR EACH ROW
    WHEN (NEW.status = 'active')
    EXECUTE FUNCTION bot_parts_config_change();

CREATE TRIGGER bot_versions_config_activated
    AFTER UPDATE OF status ON bot_versions
    FOR EACH ROW
    WHEN (NEW.status = 'active' AND OLD.status <> 'active')
    EXECUTE FUNCTION bot_parts_config_change();

-- Every alias written or deleted.
CREATE TRIGGER bot_aliases_config_change
    AFTER INSERT OR UPDATE OR DELETE ON bot_aliases
    FOR EACH ROW EXECUTE FUNCTION bot_parts_config_change();
