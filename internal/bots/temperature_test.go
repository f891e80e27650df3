package bots_test

import (
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// A temperature of -0 is stored as 0, in the bot and in its version: PostgreSQL compares the
// two equal, so a bot created at -0 and set to 0 would otherwise keep a version that says -0.
func TestATemperatureOfMinusZeroIsStoredAsZero(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := bots.NewService(dbtest.Pool(t), noTraining{})
	owner := uuid.New()
	require.NoError(t, s.EnsureUser(ctx, owner))
	minusZero := math.Copysign(0, -1)

	created, err := bots.InTx(ctx, s.Pool(), func(tx pgx.Tx) (bots.Bot, error) {
		return s.CreateTx(ctx, tx, owner, bots.CreateParams{Name: "Created at -0", Model: "gpt-4o", Temperature: minusZero})
	})
	require.NoError(t, err)
	edited, err := bots.InTx(ctx, s.Pool(), func(tx pgx.Tx) (bots.Bot, error) {
		return s.CreateTx(ctx, tx, owner, bots.CreateParams{Name: "Set to -0", Model: "gpt-4o", Temperature: 0.5})
	})
	require.NoError(t, err)
	_, err = s.Update(ctx, owner, edited.ID, bots.UpdateParams{Temperature: &minusZero})
	require.NoError(t, err)

	for _, bot := range []bots.Bot{created, edited} {
		got, err := s.Get(ctx, owner, bot.ID)
		require.NoError(t, err)
		require.False(t, math.Signbit(got.Temperature), "%s: the bot's temperature", bot.Name)
		v, err := s.Version(ctx, owner, bot.ID, got.ConfigVersion)
		require.NoError(t, err)
		require.False(t, math.Signbit(v.Temperature), "%s: its latest version's temperature", bot.Name)
	}
}
