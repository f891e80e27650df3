-- The list has one query per sort order, so that each can walk its own index instead of
-- sorting the caller's bots; the filters are the same in all of them and in BotCount.
-- q matches name or description, ignoring case, with % and _ taken literally.

-- name: BotCount :one
SELECT count(*) FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%');

-- name: BotListCreatedDesc :many
SELECT * FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%')
ORDER BY created_at DESC, id DESC
LIMIT @lim OFFSET @off;

-- name: BotListCreatedAsc :many
SELECT * FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%')
ORDER BY created_at, id
LIMIT @lim OFFSET @off;

-- name: BotListUpdatedDesc :many
SELECT * FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%')
ORDER BY updated_at DESC, id DESC
LIMIT @lim OFFSET @off;

-- name: BotListUpdatedAsc :many
SELECT * FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%')
ORDER BY updated_at, id
LIMIT @lim OFFSET @off;

-- name: BotListNameAsc :many
-- Names are unique per owner ignoring case, so lower(name) alone is a total order.
SELECT * FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%')
ORDER BY lower(name)
LIMIT @lim OFFSET @off;

-- name: BotListNameDesc :many
SELECT * FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || like_escape(sqlc.narg(q)) || '%'
       OR description ILIKE '%' || like_escape(sqlc.narg(q)) || '%')
ORDER BY lower(name) DESC
LIMIT @lim OFFSET @off;
