package bots_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// A notification lost while the feed is down can never serve stale data: the cache is
// bypassed from the moment the feed is lost, and emptied when it listens again. The test plays
// the feed: nothing tells the service of the changes made straight in the database.
func TestTheRuntimeCacheIsBypassedWhileTheFeedIsDown(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, noTraining{})
	ctx := t.Context()
	owner, bot := activeBot(t, s)
	temp := 0.2
	_, err := s.Update(ctx, owner, bot.ID, bots.UpdateParams{Temperature: &temp})
	require.NoError(t, err)
	production := "production"
	_, _, err = s.PutAlias(ctx, owner, bot.ID, production, 1, bots.AliasCondition{})
	require.NoError(t, err)
	read := func() (version int32, hit bool) {
		t.Helper()
		hits, _ := s.RuntimeCacheStats()
		c, err := s.RuntimeConfig(ctx, owner, bot.ID, bots.RuntimeSelector{Alias: &production})
		require.NoError(t, err)
		after, _ := s.RuntimeCacheStats()
		return c.Version, after > hits
	}
	moveBehindItsBack := func(version int) {
		t.Helper()
		_, err := pool.Exec(ctx, `UPDATE bot_aliases SET version = $2 WHERE bot_id = $1`, bot.ID, version)
		require.NoError(t, err)
	}

	v, hit := read()
	require.Equal(t, int32(1), v)
	require.False(t, hit, "nothing is cached before the feed listens")

	s.ConfigFeedListening()
	read()
	v, hit = read()
	require.True(t, hit)
	require.Equal(t, int32(1), v)
	moveBehindItsBack(2)
	v, _ = read()
	require.Equal(t, int32(1), v, "a lost notification: what the cache holds is served while the feed is up")

	s.ConfigFeedLost()
	v, hit = read()
	require.Equal(t, int32(2), v, "the feed is down: the database answers")
	require.False(t, hit)
	moveBehindItsBack(1)
	v, hit = read()
	require.Equal(t, int32(1), v)
	require.False(t, hit, "nothing is kept while the feed is down")

	moveBehindItsBack(2)
	s.ConfigFeedListening()
	v, hit = read()
	require.Equal(t, int32(2), v, "the feed is back, and the cache starts empty")
	require.False(t, hit)
}

// With the cache off, every read goes to the database.
func TestTheRuntimeCacheCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, noTraining{}, bots.RuntimeCacheBytes(0))
	s.ConfigFeedListening()
	ctx := t.Context()
	owner, bot := activeBot(t, s)
	for range 3 {
		_, err := s.RuntimeConfig(ctx, owner, bot.ID, bots.RuntimeSelector{})
		require.NoError(t, err)
	}
	hits, misses := s.RuntimeCacheStats()
	require.Zero(t, hits)
	require.Zero(t, misses, "a cache that is off is not counted")
}

// activeBot creates a bot of a new user's with s, trained as a worker would: version 1 is
// active at temperature 0.1.
func activeBot(t *testing.T, s *bots.Service) (uuid.UUID, bots.Bot) {
	t.Helper()
	ctx := t.Context()
	owner := uuid.New()
	require.NoError(t, s.EnsureUser(ctx, owner))
	bot, err := bots.InTx(ctx, s.Pool(), func(tx pgx.Tx) (bots.Bot, error) {
		return s.CreateTx(ctx, tx, owner, bots.CreateParams{Name: "Support", Model: "gpt-4o-mini", Temperature: 0.1})
	})
	require.NoError(t, err)
	_, err = s.FinishTraining(ctx, bot.ID, 1, bots.Outcome{Status: bots.StatusActive, Prepared: []byte(`{"temperature": 0.1}`)})
	require.NoError(t, err)
	return owner, bot
}
