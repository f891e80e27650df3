-- Every query is scoped to the caller in its WHERE clause: a bot the caller may not see is
-- never loaded. Reads see the caller's bots and public bots; writes only the caller's.

-- name: BotCreate :one
-- name_fold and description_fold are the folded forms of name and description (bots.Fold).
-- The bot's configuration is recorded as its version 1, whose source says which write made
-- the bot (create or duplicate).
WITH bot AS (
    INSERT INTO bots (id, owner_id, name, name_fold, description, description_fold, model, temperature,
                      system_prompt, is_public)
    VALUES (@id, @owner_id, @name, @name_fold, @description, @description_fold, @model, @temperature,
            @system_prompt, @is_public)
    RETURNING *
), recorded AS (
    INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, status_message,
                              created_at, created_by, source)
    SELECT id, config_version, model, temperature, system_prompt, status, status_message,
           created_at, owner_id, @source::text
    FROM bot
)
SELECT * FROM bot;

-- name: BotGet :one
SELECT * FROM bots
WHERE id = @id AND deleted_at IS NULL AND (owner_id = @caller OR is_public);

-- name: BotUpdate :one
-- A NULL parameter keeps the column; description has its own flag because null clears it.
-- When check_version is set, the row is changed only if its version is one of versions
-- (If-Match); it is never changed if its version is one of except_versions (If-None-Match).
-- name_fold and description_fold come with name and description; a new folded name clears
-- name_clash, so that the uniqueness of names applies to the renamed bot.
-- edit.retrains is the one statement of which edits send a bot back to training: a change
-- of model or system prompt. edit.reconfigures says whether the configuration (model,
-- temperature, system prompt) changes: then the bot's next version is recorded, numbered
-- from the locked row's config_version, so that concurrent edits number their versions one
-- after another. Both are read from the row as locked, so that they describe the row this
-- UPDATE changes. When settled_only is set, a bot that would be in training after the edit
-- is left alone (no row comes back): its new version needs a job, which only a transaction
-- can queue with the write.
WITH edit AS (
    SELECT bots.id AS bot_id, bots.status AS old_status,
           (sqlc.narg(model) <> bots.model OR sqlc.narg(system_prompt) <> bots.system_prompt) IS TRUE AS retrains,
           (sqlc.narg(model) <> bots.model OR sqlc.narg(system_prompt) <> bots.system_prompt
            OR sqlc.narg(temperature) <> bots.temperature) IS TRUE AS reconfigures
    FROM bots
    WHERE bots.id = @id AND bots.owner_id = @caller AND bots.deleted_at IS NULL
      AND (NOT @check_version::boolean OR bots.version = ANY (@versions::bigint[]))
      AND bots.version <> ALL (@except_versions::bigint[])
    FOR NO KEY UPDATE
), bot AS (
    UPDATE bots SET
        name          = COALESCE(sqlc.narg(name), name),
        name_fold     = COALESCE(sqlc.narg(name_fold), name_fold),
        name_clash    = name_clash AND COALESCE(sqlc.narg(name_fold) = name_fold, true),
        description   = CASE WHEN @set_description::boolean THEN sqlc.narg(description) ELSE description END,
        description_fold = CASE WHEN @set_description::boolean THEN sqlc.narg(description_fold) ELSE description_fold END,
        model         = COALESCE(sqlc.narg(model), model),
        temperature   = COALESCE(sqlc.narg(temperature), temperature),
        system_prompt = COALESCE(sqlc.narg(system_prompt), system_prompt),
        is_public     = COALESCE(sqlc.narg(is_public), is_public),
        status        = CASE WHEN edit.retrains THEN 'training' ELSE status END,
        status_message = CASE WHEN edit.retrains THEN NULL ELSE status_message END,
        config_version = CASE WHEN edit.reconfigures THEN config_version + 1 ELSE config_version END,
        version       = version + 1,
        updated_at    = now()
    FROM edit
    WHERE bots.id = edit.bot_id
      AND NOT (@settled_only::boolean AND (edit.retrains OR edit.old_status = 'training'))
    RETURNING bots.*
), recorded AS (
    INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, status_message,
                              created_at, created_by, source)
    SELECT id, config_version, model, temperature, system_prompt, status, status_message,
           updated_at, owner_id, 'update'
    FROM bot JOIN edit ON edit.bot_id = bot.id
    WHERE edit.reconfigures
)
SELECT * FROM bot;

-- name: BotDelete :one
-- The version checks are BotUpdate's.
UPDATE bots SET deleted_at = now(), updated_at = now(), version = version + 1
WHERE id = @id AND owner_id = @caller AND deleted_at IS NULL
  AND (NOT @check_version::boolean OR version = ANY (@versions::bigint[]))
  AND version <> ALL (@except_versions::bigint[])
RETURNING id, deleted_at::timestamptz AS deleted_at;

-- name: BotRestore :one
-- A restored bot that was not active is trained again: its training may have been dropped
-- while it was deleted. Its name must be free again (name_clash is cleared).
UPDATE bots SET deleted_at = NULL, name_clash = false, updated_at = now(), version = version + 1,
    status = CASE WHEN status = 'active' THEN status ELSE 'training' END,
    status_message = CASE WHEN status = 'active' THEN status_message END
WHERE id = @id AND owner_id = @caller AND deleted_at IS NOT NULL
RETURNING *;

-- name: BotTrain :one
UPDATE bots SET status = 'training', status_message = NULL, updated_at = now(), version = version + 1
WHERE id = @id AND owner_id = @caller AND deleted_at IS NULL
RETURNING *;

-- name: BotAccess :one
-- Explains why a write matched no row, for a bot the caller may see: owned is false for
-- another user's public bot. Nothing is returned for a bot the caller may not see.
SELECT (owner_id = @caller)::boolean AS owned, (deleted_at IS NOT NULL)::boolean AS deleted, version
FROM bots
WHERE id = @id AND (owner_id = @caller OR (is_public AND deleted_at IS NULL));

-- name: BotFirstFreeName :one
-- The first of the candidate names that none of the owner's live bots uses; folds holds the
-- folded form of each candidate, in the same order.
SELECT c.name::text AS name
FROM unnest(@candidates::text[]) WITH ORDINALITY AS c (name, n)
WHERE NOT EXISTS (
    SELECT 1 FROM bots b
    WHERE b.owner_id = @owner_id AND b.deleted_at IS NULL AND b.name_fold = (@folds::text[])[c.n]
)
ORDER BY c.n
LIMIT 1;

-- name: BotCountByStatus :many
SELECT status, count(*) AS bots FROM bots WHERE deleted_at IS NULL GROUP BY status;
