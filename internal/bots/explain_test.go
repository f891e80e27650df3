package bots_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// A write that matched none of the caller's bots is explained by a look at the bot after
// the write. A bot found live (deleted, for a restore) at that look was deleted (not deleted)
// when the write ran, unless the write carried a precondition the bot's version failed: a
// write without one is answered for the bot as the write found it, never 412.
func TestExplainMiss(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := bots.NewService(dbtest.Pool(t), noTraining{})
	owner := newUser(t, s)
	live := createBot(t, s, owner, "Live")
	deleted := createBot(t, s, owner, "Deleted")
	gone, err := s.Delete(ctx, owner, deleted.ID, bots.Precondition{})
	require.NoError(t, err)

	other := bots.Precondition{Required: true, Versions: []int64{live.Version + 100}}
	for _, tc := range []struct {
		rule      string
		bot       uuid.UUID
		restoring bool
		pre       bots.Precondition
		want      error // a *PreconditionError when version is set
		version   int64
	}{
		{rule: "AWriteWithoutAPreconditionOfALiveBotIsNotFound", bot: live.ID, want: bots.ErrNotFound},
		{rule: "ARestoreWithoutAPreconditionOfALiveBotIsNotDeleted", bot: live.ID, restoring: true, want: bots.ErrNotDeleted},
		{rule: "ARestoreWithoutAPreconditionOfADeletedBotIsNotDeleted", bot: deleted.ID, restoring: true, want: bots.ErrNotDeleted},
		{rule: "AWriteWithoutAPreconditionOfADeletedBotIsNotFound", bot: deleted.ID, want: bots.ErrNotFound},
		{rule: "AWriteWithIfMatchOfALiveBotFailsItsPrecondition", bot: live.ID, pre: other, version: live.Version},
		{rule: "AWriteWithIfNoneMatchOfALiveBotFailsItsPrecondition", bot: live.ID, pre: bots.Precondition{Except: []int64{live.Version}}, version: live.Version},
		{rule: "ARestoreWithIfMatchOfADeletedBotFailsItsPrecondition", bot: deleted.ID, restoring: true, pre: other, version: gone.Version},
		{rule: "ARestoreWithIfMatchOfALiveBotIsNotDeleted", bot: live.ID, restoring: true, pre: other, want: bots.ErrNotDeleted},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			err := s.ExplainMiss(ctx, owner, tc.bot, tc.restoring, tc.pre)
			if tc.version == 0 {
				require.ErrorIs(t, err, tc.want)
				return
			}
			var pe *bots.PreconditionError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.version, pe.Version)
		})
	}
}
