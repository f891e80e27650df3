package bench

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/migrate"
)

// setupSeed returns a pool on a migrated database of t's own, not yet seeded.
func setupSeed(t *testing.T) *pgxpool.Pool {
	t.Helper()
	_, dbURL := benchDatabase(t)
	require.NoError(t, createDatabase(t.Context(), dbURL))
	pool, err := newPool(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	conn, err := pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()
	_, err = migrate.Up(t.Context(), conn.Conn())
	require.NoError(t, err)
	return pool
}

// count runs a query of one number.
func count(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), sql).Scan(&n), sql)
	return n
}

func TestSeed(t *testing.T) {
	t.Parallel()

	t.Run("ReconfiguredBotsHaveVersionsWithoutGapsAndAnAliasAtAnActiveOne", func(t *testing.T) {
		t.Parallel()
		pool := setupSeed(t)
		require.NoError(t, seed(t.Context(), pool, 20, 2000, &bytes.Buffer{}))

		reconfigured := count(t, pool, `SELECT count(*) FROM bots WHERE config_version > 1`)
		require.Greater(t, reconfigured, 100, "about one active bot in ten is reconfigured")
		require.Zero(t, count(t, pool, `SELECT count(*) FROM bots WHERE config_version = 2 OR config_version > 8`),
			"a reconfigured bot has 3 to 8 versions")
		require.Zero(t, count(t, pool, `
			SELECT count(*) FROM bots b
			JOIN LATERAL (SELECT count(*)::int AS n, max(number) AS latest FROM bot_versions v WHERE v.bot_id = b.id) v ON true
			WHERE (v.n, v.latest) IS DISTINCT FROM (b.config_version, b.config_version)`),
			"versions are numbered 1 to config_version without gaps")
		require.Zero(t, count(t, pool, `
			SELECT count(*) FROM bots b JOIN bot_versions v ON v.bot_id = b.id AND v.number = b.config_version
			WHERE (v.model, v.temperature, v.system_prompt, v.status) IS DISTINCT FROM (b.model, b.temperature, b.system_prompt, b.status)`),
			"the latest version holds the bot's configuration and status")
		require.Zero(t, count(t, pool, `
			SELECT count(*) FROM bot_versions v JOIN bot_versions p ON p.bot_id = v.bot_id AND p.number = v.number - 1
			WHERE p.temperature = v.temperature OR v.source <> 'update'`),
			"every later version is an update that changed the temperature")
		require.Zero(t, count(t, pool, `
			SELECT count(*) FROM bot_versions v JOIN bots b ON b.id = v.bot_id
			WHERE v.number < b.config_version AND v.status <> 'active'`),
			"earlier versions are active")
		require.Zero(t, count(t, pool, `SELECT count(*) FROM bots WHERE config_version > 1 AND status <> 'active'`),
			"only active bots are reconfigured, so that every version of theirs can be aliased")
		require.Zero(t, count(t, pool, `
			SELECT count(*) FROM bot_versions v JOIN bots b ON b.id = v.bot_id
			WHERE b.config_version > 1 AND v.temperature NOT BETWEEN 0 AND 1`),
			"a reconfigured bot's temperatures are within every model's range, so that changing them trained nothing")
		require.Zero(t, count(t, pool, `
			SELECT count(*) FROM bot_versions
			WHERE status = 'active' AND (prepared_config->>'temperature')::float8 <> temperature`),
			"an active version's prepared configuration is at its own temperature")

		require.Equal(t, reconfigured, count(t, pool, `
			SELECT count(*) FROM bot_aliases a JOIN bots b ON b.id = a.bot_id
			WHERE a.name = 'production' AND a.version = b.config_version - 1
			  AND a.etag = (SELECT c.last FROM bot_alias_etags c WHERE c.bot_id = a.bot_id)`),
			"every reconfigured bot, and no other, has its alias at the version before its latest, with an etag its creation took from its bot's counter")
		require.Equal(t, reconfigured, count(t, pool, `SELECT count(*) FROM bot_alias_etags WHERE last = 1`),
			"each bot's one alias has its bot's first etag")
		require.Equal(t, reconfigured, count(t, pool, `SELECT count(*) FROM bot_aliases`))
		require.Equal(t, reconfigured, count(t, pool, `
			SELECT count(*) FROM bot_alias_moves m JOIN bot_aliases a USING (bot_id, name)
			WHERE m.from_version IS NULL AND m.to_version = a.version`),
			"each alias's history holds its creation")
		require.Equal(t, reconfigured, count(t, pool, `SELECT count(*) FROM bot_alias_moves`))

		data, err := loadSample(t.Context(), pool)
		require.NoError(t, err)
		require.Len(t, data.versioned.bots, count(t, pool, `SELECT count(*) FROM bots WHERE config_version > 1 AND deleted_at IS NULL`),
			"the sample holds every live reconfigured bot of a small dataset")
		for i, b := range data.versioned.bots {
			require.GreaterOrEqual(t, len(b.Active), 3, "bot %s", b.ID)
			var etag int64
			require.NoError(t, pool.QueryRow(t.Context(), `SELECT etag FROM bot_aliases WHERE bot_id = $1 AND name = $2`, b.ID, benchAlias).Scan(&etag))
			require.Equal(t, etag, data.versioned.etags[i], "bot %s: the sample holds the alias's etag", b.ID)
			require.Equal(t, b.Active[len(b.Active)-2], data.versioned.at[i], "bot %s: the alias is at the version before the latest", b.ID)
		}
	})

	t.Run("ADatasetOfAnOlderLayoutIsSeededAgain", func(t *testing.T) {
		t.Parallel()
		pool := setupSeed(t)
		var out bytes.Buffer
		require.NoError(t, seed(t.Context(), pool, 20, 400, &out))
		require.NoError(t, seed(t.Context(), pool, 20, 400, &out))
		require.Contains(t, out.String(), "(reused;", "the same sizes and layout are reused")

		// What an older benchmark left: one version a bot, no aliases, no layout.
		for _, sql := range []string{
			`DELETE FROM bot_aliases`, `DELETE FROM bot_alias_moves`, `DELETE FROM bot_versions WHERE number > 1`,
			`UPDATE bots SET config_version = 1`, `ALTER TABLE bench_dataset DROP COLUMN layout`,
		} {
			_, err := pool.Exec(t.Context(), sql)
			require.NoError(t, err, sql)
		}
		out.Reset()
		require.NoError(t, seed(t.Context(), pool, 20, 400, &out))
		require.Contains(t, out.String(), "loaded in")
		require.Positive(t, count(t, pool, `SELECT count(*) FROM bot_aliases`))
		require.Equal(t, datasetLayout, count(t, pool, `SELECT layout FROM bench_dataset`))
	})
}
