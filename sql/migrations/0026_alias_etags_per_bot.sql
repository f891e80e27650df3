-- An alias's etag was a value of one sequence shared by every bot (migration 0023), so the
-- gaps between a user's own ETags told how many alias writes every other user made. Each
-- bot now counts its own: bot_alias_etags holds the last etag given to any alias of a bot,
-- and an alias takes the next one at its creation and at every move to another version.
-- The rule of 0023 still holds within each bot: no value is given twice to an alias of the
-- same name of the same bot, not even to one deleted and created again.
CREATE TABLE bot_alias_etags (
    -- A bot deleted for good (its purge) takes its counter with it.
    bot_id uuid PRIMARY KEY REFERENCES bots (id) ON DELETE CASCADE,
    last   bigint NOT NULL
);

-- bot_alias_next_etag gives the next etag of a bot's aliases. The upsert locks the bot's
-- counter row until the transaction ends, so that two alias writes of one bot take turns:
-- the second waits, then adds one to the value the first committed (ON CONFLICT DO UPDATE
-- acts on the newest version of the row), and no two get the same value. Every write that
-- may give an alias an etag takes it before it locks the alias's row, so that the writes of
-- one bot lock the two in one order and cannot wait on each other.
CREATE FUNCTION bot_alias_next_etag(bot uuid) RETURNS bigint
    LANGUAGE sql VOLATILE AS $$
    INSERT INTO bot_alias_etags AS c (bot_id, last) VALUES (bot, 1)
    ON CONFLICT (bot_id) DO UPDATE SET last = c.last + 1
    RETURNING c.last
$$;

-- A new alias whose etag the insert leaves out takes the bot's next one. The trigger runs
-- before an INSERT ... ON CONFLICT looks for the existing alias, so the value is taken
-- (and the counter locked) before the alias's row is, and a move of the existing alias
-- can use it as EXCLUDED.etag; when the alias keeps its etag the value goes unused.
CREATE FUNCTION bot_aliases_etag() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.etag := bot_alias_next_etag(NEW.bot_id);
    RETURN NEW;
END
$$;

-- Dropping the default locks the table against writes until the migration commits, so that
-- no alias takes a value of the sequence after the counters start below.
ALTER TABLE bot_aliases ALTER COLUMN etag DROP DEFAULT;

CREATE TRIGGER bot_aliases_etag BEFORE INSERT ON bot_aliases
    FOR EACH ROW WHEN (NEW.etag IS NULL) EXECUTE FUNCTION bot_aliases_etag();

-- Every bot that ever had an alias (its history keeps every one since migration 0011, which
-- created both) starts above every etag the sequence gave, since no row keeps those of its
-- deleted aliases. That start is the sequence's last value, the same for every such bot: it
-- tells its owner how many alias writes were made before this migration, once, and nothing
-- of the rate since. A bot that never had an alias starts at 1 with its first.
INSERT INTO bot_alias_etags (bot_id, last)
SELECT b.id, greatest(s.last_value,
                      (SELECT max(a.etag) FROM bot_aliases a WHERE a.bot_id = b.id), 0)
FROM bots b, bot_aliases_etag_seq s
WHERE EXISTS (SELECT FROM bot_alias_moves m WHERE m.bot_id = b.id)
   OR EXISTS (SELECT FROM bot_aliases a WHERE a.bot_id = b.id);

-- Nothing takes a value of the sequence any more.
DROP SEQUENCE bot_aliases_etag_seq;
