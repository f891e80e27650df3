-- Each user's number of live (not deleted) bots, kept by a trigger in the transaction of every
-- change, so that an unfiltered list reads its total instead of counting thousands of rows.
ALTER TABLE users ADD COLUMN live_bots bigint NOT NULL DEFAULT 0 CHECK (live_bots >= 0);

UPDATE users u SET live_bots = c.n
FROM (SELECT owner_id, count(*) AS n FROM bots WHERE deleted_at IS NULL GROUP BY owner_id) c
WHERE c.owner_id = u.id;

CREATE FUNCTION bots_count_live() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    was_live boolean := TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL;
    is_live  boolean := TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL;
BEGIN
    IF was_live AND NOT is_live THEN
        UPDATE users SET live_bots = live_bots - 1 WHERE id = OLD.owner_id;
    ELSIF is_live AND NOT was_live THEN
        UPDATE users SET live_bots = live_bots + 1 WHERE id = NEW.owner_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_count_live
    AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_count_live();
