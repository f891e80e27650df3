package bots_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// An alias write that matched no row is explained by a look after the write. When the look
// finds nothing to refuse, the alias or the bot changed in between: a write with a
// precondition is answered 412 with the alias's ETag, as a retry of it would be, but a write
// without one never is. A delete without one is answered for the alias as the write found it,
// gone; a put without one is run once more (ErrAliasWriteRaced).
func TestExplainAliasMiss(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := bots.NewService(dbtest.Pool(t), noTraining{})
	owner := newUser(t, s)
	bot := activeBotOf(t, s, owner, "Support")
	alias, _, err := s.PutAlias(ctx, owner, bot.ID, "production", 1, bots.AliasCondition{})
	require.NoError(t, err)

	for _, tc := range []struct {
		rule    string
		name    string
		c       bots.AliasCondition
		version *int32 // nil for a delete
		want    error  // a *AliasPreconditionError with etag when nil
		etag    int64
	}{
		{rule: "ADeleteWithoutAPreconditionOfAnAliasThatExistsIsNotFound", name: "production", want: bots.ErrAliasNotFound},
		{rule: "ADeleteWithoutAPreconditionOfAMissingAliasIsNotFound", name: "canary", want: bots.ErrAliasNotFound},
		{rule: "ADeleteWithIfMatchOfTheAliasFailsItsPrecondition", name: "production", c: bots.AliasCondition{Etags: []int64{alias.Etag}}, etag: alias.Etag},
		{rule: "ADeleteWithAnotherIfMatchFailsItsPrecondition", name: "production", c: bots.AliasCondition{Etags: []int64{alias.Etag + 1}}, etag: alias.Etag},
		{rule: "APutWithoutAPreconditionOfAnAliasThatExistsIsRunAgain", name: "production", version: new(int32(1)), want: bots.ErrAliasWriteRaced},
		{rule: "APutWithoutAPreconditionOfANewAliasIsRunAgain", name: "canary", version: new(int32(1)), want: bots.ErrAliasWriteRaced},
		{rule: "APutWithIfMatchOfTheAliasFailsItsPrecondition", name: "production", version: new(int32(1)), c: bots.AliasCondition{MustExist: true, Etags: []int64{alias.Etag}}, etag: alias.Etag},
		{rule: "APutWithIfMatchAnyFailsItsPrecondition", name: "production", version: new(int32(1)), c: bots.AliasCondition{MustExist: true}, etag: alias.Etag},
		{rule: "APutWithIfMatchAnyOfAMissingAliasFailsItsPrecondition", name: "canary", version: new(int32(1)), c: bots.AliasCondition{MustExist: true}},
		{rule: "APutWithIfNoneMatchOfANewAliasFailsItsPrecondition", name: "canary", version: new(int32(1)), c: bots.AliasCondition{CreateOnly: true}},
		{rule: "APutWithIfNoneMatchOfAnAliasThatExistsFailsItsPrecondition", name: "production", version: new(int32(1)), c: bots.AliasCondition{CreateOnly: true}, etag: alias.Etag},
		{rule: "APutWithoutAPreconditionOfAVersionTheBotLacksIsNotFound", name: "production", version: new(int32(2)), want: bots.ErrVersionNotFound},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			err := s.ExplainAliasMiss(ctx, owner, bot.ID, tc.name, tc.c, tc.version)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			var pe *bots.AliasPreconditionError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.etag, pe.Etag)
		})
	}
}

// A delete without a precondition that waited for a concurrent delete of the alias, which
// created it again in the same transaction, finds no alias to delete: the answer is that
// there was none, not 412.
func TestADeleteOfAnAliasRacingItsRecreationIsNotFound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, noTraining{})
	owner := newUser(t, s)
	bot := activeBotOf(t, s, owner, "Support")
	_, _, err := s.PutAlias(ctx, owner, bot.ID, "production", 1, bots.AliasCondition{})
	require.NoError(t, err)

	racer, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = racer.Rollback(ctx) }()
	_, err = racer.Exec(ctx, `DELETE FROM bot_aliases WHERE bot_id = $1 AND name = 'production'`, bot.ID)
	require.NoError(t, err)
	_, err = racer.Exec(ctx, `INSERT INTO bot_aliases (bot_id, name, version) VALUES ($1, 'production', 1)`, bot.ID)
	require.NoError(t, err)

	deleted := make(chan error, 1)
	go func() { deleted <- s.DeleteAlias(ctx, owner, bot.ID, "production", nil) }()

	// The delete waits on the alias's row, which the racer deleted.
	waitUntilBlockedBy(t, pool, racer, "the delete never waited on the racing delete")
	require.NoError(t, racer.Commit(ctx))

	require.ErrorIs(t, <-deleted, bots.ErrAliasNotFound)
	_, err = s.Alias(ctx, owner, bot.ID, "production")
	require.NoError(t, err, "the alias created again is still there")
}

// A put without a precondition racing deletions and restorations of its bot is carried out
// or answered 404, never 412.
func TestAPutOfAnAliasRacingItsBotsDeletionIsNeverPreconditionFailed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := bots.NewService(dbtest.Pool(t), noTraining{})
	owner := newUser(t, s)
	bot := activeBotOf(t, s, owner, "Support")

	stop := make(chan struct{})
	flipped := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				flipped <- nil
				return
			default:
			}
			if _, err := s.Delete(ctx, owner, bot.ID, bots.Precondition{}); err != nil {
				flipped <- err
				return
			}
			if _, err := s.Restore(ctx, owner, bot.ID, bots.Precondition{}); err != nil {
				flipped <- err
				return
			}
		}
	}()
	var missed int
	for range 300 {
		_, _, err := s.PutAlias(ctx, owner, bot.ID, "production", 1, bots.AliasCondition{})
		require.NotErrorIs(t, err, bots.ErrPreconditionFailed)
		if errors.Is(err, bots.ErrNotFound) || errors.Is(err, bots.ErrVersionNotFound) {
			missed++
			continue
		}
		require.NoError(t, err)
	}
	close(stop)
	require.NoError(t, <-flipped)
	t.Logf("%d of 300 puts found the bot deleted", missed)
}
