-- name: UserEnsure :exec
-- Creates the user on first use; a no-op for a user who exists.
INSERT INTO users (id) VALUES (@id) ON CONFLICT (id) DO NOTHING;

-- name: UserLock :exec
-- Serialises the naming of a user's copies. NO KEY UPDATE does not block the foreign-key
-- checks of the user's other writes.
SELECT id FROM users WHERE id = @id FOR NO KEY UPDATE;
