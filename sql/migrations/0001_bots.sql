-- Users are created on their first authenticated request; the id is the JWT's sub.
CREATE TABLE users (
    id         uuid PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE bot_status AS ENUM ('training', 'active', 'error');

-- The length checks repeat the contract's bounds so that no writer, whatever its path,
-- can store a bot the API would refuse.
CREATE TABLE bots (
    id             uuid PRIMARY KEY,
    owner_id       uuid NOT NULL REFERENCES users (id),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description    text CHECK (char_length(description) <= 500),
    model          text NOT NULL CHECK (char_length(model) BETWEEN 1 AND 100),
    temperature    double precision NOT NULL CHECK (temperature BETWEEN 0 AND 2),
    system_prompt  text NOT NULL CHECK (char_length(system_prompt) <= 1000),
    is_public      boolean NOT NULL,
    status         bot_status NOT NULL DEFAULT 'training',
    status_message text,
    -- version counts every change of the row; the ETag is derived from it.
    version        bigint NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- deleted_at is set by a (soft) delete; the row stays so that its owner can restore it.
    deleted_at     timestamptz
);

-- Names are unique per owner, ignoring case, among bots that are not deleted. The index
-- also serves the name sort of the list, where it makes ties impossible.
CREATE UNIQUE INDEX bots_owner_name_key ON bots (owner_id, lower(name)) WHERE deleted_at IS NULL;

-- One index per list sort, each ending in id so that ties are broken the same way the
-- queries order them.
CREATE INDEX bots_owner_created_idx ON bots (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX bots_owner_updated_idx ON bots (owner_id, updated_at, id) WHERE deleted_at IS NULL;

-- like_escape makes every character of a search text match itself in LIKE/ILIKE patterns.
CREATE FUNCTION like_escape(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(replace(replace(s, '\', '\\'), '%', '\%'), '_', '\_');
