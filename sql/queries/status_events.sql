-- name: BotStatusEventList :many
-- A bot's status history, newest first, with the visibility of BotGet.
SELECT e.* FROM bot_status_events e
JOIN bots b ON b.id = e.bot_id
WHERE e.bot_id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY e.id DESC
LIMIT @lim OFFSET @off;

-- name: BotStatusEventCount :one
SELECT count(*) FROM bot_status_events WHERE bot_id = @bot_id;

-- name: BotStatusEventsAfter :many
-- The changes after a given event, oldest first, for a status stream catching up.
SELECT e.* FROM bot_status_events e
JOIN bots b ON b.id = e.bot_id
WHERE e.bot_id = @bot_id AND e.id > @after AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public)
ORDER BY e.id
LIMIT 100;
