-- An alias's etag is a value of bot_aliases_etag_seq (migration 0023), taken at its creation
-- (the column's default) and at every move to another version, never given twice, even to
-- an alias deleted and created again; pointing an alias at the version it has keeps its etag
-- and updated_at.
--
-- Reads are scoped like BotGet: the bot is not deleted, and the caller owns it or it is
-- public. Writes are scoped to the owner of a bot that is not deleted. A bot the caller may
-- not see, or may not change, gives no row.

-- name: BotAliasPut :one
-- Points an alias at a version, creating the alias or moving it, only when the version is
-- active and the bot is the caller's, in one statement: no check in Go can go stale under a
-- concurrent write. create_only refuses an existing alias. No row when the bot is not the
-- caller's, the version is not active, or create_only meets an existing alias. moved_from
-- is null when the alias was created.
INSERT INTO bot_aliases AS a (bot_id, name, version)
SELECT v.bot_id, @name, v.number
FROM bot_versions v
JOIN bots b ON b.id = v.bot_id
WHERE v.bot_id = @bot_id AND v.number = @version AND v.status = 'active'
  AND b.owner_id = @caller AND b.deleted_at IS NULL
ON CONFLICT (bot_id, name) DO UPDATE
    SET version = EXCLUDED.version,
        moved_from = a.version,
        etag = CASE WHEN a.version = EXCLUDED.version THEN a.etag ELSE nextval('bot_aliases_etag_seq') END,
        updated_at = CASE WHEN a.version = EXCLUDED.version THEN a.updated_at ELSE now() END
    WHERE NOT @create_only::boolean
RETURNING a.*;

-- name: BotAliasMove :one
-- Moves an existing alias (If-Match) when its etag is one of etags (any, when null), the
-- version is active and the bot is the caller's. The row lock makes concurrent moves with
-- the same etag succeed once: the others find the new etag. create_only (If-None-Match: *
-- with If-Match) refuses the existing alias.
UPDATE bot_aliases a
SET version = v.number,
    moved_from = a.version,
    etag = CASE WHEN a.version = v.number THEN a.etag ELSE nextval('bot_aliases_etag_seq') END,
    updated_at = CASE WHEN a.version = v.number THEN a.updated_at ELSE now() END
FROM bot_versions v, bots b
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
