package bots_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// Concurrent writes of one bot, of every kind that locks it (alias puts and deletes, edits,
// trainings, reverts and the training worker's finish), take turns on the bot's row and
// never deadlock: each fails only with the answers its race explains (an alias deleted
// before, or changed between the write and the look that explains a miss). A deadlock
// (SQLSTATE 40P01) would reach the client as a 500.
func TestConcurrentWritesOfOneBotNeverDeadlock(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, noTraining{})
	ctx := t.Context()
	owner := newUser(t, s)
	bot := activeBotOf(t, s, owner, "Raced")
	// Versions 2 to 4, active at once: a temperature-only edit of an active bot.
	for _, temp := range []float64{0.2, 0.4, 0.6} {
		_, err := s.Update(ctx, owner, bot.ID, bots.UpdateParams{Temperature: &temp})
		require.NoError(t, err)
	}

	const workers, opsEach = 8, 40
	names := []string{"n1", "n2", "n3"}
	errs := make(chan error, workers*opsEach)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1)) // the same mix of operations every run
			for range opsEach {
				name := names[rng.IntN(len(names))]
				var op string
				var err error
				switch rng.IntN(6) {
				case 0, 1:
					op = "put alias"
					_, _, err = s.PutAlias(ctx, owner, bot.ID, name, int32(1+rng.IntN(4)), bots.AliasCondition{})
				case 2:
					op = "delete alias"
					err = s.DeleteAlias(ctx, owner, bot.ID, name, nil)
				case 3:
					op = "update"
					temp := float64(rng.IntN(100)) / 100
					_, err = s.Update(ctx, owner, bot.ID, bots.UpdateParams{Temperature: &temp})
				case 4:
					op = "train and finish"
					var trained bots.Bot
					if trained, err = s.Train(ctx, owner, bot.ID, bots.Precondition{}); err == nil {
						_, err = s.FinishTraining(ctx, bot.ID, trained.ConfigVersion,
							bots.Outcome{Status: bots.StatusActive, Prepared: []byte(`{}`)})
					}
				case 5:
					op = "revert"
					_, err = s.Revert(ctx, owner, bot.ID, int32(1+rng.IntN(4)), bots.Precondition{})
				}
				if err != nil && !errors.Is(err, bots.ErrAliasNotFound) && !errors.Is(err, bots.ErrPreconditionFailed) {
					errs <- fmt.Errorf("%s: %w", op, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	var deadlocks int
	for err := range errs {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "40P01" {
			deadlocks++
		}
		t.Errorf("unexpected error: %v", err)
	}
	require.Zero(t, deadlocks, "deadlocks")
}
