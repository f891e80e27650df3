package bots_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// A copy's name is picked before the copy is inserted, and only copies take the caller's
// lock: a create of the caller's that commits the picked name in between makes the insert
// hit the unique name index. A copy that asked for no name then gets the next free default
// name; one that asked for a name is refused, as it would have been a moment later.
func TestDuplicateRacingACreateOfItsName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule  string
		name  *string // of the copy
		taken string  // by the racing create
		want  string  // the copy's name; "" when it is refused
	}{
		{rule: "ACopyWithoutANameTakesTheNextFreeName", taken: "Support (copy)", want: "Support (copy 2)"},
		{rule: "ACopyWithATakenNameIsRefused", name: new("Helper"), taken: "Helper"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool := dbtest.Pool(t)
			s := bots.NewService(pool, noTraining{})
			owner := newUser(t, s)
			src := createBot(t, s, owner, "Support")

			// The racing create holds the name, not yet committed, when the copy picks its name.
			racer, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = racer.Rollback(ctx) }()
			_, err = s.CreateTx(ctx, racer, owner, bots.CreateParams{Name: tc.taken, Model: "gpt-4o-mini"})
			require.NoError(t, err)

			type result struct {
				bot bots.Bot
				err error
			}
			copied := make(chan result, 1)
			go func() {
				bot, err := bots.InTx(ctx, pool, func(tx pgx.Tx) (bots.Bot, error) {
					return s.DuplicateTx(ctx, tx, owner, src.ID, bots.DuplicateParams{Name: tc.name}, bots.Precondition{})
				})
				copied <- result{bot, err}
			}()

			// The copy's insert waits on the racer's row in the unique name index.
			waitUntilBlockedBy(t, pool, racer, "the copy never waited on the racing create")
			require.NoError(t, racer.Commit(ctx))

			got := <-copied
			if tc.want == "" {
				require.ErrorIs(t, got.err, bots.ErrNameTaken)
				return
			}
			require.NoError(t, got.err)
			require.Equal(t, tc.want, got.bot.Name)
		})
	}
}

// newUser returns a new user of s's, whose row exists.
func newUser(t *testing.T, s *bots.Service) uuid.UUID {
	t.Helper()
	user := uuid.New()
	require.NoError(t, s.EnsureUser(t.Context(), user))
	return user
}

// createBot creates a bot named name of owner's with s, in training.
func createBot(t *testing.T, s *bots.Service, owner uuid.UUID, name string) bots.Bot {
	t.Helper()
	ctx := t.Context()
	bot, err := bots.InTx(ctx, s.Pool(), func(tx pgx.Tx) (bots.Bot, error) {
		return s.CreateTx(ctx, tx, owner, bots.CreateParams{Name: name, Model: "gpt-4o-mini"})
	})
	require.NoError(t, err)
	return bot
}

// waitUntilBlockedBy waits until some backend of pool waits on a lock that tx holds: the
// moment a test has the other side of a race parked where it wants it.
func waitUntilBlockedBy(t *testing.T, pool *pgxpool.Pool, tx pgx.Tx, what string) {
	t.Helper()
	pid := tx.Conn().PgConn().PID()
	require.Eventually(t, func() bool {
		var waiting bool
		err := pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)))`, pid).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, 5*time.Millisecond, what)
}
