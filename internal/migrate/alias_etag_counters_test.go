package migrate_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/db"
	"github.com/chatsphere/bots/internal/bots"
)

// Before migration 0026 every alias's etag came from one sequence shared by all bots. After
// it each bot counts its own: the aliases keep their etags, and each bot that had aliases
// goes on above every etag its aliases ever had, those of deleted ones included; a bot that
// never had one starts at 1.
func TestAliasETagCountersMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0026_alias_etags_per_bot")
	ctx := t.Context()
	a, b, c := activeBot(t, conn, owner, "Support", 2), activeBot(t, conn, owner, "Sales", 2), activeBot(t, conn, owner, "Quiet", 2)
	highest := map[uuid.UUID]int64{} // the highest etag any alias of the bot ever had
	// write points an alias at version, as the release before did (the etag from the
	// sequence), or deletes it when version is nil, and records it in the alias's history.
	write := func(bot uuid.UUID, name string, version *int) {
		var from *int
		err := conn.QueryRow(ctx, "SELECT version FROM bot_aliases WHERE bot_id = $1 AND name = $2", bot, name).Scan(&from)
		if err != nil {
			require.ErrorIs(t, err, pgx.ErrNoRows)
		}
		if version == nil {
			_, err = conn.Exec(ctx, "DELETE FROM bot_aliases WHERE bot_id = $1 AND name = $2", bot, name)
		} else {
			var etag int64
			err = conn.QueryRow(ctx, `INSERT INTO bot_aliases (bot_id, name, version) VALUES ($1, $2, $3)
				ON CONFLICT (bot_id, name) DO UPDATE SET version = EXCLUDED.version, etag = EXCLUDED.etag
				RETURNING etag`, bot, name, *version).Scan(&etag)
			highest[bot] = max(highest[bot], etag)
		}
		require.NoError(t, err)
		_, err = conn.Exec(ctx, `INSERT INTO bot_alias_moves (bot_id, name, from_version, to_version, changed_by)
			VALUES ($1, $2, $3, $4, $5)`, bot, name, from, version, owner)
		require.NoError(t, err)
	}
	one, two := new(1), new(2)
	write(a, "production", one)
	write(b, "production", one)
	write(a, "canary", one)
	write(a, "production", two)
	write(b, "production", two)
	write(a, "staging", one) // the highest of a, which no alias keeps
	write(a, "staging", nil)
	kept := map[string]int64{}
	rows, err := conn.Query(ctx, "SELECT bot_id || '/' || name, etag FROM bot_aliases")
	require.NoError(t, err)
	for rows.Next() {
		var key string
		var etag int64
		require.NoError(t, rows.Scan(&key, &etag))
		kept[key] = etag
	}
	require.NoError(t, rows.Err())
	require.Len(t, kept, 3)

	upgrade(t, conn, "0026_alias_etags_per_bot")

	for key, etag := range kept {
		var now int64
		require.NoError(t, conn.QueryRow(ctx, "SELECT etag FROM bot_aliases WHERE bot_id || '/' || name = $1", key).Scan(&now))
		require.Equal(t, etag, now, "%s keeps its ETag through the migration", key)
	}
	var seq *string
	require.NoError(t, conn.QueryRow(ctx, "SELECT to_regclass('bot_aliases_etag_seq')::text").Scan(&seq))
	require.Nil(t, seq, "the shared sequence is gone")

	q := db.New()
	seen := map[uuid.UUID]map[int64]bool{a: {}, b: {}}
	for _, w := range []struct {
		bot     uuid.UUID
		name    string
		version int32
	}{{a, "staging", 1}, {a, "production", 1}, {b, "production", 1}, {a, "canary", 2}, {b, "canary", 1}} {
		alias, err := q.BotAliasPut(ctx, conn, db.BotAliasPutParams{Name: w.name, BotID: w.bot, Version: w.version, Caller: owner, MaxAliases: bots.MaxAliases})
		require.NoError(t, err)
		require.Greater(t, alias.Etag, highest[w.bot], "%s at %d: above every etag its bot gave before", w.name, w.version)
		require.False(t, seen[w.bot][alias.Etag], "%s at %d: an etag given twice", w.name, w.version)
		seen[w.bot][alias.Etag] = true
	}
	moved, err := q.BotAliasMove(ctx, conn, db.BotAliasMoveParams{Name: "production", BotID: a, Version: 2, Caller: owner})
	require.NoError(t, err)
	require.Greater(t, moved.Etag, highest[a])
	require.False(t, seen[a][moved.Etag], "a move: an etag given twice")

	first, err := q.BotAliasPut(ctx, conn, db.BotAliasPutParams{Name: "production", BotID: c, Version: 1, Caller: owner, MaxAliases: bots.MaxAliases})
	require.NoError(t, err)
	require.Equal(t, int64(1), first.Etag, "a bot that never had an alias starts at 1")

	// A bot deleted for good takes its counter with it.
	_, err = conn.Exec(ctx, "DELETE FROM bots WHERE id = $1", a)
	require.NoError(t, err)
	var counters int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM bot_alias_etags WHERE bot_id = $1", a).Scan(&counters))
	require.Zero(t, counters)
}
