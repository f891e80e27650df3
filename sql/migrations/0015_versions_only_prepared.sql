-- What training prepared is kept by the versions alone (migration 0012). The bot row kept a
-- copy for its latest version, about a kilobyte of JSON (the system prompt once more) in
-- every active bot's row, read by nothing but the edit that reuses it: every list and search
-- read pages of rows twice as large as they needed. Dropping the column does not rewrite the
-- table; the space is reused as rows are written.
ALTER TABLE bots DROP COLUMN prepared_config;

-- The runtime read path no longer caches which version is a bot's latest active one (it reads
-- it each time), so a version that becomes active announces nothing: a temperature-only edit,
-- an instant rollback or a finished training commits without a notification, and so without
-- waiting for PostgreSQL's notification lock.
DROP TRIGGER bot_versions_config_active ON bot_versions;
DROP TRIGGER bot_versions_config_activated ON bot_versions;
