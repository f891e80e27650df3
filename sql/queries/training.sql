-- Queries of the training worker. The worker acts for the system, not for a caller, so these
-- are scoped by the job's bot id and version number instead of an owner.

-- name: VersionForTraining :one
-- The version a training job trains; its status tells whether the job still has work.
SELECT model, temperature, system_prompt, status FROM bot_versions
WHERE bot_id = @bot_id AND number = @number;

-- name: VersionLockBot :exec
-- Locks a bot, by id alone, for the training worker's write of one of its versions: the
-- first statement of VersionFinishTraining's transaction (see bots.sql's lock order).
SELECT bots.id FROM bots
WHERE bots.id = @bot_id
FOR NO KEY UPDATE;

-- name: VersionFinishTraining :one
-- Moves a version out of training, and its bot with it when the version is still the bot's
-- latest. A version already out of training (another job of it finished first) matches
-- nothing, and the result is dropped. It runs after VersionLockBot, in its transaction, as
-- every write of a bot and its versions locks the bot first, so that this statement and a
-- concurrent edit or retraining of the same bot wait for each other instead of deadlocking.
-- Its commit waits for the WAL flush like every other (synchronous_commit as configured).
-- Without it, a failover to a standby loses the newest outcomes while River, whose first try
-- to record the job's completion failed with the old primary, records it on the new one: the
-- version would stay in training with a completed job, as the failover drill showed.
WITH version AS (
    UPDATE bot_versions SET
        status          = @status,
        status_message  = sqlc.narg(status_message),
        prepared_config = sqlc.narg(prepared_config)
    WHERE bot_id = @bot_id AND number = @number AND status = 'training'
    RETURNING bot_id, number, status, status_message
), bot AS (
    UPDATE bots SET
        status          = version.status,
        status_message  = version.status_message,
        version         = bots.version + 1,
        updated_at      = now()
    FROM version
    WHERE bots.id = version.bot_id AND bots.config_version = version.number
    RETURNING bots.id
)
SELECT version.number, EXISTS (SELECT 1 FROM bot) AS latest FROM version;

-- name: TrainingAbandoned :many
-- Lists the versions still in training whose job River discarded and that no other job will
-- train: a job whose last attempt was cut short by a crash of the process working it is
-- discarded by River's rescuer, which calls no error handler, so nothing else moves such a
-- version out of training. River's (state, finalized_at) index finds the discarded jobs
-- (its cleaner deletes them after a retention period), the partial index of versions in
-- training their versions, and River's index of jobs to work the jobs still to come.
SELECT v.bot_id, v.number, j.attempt
FROM river_job j
JOIN bot_versions v ON v.bot_id = (j.args->>'bot_id')::uuid AND v.number = (j.args->>'number')::int
WHERE j.state = 'discarded' AND j.finalized_at IS NOT NULL AND j.kind = 'train_bot' AND v.status = 'training'
  AND NOT EXISTS (
      SELECT 1 FROM river_job o
      WHERE o.kind = 'train_bot' AND o.state IN ('available', 'pending', 'retryable', 'running', 'scheduled')
        AND o.args @> jsonb_build_object('bot_id', v.bot_id, 'number', v.number)
  );
