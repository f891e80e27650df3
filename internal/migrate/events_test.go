package migrate_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The status history moves into the events with the ids that streams sent, so that a
// client's Last-Event-ID stays valid, and reads the same through the view.
func TestBotEventsMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0016_bot_events")
	ctx := t.Context()

	// Ids far from 1, as a long-lived history has them.
	_, err := conn.Exec(ctx, "ALTER TABLE bot_status_events ALTER COLUMN id RESTART WITH 1000")
	require.NoError(t, err)
	bot := insertBot(t, conn, owner, "Support", map[string]any{"name_fold": "support"})
	for _, sql := range []string{
		"UPDATE bots SET status = 'error', status_message = 'out of quota' WHERE id = $1",
		"UPDATE bots SET status = 'training', status_message = NULL WHERE id = $1",
		"UPDATE bots SET status = 'active' WHERE id = $1",
	} {
		_, err := conn.Exec(ctx, sql, bot)
		require.NoError(t, err)
	}
	type change struct {
		ID       int64
		From, To *string
		Message  *string
	}
	history := func() []change {
		rows, err := conn.Query(ctx, `SELECT id, from_status::text, to_status::text, message FROM bot_status_events
			WHERE bot_id = $1 ORDER BY id`, bot)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[change])
		require.NoError(t, err)
		return out
	}
	before := history()
	require.Len(t, before, 4)

	upgrade(t, conn, "0016_bot_events")

	require.Equal(t, before, history(), "the same history, ids included")
	rows, err := conn.Query(ctx, "SELECT actor FROM bot_events WHERE bot_id = $1 ORDER BY id", bot)
	require.NoError(t, err)
	actors, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{owner.String(), "system", owner.String(), "system"}, actors, "inferred from each transition")

	_, err = conn.Exec(ctx, "UPDATE bots SET status = 'training' WHERE id = $1", bot)
	require.NoError(t, err)
	after := history()
	require.Len(t, after, 5)
	require.Greater(t, after[4].ID, before[3].ID, "a new event is numbered after the migrated ones")
}
