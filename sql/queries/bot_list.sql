-- The list has one query per sort order, so that each can walk its own index instead of
-- sorting the caller's bots; the filters are the same in all of them and in BotCount.
-- q matches a substring of name or description, ignoring case; every character of q,
-- % and _ included, stands for itself.
-- Each page carries the number of matching bots (total), so that a page costs one round
-- trip: without filters it is the sum of the owner's bot_counts; with filters a subquery that
-- the planner runs once counts from the index alone where it can.
-- (A window count over the page query would fetch every matching row.) BotCount is needed
-- only for a page past the end, which has no row to carry the total.

-- name: BotCount :one
SELECT count(*) FROM bots
WHERE owner_id = @caller AND deleted_at IS NULL
  AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
  AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
  AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
       OR strpos(description_search, lower(sqlc.narg(q))) > 0);

-- name: BotListCreatedDesc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots c
    WHERE c.owner_id = @caller AND c.deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR c.status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR c.model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR c.is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(c.name_search, lower(sqlc.narg(q))) > 0
           OR strpos(c.description_search, lower(sqlc.narg(q))) > 0)
) END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots
    WHERE owner_id = @caller AND deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
           OR strpos(description_search, lower(sqlc.narg(q))) > 0)
    ORDER BY created_at DESC, id DESC
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.created_at DESC, bots.id DESC;

-- name: BotListCreatedAsc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots c
    WHERE c.owner_id = @caller AND c.deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR c.status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR c.model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR c.is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(c.name_search, lower(sqlc.narg(q))) > 0
           OR strpos(c.description_search, lower(sqlc.narg(q))) > 0)
) END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots
    WHERE owner_id = @caller AND deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
           OR strpos(description_search, lower(sqlc.narg(q))) > 0)
    ORDER BY created_at, id
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.created_at, bots.id;

-- name: BotListUpdatedDesc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots c
    WHERE c.owner_id = @caller AND c.deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR c.status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR c.model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR c.is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(c.name_search, lower(sqlc.narg(q))) > 0
           OR strpos(c.description_search, lower(sqlc.narg(q))) > 0)
) END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots
    WHERE owner_id = @caller AND deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
           OR strpos(description_search, lower(sqlc.narg(q))) > 0)
    ORDER BY updated_at DESC, id DESC
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.updated_at DESC, bots.id DESC;

-- name: BotListUpdatedAsc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots c
    WHERE c.owner_id = @caller AND c.deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR c.status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR c.model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR c.is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(c.name_search, lower(sqlc.narg(q))) > 0
           OR strpos(c.description_search, lower(sqlc.narg(q))) > 0)
) END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots
    WHERE owner_id = @caller AND deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
           OR strpos(description_search, lower(sqlc.narg(q))) > 0)
    ORDER BY updated_at, id
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.updated_at, bots.id;

-- name: BotListNameAsc :many
-- Names are unique per owner ignoring case, so lower(name) alone is a total order.
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots c
    WHERE c.owner_id = @caller AND c.deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR c.status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR c.model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR c.is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(c.name_search, lower(sqlc.narg(q))) > 0
           OR strpos(c.description_search, lower(sqlc.narg(q))) > 0)
) END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots
    WHERE owner_id = @caller AND deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
           OR strpos(description_search, lower(sqlc.narg(q))) > 0)
    ORDER BY lower(name)
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY lower(bots.name);

-- name: BotListNameDesc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots c
    WHERE c.owner_id = @caller AND c.deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR c.status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR c.model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR c.is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(c.name_search, lower(sqlc.narg(q))) > 0
           OR strpos(c.description_search, lower(sqlc.narg(q))) > 0)
) END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots
    WHERE owner_id = @caller AND deleted_at IS NULL
      AND (sqlc.narg(status)::bot_status IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
      AND (sqlc.narg(is_public)::boolean IS NULL OR is_public = sqlc.narg(is_public))
      AND (sqlc.narg(q)::text IS NULL OR strpos(name_search, lower(sqlc.narg(q))) > 0
           OR strpos(description_search, lower(sqlc.narg(q))) > 0)
    ORDER BY lower(name) DESC
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY lower(bots.name) DESC;
