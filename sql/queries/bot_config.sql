-- The runtime read path. Every query is scoped to the caller with the rule of BotGet: the bot
-- is not deleted, and the caller owns it or it is public.

-- name: BotRuntime :one
-- What a configuration read by alias or number depends on, as the caller may see it: the
-- bot's aliases (name to version). No row for a bot the caller may not see.
SELECT COALESCE((SELECT jsonb_object_agg(a.name, a.version) FROM bot_aliases a WHERE a.bot_id = b.id), '{}')::jsonb AS aliases
FROM bots b
WHERE b.id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);

-- name: BotLatestActive :one
-- The number of the bot's latest active version, 0 when none is active yet, read backwards
-- along the versions' key. No row for a bot the caller may not see.
SELECT COALESCE((SELECT v.number FROM bot_versions v WHERE v.bot_id = b.id AND v.status = 'active'
                 ORDER BY v.number DESC LIMIT 1), 0)::int AS number
FROM bots b
WHERE b.id = @bot_id AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);

-- name: VersionRuntime :one
-- One version of a bot the caller may see, with what training prepared.
SELECT v.model, v.temperature, v.system_prompt, v.status, v.prepared_config
FROM bot_versions v
JOIN bots b ON b.id = v.bot_id
WHERE v.bot_id = @bot_id AND v.number = @number
  AND b.deleted_at IS NULL AND (b.owner_id = @caller OR b.is_public);
