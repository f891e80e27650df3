package migrate_test

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/migrate"
)

// A migration test builds the schema of the release before its migration, writes rows as
// that release did, runs Up and checks what became of them. This file is its harness.

// foldMigrateBefore applies our migrations that come before name, as Up would have on an
// older release.
func foldMigrateBefore(t *testing.T, conn *pgx.Conn, name string) {
	t.Helper()
	all, err := migrate.All()
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), `CREATE TABLE schema_migrations (
		name       text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	require.NoError(t, err)
	for _, m := range all {
		if m.Name >= name {
			break
		}
		tx, err := conn.Begin(t.Context())
		require.NoError(t, err)
		require.NoError(t, m.Apply(t.Context(), tx), m.Name) // with its Go step, if it has one
		require.NoError(t, tx.Commit(t.Context()))
		_, err = conn.Exec(t.Context(), "INSERT INTO schema_migrations (name) VALUES ($1)", m.Name)
		require.NoError(t, err)
	}
}

// olderRelease connects to a database of its own with the schema of the release before
// migration name, holding one user, owner, for the bots a test writes there.
//
// The job queue's tables come with Up, after our migrations, so on a release that has the
// trigger bot_events_webhook (since 0018_webhooks) an event could not queue its deliveries:
// olderRelease disables the trigger, and upgrade enables it again before Up.
func olderRelease(t *testing.T, name string) (*pgx.Conn, uuid.UUID) {
	t.Helper()
	conn := migrateConnect(t, emptyDatabaseURL(t))
	foldMigrateBefore(t, conn, name)
	owner := uuid.New()
	_, err := conn.Exec(t.Context(), "INSERT INTO users (id) VALUES ($1)", owner)
	require.NoError(t, err)
	if hasWebhookTrigger(t, conn) {
		_, err = conn.Exec(t.Context(), "ALTER TABLE bot_events DISABLE TRIGGER bot_events_webhook")
		require.NoError(t, err)
	}
	return conn, owner
}

// hasWebhookTrigger reports whether the schema has the trigger bot_events_webhook.
func hasWebhookTrigger(t *testing.T, conn *pgx.Conn) bool {
	t.Helper()
	var has bool
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_trigger
		WHERE tgname = 'bot_events_webhook' AND tgrelid = to_regclass('bot_events'))`).Scan(&has))
	return has
}

// upgrade enables again what olderRelease disabled, runs Up and requires it to apply
// migration name.
func upgrade(t *testing.T, conn *pgx.Conn, name string) {
	t.Helper()
	if hasWebhookTrigger(t, conn) {
		_, err := conn.Exec(t.Context(), "ALTER TABLE bot_events ENABLE TRIGGER bot_events_webhook")
		require.NoError(t, err)
	}
	applied, err := migrate.Up(t.Context(), conn)
	require.NoError(t, err)
	require.Contains(t, applied, name)
}

// insertBot writes a bot of owner named name, as an older release wrote it, and returns its
// id. It writes the columns that every release had, with a configuration no test looks at
// (gpt-4o at 0.5, no prompt, private), and then cols, which override these or add the
// columns the test's release has besides: a test names every column that came later
// (name_fold since 0008, config_version since 0010, ...), so each writes its release's rows.
func insertBot(t *testing.T, conn *pgx.Conn, owner uuid.UUID, name string, cols map[string]any) uuid.UUID {
	t.Helper()
	id := uuid.New()
	values := map[string]any{
		"id": id, "owner_id": owner, "name": name,
		"model": "gpt-4o", "temperature": 0.5, "system_prompt": "", "is_public": false,
	}
	maps.Copy(values, cols)
	names := slices.Sorted(maps.Keys(values))
	args := make([]any, len(names))
	params := make([]string, len(names))
	for i, column := range names {
		args[i] = values[column]
		params[i] = "$" + strconv.Itoa(i+1)
	}
	_, err := conn.Exec(t.Context(), "INSERT INTO bots ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(params, ", ")+")", args...)
	require.NoError(t, err, name)
	return id
}

// activeBot writes a bot of owner named name at its version versions, every version of which
// is active, as the releases from 0015_versions_only_prepared on wrote it: the versions hold
// the prepared configurations, the bot none.
func activeBot(t *testing.T, conn *pgx.Conn, owner uuid.UUID, name string, versions int) uuid.UUID {
	t.Helper()
	bot := insertBot(t, conn, owner, name, map[string]any{
		"name_fold": strings.ToLower(name), "status": "active", "config_version": versions,
	})
	_, err := conn.Exec(t.Context(), `INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, prepared_config, created_by, source)
		SELECT $1, n, 'gpt-4o', 0.5, '', 'active', '{}', $2, CASE WHEN n = 1 THEN 'create' ELSE 'update' END
		FROM generate_series(1, $3::int) n`, bot, owner, versions)
	require.NoError(t, err)
	return bot
}
