package migrate_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestBotVersionsMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0010_bot_versions")
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []uuid.UUID
	for i, b := range []struct {
		status string
		msg    *string
	}{{status: "active"}, {status: "error", msg: new("out of quota")}, {status: "training"}} {
		ids = append(ids, insertBot(t, conn, owner, "bot "+b.status, map[string]any{
			"name_fold": "bot " + b.status, "temperature": 0.5 + float64(i)/10, "system_prompt": "Be kind.",
			"status": b.status, "status_message": b.msg, "created_at": day.AddDate(0, 0, i),
		}))
	}
	active, failed, deleted := ids[0], ids[1], ids[2]
	_, err := conn.Exec(t.Context(), "UPDATE bots SET deleted_at = now() WHERE id = $1", deleted)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), `INSERT INTO idempotency_keys (user_id, key, request_hash, bot)
		VALUES ($1, 'k', '\x00', jsonb_build_object('id', $2::uuid, 'version', 1))`, owner, active)
	require.NoError(t, err)

	upgrade(t, conn, "0010_bot_versions")

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

// Before versions trained on their own, only the bot kept a status and a prepared
// configuration, for its latest version; the migration gives every version its own.
func TestVersionsTrainMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0012_versions_train")
	// A bot at version 4: 1 active and superseded, 2 superseded in training, 3 active on a
	// model retired since, 4 its active latest, with the bot's prepared configuration.
	bot := insertBot(t, conn, owner, "Support", map[string]any{
		"name_fold": "support", "temperature": 0.4, "system_prompt": "Be kind.",
		"status": "active", "config_version": 4, "prepared_config": `{"from": "the bot"}`,
	})
	for _, v := range []struct {
		number int
		model  string
		status string
	}{{1, "gpt-4o-mini", "active"}, {2, "gpt-4o", "training"}, {3, "gpt-3.5-turbo", "active"}, {4, "gpt-4o", "active"}} {
		_, err := conn.Exec(t.Context(), `INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, created_by, source)
			VALUES ($1, $2, $3, 0.4, 'Be kind.', $4, $5, CASE WHEN $2 = 1 THEN 'create' ELSE 'update' END)`,
			bot, v.number, v.model, v.status, owner)
		require.NoError(t, err)
	}

	upgrade(t, conn, "0012_versions_train")

	read := func(number int) (status string, msg *string, prepared map[string]any) {
		var raw []byte
		require.NoError(t, conn.QueryRow(t.Context(),
			`SELECT status::text, status_message, prepared_config FROM bot_versions WHERE bot_id = $1 AND number = $2`,
			bot, number).Scan(&status, &msg, &raw))
		if raw != nil {
			require.NoError(t, json.Unmarshal(raw, &prepared))
		}
		return status, msg, prepared
	}

	status, msg, prepared := read(1)
	require.Equal(t, "active", status)
	require.Nil(t, msg)
	require.Equal(t, "gpt-4o-mini", prepared["model"], "prepared as a training prepares it")
	require.Equal(t, "OpenAI", prepared["provider"])
	require.Equal(t, 0.4, prepared["temperature"])

	status, msg, prepared = read(2)
	require.Equal(t, "error", status, "no job will ever train it")
	require.Equal(t, "this version was replaced before its training finished; revert to it to train it", *msg)
	require.Nil(t, prepared)

	status, msg, prepared = read(3)
	require.Equal(t, "error", status, "its model no longer prepares")
	require.Contains(t, *msg, `model "gpt-3.5-turbo" is retired`)
	require.Nil(t, prepared)

	status, msg, prepared = read(4)
	require.Equal(t, "active", status)
	require.Nil(t, msg)
	require.Equal(t, map[string]any{"from": "the bot"}, prepared, "the latest version takes its bot's")
}
