package migrate_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/migrate"
)

func TestBotVersionsMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0010_bot_versions")
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	active, failed, deleted := uuid.New(), uuid.New(), uuid.New()
	for i, b := range []struct {
		id     uuid.UUID
		status string
		msg    *string
	}{{id: active, status: "active"}, {id: failed, status: "error", msg: new("out of quota")}, {id: deleted, status: "training"}} {
		_, err := conn.Exec(t.Context(), `INSERT INTO bots (id, owner_id, name, name_fold, model, temperature, system_prompt, is_public, status, status_message, created_at)
			VALUES ($1, $2, $3, $3, 'gpt-4o', $4, 'Be kind.', false, $5, $6, $7)`,
			b.id, owner, "bot "+b.status, 0.5+float64(i)/10, b.status, b.msg, day.AddDate(0, 0, i))
		require.NoError(t, err)
	}
	_, err := conn.Exec(t.Context(), "UPDATE bots SET deleted_at = now() WHERE id = $1", deleted)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), `INSERT INTO idempotency_keys (user_id, key, request_hash, bot)
		VALUES ($1, 'k', '\x00', jsonb_build_object('id', $2::uuid, 'version', 1))`, owner, active)
	require.NoError(t, err)

	applied, err := migrate.Up(t.Context(), conn)
	require.NoError(t, err)
	require.Contains(t, applied, "0010_bot_versions")

	type version struct {
		number      int32
		model       string
		temperature float64
		prompt      string
		status      string
		msg         *string
		createdAt   time.Time
		createdBy   uuid.UUID
		source      string
	}
	read := func(id uuid.UUID) (int32, []version) {
		var cv int32
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT config_version FROM bots WHERE id = $1", id).Scan(&cv))
		rows, err := conn.Query(t.Context(), `SELECT number, model, temperature, system_prompt, status::text, status_message, created_at, created_by, source
			FROM bot_versions WHERE bot_id = $1 ORDER BY number`, id)
		require.NoError(t, err)
		defer rows.Close()
		var out []version
		for rows.Next() {
			var v version
			require.NoError(t, rows.Scan(&v.number, &v.model, &v.temperature, &v.prompt, &v.status, &v.msg, &v.createdAt, &v.createdBy, &v.source))
			out = append(out, v)
		}
		require.NoError(t, rows.Err())
		return cv, out
	}

	t.Run("EveryBotGetsVersionOneWithItsConfigurationAndStatus", func(t *testing.T) {
		for i, id := range []uuid.UUID{active, failed, deleted} {
			cv, vs := read(id)
			require.Equal(t, int32(1), cv)
			require.Len(t, vs, 1)
			v := vs[0]
			require.Equal(t, int32(1), v.number)
			require.Equal(t, "gpt-4o", v.model)
			require.Equal(t, 0.5+float64(i)/10, v.temperature)
			require.Equal(t, "Be kind.", v.prompt)
			require.Equal(t, "create", v.source)
			require.Equal(t, owner, v.createdBy)
			require.True(t, day.AddDate(0, 0, i).Equal(v.createdAt))
		}
		_, vs := read(failed)
		require.Equal(t, "error", vs[0].status)
		require.Equal(t, "out of quota", *vs[0].msg)
		_, vs = read(active)
		require.Equal(t, "active", vs[0].status)
	})

	t.Run("AKeptBotIsReplayedAsVersionOne", func(t *testing.T) {
		var cv int32
		// The column is resource since 0020_idempotent_webhooks.
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT (resource->>'config_version')::int FROM idempotency_keys WHERE key = 'k'").Scan(&cv))
		require.Equal(t, int32(1), cv)
	})

	t.Run("AVersionsConfigurationCannotChange", func(t *testing.T) {
		_, err := conn.Exec(t.Context(), "UPDATE bot_versions SET system_prompt = 'Be rude.' WHERE bot_id = $1", active)
		require.ErrorContains(t, err, "immutable")
	})

	t.Run("APurgeRemovesTheVersions", func(t *testing.T) {
		_, err := conn.Exec(t.Context(), "DELETE FROM bots WHERE id = $1", deleted)
		require.NoError(t, err)
		var left int
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM bot_versions WHERE bot_id = $1", deleted).Scan(&left))
		require.Zero(t, left)
	})
}
