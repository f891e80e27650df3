-- Each user's number of live (not deleted) bots, kept by a trigger in the transaction of every
-- change, so that an unfiltered list reads its total instead of counting thousands of rows.
-- The count is spread over a few rows per user, each change adding to one picked at random,
-- so that a user's concurrent creates do not all wait for one row; the total is their sum.
CREATE TABLE bot_counts (
    owner_id uuid NOT NULL REFERENCES users (id),
    shard    smallint NOT NULL,
    live     bigint NOT NULL,
    PRIMARY KEY (owner_id, shard)
);

INSERT INTO bot_counts (owner_id, shard, live)
SELECT owner_id, 0, count(*) FROM bots WHERE deleted_at IS NULL GROUP BY owner_id;

CREATE FUNCTION bots_count_live() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    was_live boolean := TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL;
    is_live  boolean := TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL;
    change   bigint;
    owner    uuid;
BEGIN
    IF was_live = is_live THEN
        RETURN NULL;
    END IF;
    change := CASE WHEN is_live THEN 1 ELSE -1 END;
    owner := CASE WHEN TG_OP = 'DELETE' THEN OLD.owner_id ELSE NEW.owner_id END;
    INSERT INTO bot_counts (owner_id, shard, live)
    VALUES (owner, floor(random() * 8)::smallint, change)
    ON CONFLICT (owner_id, shard) DO UPDATE SET live = bot_counts.live + EXCLUDED.live;
    RETURN NULL;
END;
$$;

CREATE TRIGGER bots_count_live
    AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_count_live();
