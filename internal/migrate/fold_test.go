package migrate_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/migrate"
)

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
func olderRelease(t *testing.T, name string) (*pgx.Conn, uuid.UUID) {
	t.Helper()
	conn := migrateConnect(t, emptyDatabaseURL(t))
	foldMigrateBefore(t, conn, name)
	owner := uuid.New()
	_, err := conn.Exec(t.Context(), "INSERT INTO users (id) VALUES ($1)", owner)
	require.NoError(t, err)
	return conn, owner
}

func TestFoldedNamesMigration(t *testing.T) {
	t.Parallel()
	conn, owner := olderRelease(t, "0008_folded_names")

	other := uuid.New()
	_, err := conn.Exec(t.Context(), "INSERT INTO users (id) VALUES ($1)", other)
	require.NoError(t, err)
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type legacy struct {
		owner       uuid.UUID
		name        string
		description *string
		deleted     bool
	}
	description := "ÜBER Straße"
	bots := map[string]legacy{
		"older":         {owner: owner, name: "Straße"},
		"newer":         {owner: owner, name: "STRASSE"},
		"deleted":       {owner: owner, name: "strasse", deleted: true},
		"composed":      {owner: owner, name: "Caf\u00e9"},
		"decomposed":    {owner: owner, name: "Cafe\u0301"},
		"described":     {owner: owner, name: "Other", description: &description},
		"anotherOwners": {owner: other, name: "STRASSE"},
	}
	ids := map[string]uuid.UUID{}
	for i, key := range []string{"older", "newer", "deleted", "composed", "decomposed", "described", "anotherOwners"} {
		b := bots[key]
		ids[key] = uuid.New()
		var deletedAt *time.Time
		if b.deleted {
			d := day.AddDate(0, 1, 0)
			deletedAt = &d
		}
		_, err := conn.Exec(t.Context(), `INSERT INTO bots (id, owner_id, name, description, model, temperature, system_prompt, is_public, created_at, deleted_at)
			VALUES ($1, $2, $3, $4, 'gpt-4o', 0.7, '', false, $5, $6)`,
			ids[key], b.owner, b.name, b.description, day.AddDate(0, 0, i), deletedAt)
		require.NoError(t, err, key)
	}

	applied, err := migrate.Up(t.Context(), conn)
	require.NoError(t, err)
	require.Contains(t, applied, "0008_folded_names")

	type row struct {
		name, fold      string
		descriptionFold *string
		clash           bool
	}
	read := func(key string) row {
		var r row
		require.NoError(t, conn.QueryRow(t.Context(),
			"SELECT name, name_fold, description_fold, name_clash FROM bots WHERE id = $1", ids[key]).
			Scan(&r.name, &r.fold, &r.descriptionFold, &r.clash))
		return r
	}

	t.Run("EveryBotGetsTheFoldedFormsOfItsNameAndDescription", func(t *testing.T) {
		require.Equal(t, "strasse", read("older").fold)
		require.Equal(t, "strasse", read("deleted").fold)
		require.Equal(t, "caf\u00e9", read("decomposed").fold)
		require.Equal(t, "über strasse", *read("described").descriptionFold)
		require.Nil(t, read("older").descriptionFold)
	})
	t.Run("NamesAreKeptAsTheyWere", func(t *testing.T) {
		for key, b := range bots {
			require.Equal(t, b.name, read(key).name, key)
		}
	})
	t.Run("OnlyTheNewerOfTwoLiveBotsWithOneNameIsMarked", func(t *testing.T) {
		require.False(t, read("older").clash)
		require.True(t, read("newer").clash)
		require.False(t, read("composed").clash)
		require.True(t, read("decomposed").clash)
		require.False(t, read("deleted").clash, "a deleted bot holds no name")
		require.False(t, read("anotherOwners").clash, "names are unique per owner")
	})
	t.Run("TheDatabaseRefusesANewBotWithAFoldedTwinName", func(t *testing.T) {
		_, err := conn.Exec(t.Context(), `INSERT INTO bots (id, owner_id, name, name_fold, model, temperature, system_prompt, is_public)
			VALUES ($1, $2, 'STRAßE', 'strasse', 'gpt-4o', 0.7, '', false)`, uuid.New(), owner)
		requireUniqueName(t, err)
	})
	t.Run("AMarkedBotThatLosesItsMarkIsHeldToTheRule", func(t *testing.T) {
		_, err := conn.Exec(t.Context(), "UPDATE bots SET name_clash = false WHERE id = $1", ids["newer"])
		requireUniqueName(t, err)
	})
}

// requireUniqueName requires a violation of the unique index on names.
func requireUniqueName(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23505", pgErr.Code)
	require.Equal(t, "bots_owner_name_key", pgErr.ConstraintName)
}
