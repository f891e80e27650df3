package migrate_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/migrate"
)

// Before versions trained on their own, only the bot kept a status and a prepared
// configuration, for its latest version; the migration gives every version its own.
func TestVersionsTrainMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0012_versions_train")
	// A bot at version 4: 1 active and superseded, 2 superseded in training, 3 active on a
	// model retired since, 4 its active latest, with the bot's prepared configuration.
	bot := uuid.New()
	_, err := conn.Exec(t.Context(), `INSERT INTO bots (id, owner_id, name, name_fold, model, temperature, system_prompt,
			is_public, status, config_version, prepared_config)
		VALUES ($1, $2, 'Support', 'support', 'gpt-4o', 0.4, 'Be kind.', false, 'active', 4, '{"from": "the bot"}')`, bot, owner)
	require.NoError(t, err)
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

	applied, err := migrate.Up(t.Context(), conn)
	require.NoError(t, err)
	require.Contains(t, applied, "0012_versions_train")

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
