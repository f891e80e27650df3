-- Every status-event query is scoped to the caller with the rule of BotGet: the bot is not
-- deleted, and the caller owns it or it is public. A bot the caller may not see gives no row.
-- bot_status_events is a view of the bot's events (migration 0016), served by the partial
-- index bot_events_status.

-- name: BotStatusEventList :many
-- A bot's status history, newest first.
SELECT e.* FROM bot_status_events e
JOIN bots b ON b.id = e.bot_id
WHERE e.bot_id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY e.id DESC
LIMIT @lim OFFSET @off;

-- name: BotStatusEventCount :one
-- The number of events in a bot's status history; no row for a bot the caller may not see.
SELECT (SELECT count(*) FROM bot_status_events e WHERE e.bot_id = b.id) AS total
FROM bots b
WHERE b.id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);

-- name: BotStatusEventsAfter :many
-- The changes after a given event, oldest first, at most lim, for a status stream catching
-- up. No row either means nothing is new or that the caller may no longer see the bot.
SELECT e.* FROM bot_status_events e
JOIN bots b ON b.id = e.bot_id
WHERE e.bot_id = @bot_id AND e.id > @after AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY e.id
LIMIT @lim;
