package bots_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// noTraining queues nothing: these tests count bots, they do not train them.
type noTraining struct{}

func (noTraining) QueueTraining(context.Context, pgx.Tx, uuid.UUID, int32) error { return nil }

// The bots metric counts the bots that are not deleted, by status, with every status present,
// and reuses a count for statusCountTTL.
func TestStatusCollector(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, noTraining{})
	ctx := t.Context()
	user := uuid.New()
	require.NoError(t, s.EnsureUser(ctx, user))
	create := func(name string) {
		t.Helper()
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := s.CreateTx(ctx, tx, user, bots.CreateParams{Name: name, Model: "gpt-4o"})
			return err
		}))
	}
	for _, name := range []string{"One", "Two", "Gone"} {
		create(name)
	}
	_, err := pool.Exec(ctx, "UPDATE bots SET deleted_at = now() WHERE name = 'Gone'")
	require.NoError(t, err)

	c := bots.NewStatusCollector(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	want := `
# HELP bots Bots that are not deleted, by status.
# TYPE bots gauge
bots{status="active"} 0
bots{status="error"} 0
bots{status="training"} 2
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "bots"))

	// A bot created since is counted only once the count is older than statusCountTTL.
	create("Three")
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), "bots"), "the count is reused")
	bots.AgeStatusCount(c)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(strings.Replace(want, "2\n", "3\n", 1)), "bots"))
}
