-- The columns of River's job table that sql/queries read, declared for sqlc only, so that it
-- can check and type those queries. This file is never run: River's own migrations
-- (rivermigrate, applied by internal/migrate) create the table, with these types.
CREATE TYPE river_job_state AS ENUM (
    'available', 'cancelled', 'completed', 'discarded', 'pending', 'retryable', 'running', 'scheduled'
);

CREATE TABLE river_job (
    id           bigint PRIMARY KEY,
    state        river_job_state NOT NULL,
    attempt      smallint NOT NULL,
    max_attempts smallint NOT NULL,
    finalized_at timestamptz,
    args         jsonb NOT NULL,
    kind         text NOT NULL
);
