-- The list has one query per sort order, so that each can walk its own index instead of
-- sorting the caller's bots. What matches the filters is decided in one place, the function
-- bots_matching (migration 0024), which all of them and BotCount read: being one STABLE
-- SELECT, it is inlined into each query and planned with its values
-- (internal/bots/plan_test.go fails if it stops being inlined).
-- q_pattern is a LIKE pattern that the service makes of the caller's search text (folded with
-- bots.Fold, \, % and _ escaped, between two %), matched against the folded name and
-- description, where the trigram indexes of migration 0008 find the matches.
-- Each page carries the number of matching bots (total), so that a page costs one round
-- trip: without filters it is the sum of the owner's bot_counts; with filters a subquery that
-- the planner runs once counts from the index alone where it can.
-- (A window count over the page query would fetch every matching row.) BotCount is needed
-- only for a page past the end, which has no row to carry the total.

-- name: BotCount :one
SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern));

-- name: BotListCreatedDesc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q_pattern)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern)))
    END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern))
    ORDER BY created_at DESC, id DESC
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.created_at DESC, bots.id DESC;

-- name: BotListCreatedAsc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q_pattern)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern)))
    END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern))
    ORDER BY created_at, id
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.created_at, bots.id;

-- name: BotListUpdatedDesc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q_pattern)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern)))
    END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern))
    ORDER BY updated_at DESC, id DESC
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.updated_at DESC, bots.id DESC;

-- name: BotListUpdatedAsc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q_pattern)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern)))
    END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern))
    ORDER BY updated_at, id
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.updated_at, bots.id;

-- name: BotListNameAsc :many
-- Folded names are unique per owner but for the marked clashes (see migration 0008), which id
-- orders.
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q_pattern)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern)))
    END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern))
    ORDER BY name_fold, id
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.name_fold, bots.id;

-- name: BotListNameDesc :many
SELECT sqlc.embed(bots), (CASE
    WHEN sqlc.narg(status)::bot_status IS NULL AND sqlc.narg(model)::text IS NULL
         AND sqlc.narg(is_public)::boolean IS NULL AND sqlc.narg(q_pattern)::text IS NULL
    THEN (SELECT coalesce(sum(n.live), 0) FROM bot_counts n WHERE n.owner_id = @caller)
    ELSE (SELECT count(*) FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern)))
    END)::bigint AS total
FROM bots
JOIN (
    -- The page's ids, from the index alone where the filters allow.
    SELECT id AS page_id FROM bots_matching(@caller, sqlc.narg(status), sqlc.narg(model), sqlc.narg(is_public), sqlc.narg(q_pattern))
    ORDER BY name_fold DESC, id DESC
    LIMIT @lim OFFSET @off
) page ON page.page_id = bots.id
ORDER BY bots.name_fold DESC, bots.id DESC;
