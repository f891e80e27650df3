-- The list indexes also carry the filter columns, so that a page can be found from the index
-- alone (an index-only scan skips the rows before a deep page instead of reading each one)
-- and only the rows of the page itself are read from the table.
DROP INDEX bots_owner_created_idx;
CREATE INDEX bots_owner_created_idx ON bots (owner_id, created_at, id)
    INCLUDE (status, model, is_public) WHERE deleted_at IS NULL;

DROP INDEX bots_owner_updated_idx;
CREATE INDEX bots_owner_updated_idx ON bots (owner_id, updated_at, id)
    INCLUDE (status, model, is_public) WHERE deleted_at IS NULL;

-- The name order: lower(name) is unique per owner among live bots, so it needs no tie-break.
CREATE INDEX bots_owner_name_idx ON bots (owner_id, lower(name))
    INCLUDE (id, status, model, is_public) WHERE deleted_at IS NULL;
