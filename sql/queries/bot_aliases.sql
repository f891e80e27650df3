-- An alias's etag is a value of its bot's own counter, bot_alias_etags (migration 0026),
-- taken at its creation and at every move to another version, never given twice to an alias
-- of the same name of the same bot, even to one deleted and created again; pointing an alias
-- at the version it has keeps its etag and updated_at. Other bots' writes do not advance it.
-- A write locks the bot first (BotLock, see bots.sql's lock order), then takes the value
-- (bot_alias_next_etag) before it locks the alias's row, so that the writes of one bot lock
-- the bot, the counter and the alias in one order.
--
-- Reads are scoped like BotGet: the bot is not deleted, and the caller owns it or it is
-- public. Writes are scoped to the owner of a bot that is not deleted. A bot the caller may
-- not see, or may not change, gives no row.

-- name: BotAliasPut :one
-- Points an alias at a version, creating the alias or moving it, only when the version is
-- active and the bot is the caller's, in one statement: no check in Go can go stale under a
-- concurrent write. create_only refuses an existing alias. A new alias is created only
-- while the bot has fewer than max_aliases; moving an existing one is always allowed, and a
-- bot that has more keeps them. The count holds under concurrent creations because each
-- takes BotLock first, in a statement of its own: a statement that waited for the lock would
-- still count with the snapshot it took before waiting, without the alias the other
-- creation committed (deletions only lower it). No row when the bot is not the
-- caller's, the version is not active, create_only meets an existing alias, or a new alias
-- would exceed max_aliases. moved_from is null when the alias was created. The insert's
-- trigger takes the bot's next etag (bot_aliases_etag) before the alias's row is looked for,
-- and a move uses it as EXCLUDED.etag; a write that keeps the etag leaves it unused.
INSERT INTO bot_aliases AS a (bot_id, name, version)
SELECT v.bot_id, @name, v.number
FROM bot_versions v
JOIN bots b ON b.id = v.bot_id
WHERE v.bot_id = @bot_id AND v.number = @version AND v.status = 'active'
  AND b.owner_id = @caller AND b.deleted_at IS NULL
  AND (EXISTS (SELECT FROM bot_aliases e WHERE e.bot_id = @bot_id AND e.name = @name)
       OR (SELECT count(*) FROM bot_aliases e WHERE e.bot_id = @bot_id) < @max_aliases::int)
ON CONFLICT (bot_id, name) DO UPDATE
    SET version = EXCLUDED.version,
        moved_from = a.version,
        etag = CASE WHEN a.version = EXCLUDED.version THEN a.etag ELSE EXCLUDED.etag END,
        updated_at = CASE WHEN a.version = EXCLUDED.version THEN a.updated_at ELSE now() END
    WHERE NOT @create_only::boolean
RETURNING a.*;

-- name: BotAliasMove :one
-- Moves an existing alias (If-Match) when its etag is one of etags (any, when null), the
-- version is active and the bot is the caller's. The row lock makes concurrent moves with
-- the same etag succeed once: the others find the new etag. create_only (If-None-Match: *
-- with If-Match) refuses the existing alias. The next etag is taken first, for the caller's
-- bot only, even when the alias keeps its etag or the write is refused (the value then goes
-- unused): taking it only once the alias's row is locked would lock the two in the other
-- order than BotAliasPut does.
WITH next AS MATERIALIZED (
    SELECT bot_alias_next_etag(b.id) AS etag FROM bots b
    WHERE b.id = @bot_id AND b.owner_id = @caller AND b.deleted_at IS NULL
)
UPDATE bot_aliases a
SET version = v.number,
    moved_from = a.version,
    etag = CASE WHEN a.version = v.number THEN a.etag ELSE next.etag END,
    updated_at = CASE WHEN a.version = v.number THEN a.updated_at ELSE now() END
FROM next, bot_versions v, bots b
WHERE a.bot_id = @bot_id AND a.name = @name
  AND v.bot_id = a.bot_id AND v.number = @version AND v.status = 'active'
  AND b.id = a.bot_id AND b.owner_id = @caller AND b.deleted_at IS NULL
  AND NOT @create_only::boolean
  AND (sqlc.narg(etags)::bigint[] IS NULL OR a.etag = ANY (sqlc.narg(etags)::bigint[]))
RETURNING a.*;

-- name: BotAliasMoveRecord :exec
-- Records a move in the alias's history, whose trigger records its event (migration 0016)
-- for the caller's request.
INSERT INTO bot_alias_moves (bot_id, name, from_version, to_version, changed_by)
SELECT @bot_id, @name, sqlc.narg(from_version)::int, sqlc.narg(to_version)::int, @caller
WHERE bot_events_context(@caller, @request_id::text);

-- name: BotAliasDelete :one
-- Deletes an alias of the caller's bot; etags, when not null, lists the etags it may have.
DELETE FROM bot_aliases a
USING bots b
WHERE a.bot_id = @bot_id AND a.name = @name AND b.id = a.bot_id
  AND b.owner_id = @caller AND b.deleted_at IS NULL
  AND (sqlc.narg(etags)::bigint[] IS NULL OR a.etag = ANY (sqlc.narg(etags)::bigint[]))
RETURNING a.*;

-- name: BotAliasCount :one
-- How many aliases a bot has, for a write that already found the bot to be the caller's.
SELECT count(*) AS total FROM bot_aliases WHERE bot_id = @bot_id;

-- name: BotAliasGet :one
SELECT a.* FROM bot_aliases a
JOIN bots b ON b.id = a.bot_id
WHERE a.bot_id = @bot_id AND a.name = @name
  AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);

-- name: BotAliasList :many
-- A bot's aliases by name, along the primary key.
SELECT a.* FROM bot_aliases a
JOIN bots b ON b.id = a.bot_id
WHERE a.bot_id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY a.name;

-- name: BotAliasHistory :many
-- An alias's moves, newest first, along bot_alias_moves_history.
SELECT m.* FROM bot_alias_moves m
JOIN bots b ON b.id = m.bot_id
WHERE m.bot_id = @bot_id AND m.name = @name
  AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY m.id DESC
LIMIT @lim OFFSET @off;

-- name: BotAliasHistoryCount :one
SELECT count(*) AS total FROM bot_alias_moves m
JOIN bots b ON b.id = m.bot_id
WHERE m.bot_id = @bot_id AND m.name = @name
  AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);
