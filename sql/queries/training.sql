-- Queries of the training worker. The worker acts for the system, not for a caller, so these
-- are scoped by the job's bot id and version instead of an owner.

-- name: BotForTraining :one
SELECT * FROM bots WHERE id = @id;

-- name: BotFinishTraining :one
-- Moves a bot out of training, but only the version the job trained: a bot edited, deleted
-- or retrained meanwhile matches nothing, and the stale result is dropped.
UPDATE bots SET
    status          = @status,
    status_message  = sqlc.narg(status_message),
    prepared_config = sqlc.narg(prepared_config),
    version         = version + 1,
    updated_at      = now()
WHERE id = @id AND version = @version AND status = 'training' AND deleted_at IS NULL
RETURNING *;

-- name: TrainingAbandoned :many
-- Lists the bots still in training whose version's job River discarded: a job whose last
-- attempt was cut short by a crash of the process working it is discarded by River's rescuer,
-- which calls no error handler, so nothing else moves such a bot out of training. Only the
-- version the job was for matches: a bot edited or retrained since has its own job. River's
-- (state, finalized_at) index finds the discarded jobs, which its cleaner deletes after a
-- retention period; the bot is found by its primary key.
SELECT b.id AS bot_id, b.version, j.attempt
FROM river_job j
JOIN bots b ON b.id = (j.args->>'bot_id')::uuid AND b.version = (j.args->>'version')::bigint
WHERE j.state = 'discarded' AND j.finalized_at IS NOT NULL AND j.kind = 'train_bot'
  AND b.status = 'training' AND b.deleted_at IS NULL;
