-- Every query is scoped to the caller in its WHERE clause: a bot the caller may not see is
-- never loaded. Reads see the caller's bots and public bots; writes only the caller's.
-- Every write names its caller and request for the events its triggers record
-- (bot_events_context, migration 0016), in the statement itself.
--
-- Lock order. Every transaction that writes a bot or its versions, aliases or events locks
-- the bot's row first, FOR NO KEY UPDATE (BotLock, or VersionLockBot for the training
-- worker), in a statement of its own, before any statement that reads, locks or writes the
-- row or a row that refers to it (a foreign key check takes FOR KEY SHARE on the bot).
-- Then the other rows it writes: the alias counter (bot_alias_etags), then the alias. A
-- statement that locks the bot and then updates it (the CTEs of BotUpdate, BotTrain, ...)
-- must not be the one that takes the lock: its UPDATE scans with the snapshot the statement
-- took before it waited, finds the row's older version, and queues for that version's tuple
-- lock while holding the newer one, behind a writer that waits for it: a deadlock (40P01).
-- With the lock taken before, the statement's snapshot sees the version it holds.
-- One exception, for its single round trip: Update's settled-only edit (BotUpdate with
-- settled_only, alone), which the service runs again when it is a deadlock's victim.

-- name: BotLock :exec
-- Locks the caller's bot, deleted or not, until the transaction ends: the first statement
-- of every transaction that writes it (see Lock order above). No row, and no lock, for a
-- bot that is not the caller's; the write that follows misses it too and says why.
SELECT b.id FROM bots b
WHERE b.id = @id AND b.owner_id = @caller
FOR NO KEY UPDATE;

-- name: BotCreate :one
-- name_fold and description_fold are the folded forms of name and description (bots.Fold).
-- The bot's configuration is recorded as its version 1, whose source says which write made
-- the bot (create or duplicate). duplicate_of names the source of a copy, for its event.
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
    WHERE bot_events_context(bot.owner_id, @request_id::text)
      AND set_config('bots.duplicate_of', COALESCE(sqlc.narg(duplicate_of)::uuid::text, ''), true) IS NOT NULL
)
SELECT * FROM bot;

-- name: BotGet :one
SELECT * FROM bots
WHERE id = @id AND deleted_at IS NULL AND (owner_id = @caller OR is_public);

-- name: BotUpdate :one
-- A NULL parameter keeps the column; description has its own flag because null clears it.
-- The version checks are preconditions_hold's: check_version and versions carry If-Match,
-- except_versions If-None-Match.
-- name_fold and description_fold come with name and description; a new folded name clears
-- name_clash, so that the uniqueness of names applies to the renamed bot.
-- This statement alone decides what an edit does to the configuration:
--   edit.reconfigures: the model, temperature or system prompt changes, and the bot's next
--     version is recorded, numbered from the locked row's config_version, so that concurrent
--     edits number their versions one after another;
--   edit.trains: the new version needs training. It does not when only the temperature
--     changes, the latest version is active and its model allows the new temperature
--     (servable maps each model that can be served to its highest temperature): the new
--     version is active at once, with the prepared configuration of its predecessor at the
--     new temperature.
-- Both are read from the row as locked, which holds the latest version's status. It runs
-- after BotLock (see Lock order above), so the statement's snapshot, taken with the lock
-- held, has the latest version and its prepared configuration, which no training can change
-- before the transaction ends: it locks the bot first too. When
-- settled_only is set, an edit that trains is left alone (no row comes back): its new version
-- needs a job, which the caller queues only for an edit that trains.
WITH edit AS (
    SELECT bots.id AS bot_id,
           (sqlc.narg(model) <> bots.model OR sqlc.narg(system_prompt) <> bots.system_prompt
            OR sqlc.narg(temperature) <> bots.temperature) IS TRUE AS reconfigures,
           (sqlc.narg(model) <> bots.model OR sqlc.narg(system_prompt) <> bots.system_prompt) IS TRUE
           OR ((sqlc.narg(temperature) <> bots.temperature) IS TRUE
               AND NOT (bots.status = 'active' AND prior.prepared_config IS NOT NULL
                        AND sqlc.narg(temperature) <= (@servable::jsonb ->> bots.model)::float8) IS TRUE) AS trains,
           prior.prepared_config AS prior_prepared
    FROM bots
    LEFT JOIN bot_versions prior ON prior.bot_id = bots.id AND prior.number = bots.config_version
    WHERE bots.id = @id AND bots.owner_id = @caller AND bots.deleted_at IS NULL
      AND preconditions_hold(bots.version, @check_version::boolean, @versions::bigint[], @except_versions::bigint[])
      AND bot_events_context(@caller, @request_id::text)
    FOR NO KEY UPDATE OF bots
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
        status        = CASE WHEN edit.trains THEN 'training' ELSE status END,
        status_message = CASE WHEN edit.trains THEN NULL ELSE status_message END,
        config_version = CASE WHEN edit.reconfigures THEN config_version + 1 ELSE config_version END,
        version       = version + 1,
        updated_at    = now()
    FROM edit
    WHERE bots.id = edit.bot_id
      AND NOT (@settled_only::boolean AND edit.trains)
    RETURNING bots.*
), recorded AS (
    INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, status_message,
                              prepared_config, created_at, created_by, source)
    SELECT id, config_version, model, temperature, system_prompt, status, status_message,
           CASE WHEN NOT edit.trains THEN jsonb_set(edit.prior_prepared, '{temperature}', to_jsonb(bot.temperature)) END,
           updated_at, owner_id, 'update'
    FROM bot JOIN edit ON edit.bot_id = bot.id
    WHERE edit.reconfigures
)
SELECT * FROM bot;

-- name: BotRevert :one
-- Records a new latest version with the configuration of version number (source revert),
-- and returns it. An active version's prepared configuration comes with it, and the bot is
-- active at once; any other version trains. The version checks are BotUpdate's. No row comes
-- back when the bot is not the caller's to write, a check fails, or the version does not
-- exist.
WITH target AS (
    SELECT * FROM bot_versions WHERE bot_versions.bot_id = @id AND bot_versions.number = @number
), edit AS (
    SELECT bots.id AS bot_id
    FROM bots
    WHERE bots.id = @id AND bots.owner_id = @caller AND bots.deleted_at IS NULL
      AND preconditions_hold(bots.version, @check_version::boolean, @versions::bigint[], @except_versions::bigint[])
      AND bot_events_context(@caller, @request_id::text)
    FOR NO KEY UPDATE
), bot AS (
    UPDATE bots SET
        model           = target.model,
        temperature     = target.temperature,
        system_prompt   = target.system_prompt,
        status          = CASE WHEN target.status = 'active' THEN 'active' ELSE 'training' END::bot_status,
        status_message  = NULL,
        config_version  = config_version + 1,
        version         = version + 1,
        updated_at      = now()
    FROM edit, target
    WHERE bots.id = edit.bot_id
    RETURNING bots.*
), recorded AS (
    INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, status_message,
                              prepared_config, created_at, created_by, source, reverted_from)
    SELECT bot.id, bot.config_version, bot.model, bot.temperature, bot.system_prompt, bot.status, bot.status_message,
           target.prepared_config, bot.updated_at, bot.owner_id, 'revert', @number::int
    FROM bot, target
    RETURNING *
)
SELECT * FROM recorded;

-- name: BotDelete :one
-- The version checks are BotUpdate's. The new version is the deleted bot's ETag, which a
-- restore's If-Match may name.
UPDATE bots SET deleted_at = now(), updated_at = now(), version = version + 1
WHERE id = @id AND owner_id = @caller AND deleted_at IS NULL
  AND preconditions_hold(version, @check_version::boolean, @versions::bigint[], @except_versions::bigint[])
  AND bot_events_context(@caller, @request_id::text)
RETURNING id, deleted_at::timestamptz AS deleted_at, version;

-- name: BotRestore :one
-- A restored bot whose latest version is in error is trained again, that version in place:
-- the error may come from a training cut short while the bot was deleted. One still in
-- training gets a new job too (a second job of a version is harmless: the first to finish
-- records it). Its name must be free again (name_clash is cleared). The version checks are
-- BotUpdate's, on the deleted bot's version: its deletion changed it, as every write does.
WITH cur AS (
    SELECT bots.id, bots.status AS old_status, bots.config_version
    FROM bots
    WHERE bots.id = @id AND bots.owner_id = @caller AND bots.deleted_at IS NOT NULL
      AND preconditions_hold(bots.version, @check_version::boolean, @versions::bigint[], @except_versions::bigint[])
      AND bot_events_context(@caller, @request_id::text)
    FOR NO KEY UPDATE
), bot AS (
    UPDATE bots SET deleted_at = NULL, name_clash = false, updated_at = now(), version = version + 1,
        status = CASE WHEN status = 'active' THEN status ELSE 'training' END,
        status_message = CASE WHEN status = 'active' THEN status_message END
    FROM cur
    WHERE bots.id = cur.id
    RETURNING bots.*
), retrained AS (
    UPDATE bot_versions v SET status = 'training', status_message = NULL
    FROM cur
    WHERE v.bot_id = cur.id AND v.number = cur.config_version AND cur.old_status = 'error'
)
SELECT * FROM bot;

-- name: BotTrain :one
-- Trains the bot's latest configuration again. A latest version in training or in error is
-- trained again in place; an active one never changes, so its configuration is recorded as
-- a new version (source train) that trains. The version checks are BotUpdate's.
WITH cur AS (
    SELECT bots.id, bots.status AS old_status, bots.config_version
    FROM bots
    WHERE bots.id = @id AND bots.owner_id = @caller AND bots.deleted_at IS NULL
      AND preconditions_hold(bots.version, @check_version::boolean, @versions::bigint[], @except_versions::bigint[])
      AND bot_events_context(@caller, @request_id::text)
    FOR NO KEY UPDATE
), bot AS (
    UPDATE bots SET status = 'training', status_message = NULL,
        config_version = CASE WHEN cur.old_status = 'active' THEN bots.config_version + 1 ELSE bots.config_version END,
        updated_at = now(), version = version + 1
    FROM cur
    WHERE bots.id = cur.id
    RETURNING bots.*
), recorded AS (
    INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, status_message,
                              created_at, created_by, source)
    SELECT bot.id, bot.config_version, bot.model, bot.temperature, bot.system_prompt, bot.status,
           bot.status_message, bot.updated_at, bot.owner_id, 'train'
    FROM bot JOIN cur ON cur.id = bot.id
    WHERE cur.old_status = 'active'
), retrained AS (
    UPDATE bot_versions v SET status = 'training', status_message = NULL
    FROM cur
    WHERE v.bot_id = cur.id AND v.number = cur.config_version AND cur.old_status <> 'active'
)
SELECT * FROM bot;

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
