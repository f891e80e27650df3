package bots_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// The reads that may go to a standby go to the read pool, and only they: the test gives the
// service two databases, so that the answer shows which one was read.
func TestStandbyReads(t *testing.T) {
	t.Parallel()

	t.Run("ListsAndLatestConfigurationsAreReadFromTheReadPool", func(t *testing.T) {
		t.Parallel()
		primary, other := dbtest.Pool(t), dbtest.Pool(t)
		s := bots.NewService(primary, noTraining{}, bots.ReadPool(other))
		s.ConfigFeedListening()
		owner := uuid.New()
		onPrimary := activeBotOf(t, s, owner, "On the primary")
		onOther := activeBotOf(t, bots.NewService(other, noTraining{}), owner, "On the read target")

		page, err := s.List(t.Context(), owner, bots.ListParams{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		require.Equal(t, onOther.ID, page.Items[0].ID, "the list is read from the read pool")

		_, err = s.RuntimeConfig(t.Context(), owner, onPrimary.ID, bots.RuntimeSelector{})
		require.ErrorIs(t, err, bots.ErrNotFound, "the latest active version is looked up in the read pool")

		// What the runtime cache keeps (versions, and the bots and aliases reads by alias and
		// number depend on) is read on the primary: the notification of a write committed
		// without remote_apply may reach this process before the standby has applied it.
		_, err = s.RuntimeConfig(t.Context(), owner, onOther.ID, bots.RuntimeSelector{})
		require.ErrorIs(t, err, bots.ErrNotFound, "the version the read pool named is read on the primary")
		one := int32(1)
		c, err := s.RuntimeConfig(t.Context(), owner, onPrimary.ID, bots.RuntimeSelector{Version: &one})
		require.NoError(t, err, "a read by number is read on the primary")
		require.Equal(t, onPrimary.ID, c.BotID)

		standby, fellBack := s.ReadStats()
		require.Equal(t, uint64(3), standby)
		require.Zero(t, fellBack)
	})

	t.Run("AReadPoolThatIsDownLeavesTheReadsToThePrimary", func(t *testing.T) {
		t.Parallel()
		primary := dbtest.Pool(t)
		s := bots.NewService(primary, noTraining{}, bots.ReadPool(dbtest.NewPool(t, nobodyListens(t))))
		owner := uuid.New()
		bot := activeBotOf(t, s, owner, "Support")

		for range 2 {
			page, err := s.List(t.Context(), owner, bots.ListParams{Limit: 10})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, bot.ID, page.Items[0].ID)
		}
		c, err := s.RuntimeConfig(t.Context(), owner, bot.ID, bots.RuntimeSelector{})
		require.NoError(t, err)
		require.Equal(t, int32(1), c.Version)

		standby, fellBack := s.ReadStats()
		require.Zero(t, standby)
		require.Equal(t, uint64(3), fellBack)
	})

	t.Run("AReadPoolOnThePrimaryItselfReadsYourWrites", func(t *testing.T) {
		t.Parallel()
		url := dbtest.URL(t)
		primary := dbtest.NewPool(t, url)
		s := bots.NewService(primary, noTraining{}, bots.ReadPool(dbtest.NewPool(t, url)))
		owner := uuid.New()
		bot := activeBotOf(t, s, owner, "Support")

		page, err := s.List(t.Context(), owner, bots.ListParams{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		require.Equal(t, bot.ID, page.Items[0].ID)
		standby, _ := s.ReadStats()
		require.Equal(t, uint64(1), standby)
	})
}

// activeBotOf creates a bot named name of owner's through s, on its primary, with an active
// first version.
func activeBotOf(t *testing.T, s *bots.Service, owner uuid.UUID, name string) bots.Bot {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, s.EnsureUser(ctx, owner))
	bot, err := bots.InTx(ctx, s.Pool(), func(tx pgx.Tx) (bots.Bot, error) {
		return s.CreateTx(ctx, tx, owner, bots.CreateParams{Name: name, Model: "gpt-4o-mini"})
	})
	require.NoError(t, err)
	_, err = s.FinishTraining(ctx, bot.ID, 1, bots.Outcome{Status: bots.StatusActive, Prepared: []byte(`{}`)})
	require.NoError(t, err)
	return bot
}

// nobodyListens is the connection string of a server that is not there: a loopback port
// that refuses connections.
func nobodyListens(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/chatsphere?sslmode=disable&connect_timeout=2", port)
}
