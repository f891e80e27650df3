-- Names are compared, kept unique and searched by their folded form: default-ignorable
-- (invisible) characters dropped, Unicode full case folding, NFC. PostgreSQL 15 has no full
-- case folding, so the service computes the folded forms (bots.Fold in internal/bots, with
-- golang.org/x/text) and writes them with every name and description; the database keeps
-- the folded name unique per owner, so that no two replicas can race past the rule.
--
-- The Go step of this migration (internal/migrate) runs first, in this transaction: it locks
-- bots against writes and fills the temporary table folded_names with the folded forms of
-- every bot's name and description, which this file copies into the new columns.

-- pg_trgm indexes text by trigrams; btree_gin lets the same GIN index hold owner_id, so that
-- a search reads only the caller's candidates (both ship with PostgreSQL, in contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

ALTER TABLE bots
    DROP COLUMN name_search,
    DROP COLUMN description_search,
    ADD COLUMN name_fold text,
    ADD COLUMN description_fold text,
    -- name_clash marks a live bot whose name became the same name as an older live bot's of
    -- the same owner when names began to be folded (for example "Straße" and "STRASSE"). Both
    -- stay as they were, readable, listed and searchable; the older one holds the name (see
    -- bots_pass_name_on below). A rename to another name or a restore clears the mark, and
    -- the rule applies again.
    ADD COLUMN name_clash boolean NOT NULL DEFAULT false;

UPDATE bots SET name_fold = f.name_fold, description_fold = f.description_fold
FROM folded_names f
WHERE f.id = bots.id;

UPDATE bots SET name_clash = true
WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY owner_id, name_fold ORDER BY created_at, id) AS n
        FROM bots WHERE deleted_at IS NULL
    ) clashing
    WHERE n > 1
);

ALTER TABLE bots ALTER COLUMN name_fold SET NOT NULL;

-- Names are unique per owner among live bots, by their folded form.
DROP INDEX bots_owner_name_key;
CREATE UNIQUE INDEX bots_owner_name_key ON bots (owner_id, name_fold)
    WHERE deleted_at IS NULL AND NOT name_clash;

-- When the bot that holds a name gives it up (it is deleted or renamed), the oldest live bot
-- marked as its clash takes the name over, so that a name never becomes free for a new bot
-- while a live bot still has it.
CREATE FUNCTION bots_pass_name_on() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bots SET name_clash = false
    WHERE id = (
        SELECT id FROM bots
        WHERE owner_id = OLD.owner_id AND name_fold = OLD.name_fold
          AND deleted_at IS NULL AND name_clash
        ORDER BY created_at, id
        LIMIT 1
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_pass_name_on
    AFTER UPDATE OF deleted_at, name_fold ON bots
    FOR EACH ROW
    WHEN (OLD.deleted_at IS NULL AND NOT OLD.name_clash
          AND (NEW.deleted_at IS NOT NULL OR NEW.name_fold <> OLD.name_fold))
    EXECUTE FUNCTION bots_pass_name_on();

-- The name order (folded names, id for the marked clashes) and the search for a free copy name.
DROP INDEX bots_owner_name_idx;
CREATE INDEX bots_owner_name_idx ON bots (owner_id, name_fold, id)
    INCLUDE (status, model, is_public) WHERE deleted_at IS NULL;

-- q searches: these find the caller's bots whose folded name or description contains the
-- folded search text (LIKE '%q%') from the trigrams of q, instead of reading every bot of the
-- caller. A search text shorter than three characters has no trigram: it reads the caller's
-- bots as before.
CREATE INDEX bots_owner_name_trgm_idx ON bots USING gin (owner_id, name_fold gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX bots_owner_description_trgm_idx ON bots USING gin (owner_id, description_fold gin_trgm_ops)
    WHERE deleted_at IS NULL;
