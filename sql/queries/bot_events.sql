-- A bot's events are its owner's alone: every query is scoped to the owner of a bot that is
-- not deleted, and a bot the caller does not own gives no row, public or not. Each filter
-- has its own query, so that a prepared statement's plan never has to serve both.

-- name: BotEventList :many
-- A bot's events, newest first, along the key.
SELECT e.* FROM bot_events e
JOIN bots b ON b.id = e.bot_id
WHERE e.bot_id = @bot_id AND b.owner_id = @caller AND b.deleted_at IS NULL
ORDER BY e.id DESC
LIMIT @lim OFFSET @off;

-- name: BotEventListByType :many
-- A bot's events of one type, newest first, along bot_events_type.
SELECT e.* FROM bot_events e
JOIN bots b ON b.id = e.bot_id
WHERE e.bot_id = @bot_id AND e.type = @type AND b.owner_id = @caller AND b.deleted_at IS NULL
ORDER BY e.id DESC
LIMIT @lim OFFSET @off;

-- name: BotEventCount :one
-- How many events the bot has; no row for a bot the caller does not own.
SELECT (SELECT count(*) FROM bot_events e WHERE e.bot_id = b.id) AS total
FROM bots b
WHERE b.id = @bot_id AND b.owner_id = @caller AND b.deleted_at IS NULL;

-- name: BotEventCountByType :one
-- How many events of one type the bot has; no row for a bot the caller does not own.
SELECT (SELECT count(*) FROM bot_events e WHERE e.bot_id = b.id AND e.type = @type) AS total
FROM bots b
WHERE b.id = @bot_id AND b.owner_id = @caller AND b.deleted_at IS NULL;
