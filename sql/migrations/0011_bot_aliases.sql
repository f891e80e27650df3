-- An alias is a name the owner points at one of a bot's versions (production -> 3), so that
-- clients can follow it instead of a number. Only an active version can be aliased: the write
-- that points an alias reads the version's status in the same statement. The alias is kept
-- while its bot is soft-deleted and goes with the bot when the bot is purged.
CREATE TABLE bot_aliases (
    bot_id     uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{0,39}$'),
    version    integer NOT NULL,
    -- Incremented by every move; makes the alias's strong ETag.
    etag       bigint NOT NULL DEFAULT 1 CHECK (etag >= 1),
    -- The version the alias pointed at before its last write; null until it is first
    -- written again after its creation. Set by the write itself, so that the history
    -- records the exact move even when writes race.
    moved_from integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, name),
    FOREIGN KEY (bot_id, version) REFERENCES bot_versions (bot_id, number) ON DELETE CASCADE
);

-- Every move of an alias: its creation (from_version null), a move, and its deletion
-- (to_version null), written in the same transaction as the move.
CREATE TABLE bot_alias_moves (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id       uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name         text NOT NULL,
    from_version integer,
    to_version   integer,
    changed_by   uuid NOT NULL REFERENCES users (id),
    changed_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (from_version IS NOT NULL OR to_version IS NOT NULL)
);

-- An alias's history, newest first.
CREATE INDEX bot_alias_moves_history ON bot_alias_moves (bot_id, name, id DESC);
