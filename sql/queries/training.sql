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
