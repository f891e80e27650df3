-- Every version query is scoped to the caller with the rule of BotGet: the bot is not
-- deleted, and the caller owns it or it is public. A bot the caller may not see gives no row.

-- name: BotVersionList :many
-- A bot's versions, newest first, read backwards along the primary key.
SELECT v.* FROM bot_versions v
JOIN bots b ON b.id = v.bot_id
WHERE v.bot_id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY v.number DESC
LIMIT @lim OFFSET @off;

-- name: BotVersionCount :one
-- The number of a bot's versions: its latest version's, since they are numbered without
-- gaps. No row for a bot the caller may not see.
SELECT b.config_version::bigint AS total
FROM bots b
WHERE b.id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);

-- name: BotVersionGet :one
SELECT v.* FROM bot_versions v
JOIN bots b ON b.id = v.bot_id
WHERE v.bot_id = @bot_id AND v.number = @number
  AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);

-- name: BotVersionPair :many
-- The configurations of two versions of a bot (one row when they are the same version),
-- for a diff. Fewer rows than versions asked for when one is missing or the caller may not
-- see the bot.
SELECT v.number, v.model, v.temperature, v.system_prompt FROM bot_versions v
JOIN bots b ON b.id = v.bot_id
WHERE v.bot_id = @bot_id AND v.number IN (@number::int, @against::int)
  AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);
