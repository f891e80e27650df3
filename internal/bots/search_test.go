package bots_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// A prepared statement that PostgreSQL has run a few times may switch to a generic plan, made
// without the values of its parameters: for a search that plan cannot use the trigram indexes
// (it does not know whether there is a search text at all) and reads every bot of the caller.
// Searches must therefore be planned for their own text every time.
func TestSearchesAreNeverRunFromAGenericPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("loads thousands of bots")
	}
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(ctx) })
	heavy, _ := seed(t, conn, 200, 1, 5000, 20)

	// One connection, so that every search runs where the check below looks.
	pool := dbtest.NewPool(t, url+"&pool_max_conns=1")
	svc := bots.NewService(pool, nil)
	for _, q := range []string{"bot", "of user", "questions", "bot", "of user", "questions", "bot", "of user", "Bot 4999 of"} {
		page, err := svc.List(ctx, heavy, bots.ListParams{Q: &q, Sort: bots.SortCreatedDesc, Limit: 20})
		require.NoError(t, err)
		require.NotEmpty(t, page.Items, q)
	}
	var generic int64
	require.NoError(t, pool.QueryRow(ctx,
		`SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements
		 WHERE statement LIKE '%name_fold LIKE%' AND statement NOT LIKE '%pg_prepared_statements%'`).Scan(&generic))
	require.Zero(t, generic, "a search ran from a generic plan")
}
