package migrate_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

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
		var deletedAt *time.Time
		if b.deleted {
			d := day.AddDate(0, 1, 0)
			deletedAt = &d
		}
		ids[key] = insertBot(t, conn, b.owner, b.name, map[string]any{
			"description": b.description, "created_at": day.AddDate(0, 0, i), "deleted_at": deletedAt,
		})
	}

	upgrade(t, conn, "0008_folded_names")

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
