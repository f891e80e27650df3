package migrate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/db"
	"github.com/chatsphere/bots/internal/bots"
)

// Before migration 0023 an alias's etag counted its moves from 1 and started again when the
// alias was deleted and created again. After it, every etag given is above every etag an
// alias had before, including those of aliases deleted since, which only their history
// remembers.
func TestAliasETagsMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0023_alias_etags")
	ctx := t.Context()
	bot := activeBot(t, conn, owner, "Support", 2)
	moves := func(name string, versions ...*int) {
		for i := 1; i < len(versions); i++ {
			_, err := conn.Exec(ctx, `INSERT INTO bot_alias_moves (bot_id, name, from_version, to_version, changed_by)
				VALUES ($1, $2, $3, $4, $5)`, bot, name, versions[i-1], versions[i], owner)
			require.NoError(t, err)
		}
	}
	one, two := new(1), new(2)
	// production: created at 1, moved to 2 and back, so at etag 3.
	moves("production", nil, one, two, one)
	// staging: a first life that reached etag 6 and was deleted, then created again at 1.
	moves("staging", nil, one, two, one, two, one, two, nil, one)
	_, err := conn.Exec(ctx, `INSERT INTO bot_aliases (bot_id, name, version, etag) VALUES ($1, 'production', 1, 3), ($1, 'staging', 1, 1)`, bot)
	require.NoError(t, err)
	const highest = 6 // the highest etag any alias ever had

	upgrade(t, conn, "0023_alias_etags")

	var etag int64
	require.NoError(t, conn.QueryRow(ctx, "SELECT etag FROM bot_aliases WHERE bot_id = $1 AND name = 'production'", bot).Scan(&etag))
	require.Equal(t, int64(3), etag, "an alias keeps its ETag through the migration")

	q := db.New()
	seen := map[int64]bool{}
	for _, w := range []struct {
		name    string
		version int32
	}{{"canary", 1}, {"staging", 2}, {"production", 2}, {"staging", 1}} {
		a, err := q.BotAliasPut(ctx, conn, db.BotAliasPutParams{Name: w.name, BotID: bot, Version: w.version, Caller: owner, MaxAliases: bots.MaxAliases})
		require.NoError(t, err)
		require.Greater(t, a.Etag, int64(highest), "%s at %d: above every etag given before", w.name, w.version)
		require.False(t, seen[a.Etag], "%s at %d: an etag given twice", w.name, w.version)
		seen[a.Etag] = true
	}
}
