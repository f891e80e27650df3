-- An alias's etag came from a count that restarted at 1 when the alias was deleted and
-- created again, so a recreated alias repeated the ETags of its earlier life: a client's
-- cached "1" or stale If-Match: "1" matched an alias that had moved since. The etag now
-- comes from one sequence for every alias, so that no value is ever given twice: a new
-- alias takes the next value, and a move to another version takes a new one (pointing an
-- alias at the version it has keeps its etag). It is not a count of moves.
CREATE SEQUENCE bot_aliases_etag_seq AS bigint OWNED BY bot_aliases.etag;

-- The new default locks the table against writes until the migration commits, so that no
-- alias is written between here and the start of the sequence below.
ALTER TABLE bot_aliases ALTER COLUMN etag SET DEFAULT nextval('bot_aliases_etag_seq');

-- The sequence starts above every etag given before: above the current ones, and above
-- those of aliases deleted since, which no row keeps. Each life of an alias counted its
-- moves from 1, one per entry of its history other than its deletion, so no etag it ever
-- had exceeds the number of those entries.
SELECT setval('bot_aliases_etag_seq', greatest(
    (SELECT max(etag) FROM bot_aliases),
    (SELECT max(n) FROM (SELECT count(*) AS n FROM bot_alias_moves
                         WHERE to_version IS NOT NULL GROUP BY bot_id, name) AS lives),
    0) + 1, false);
