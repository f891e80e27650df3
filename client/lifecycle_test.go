package client_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	// setup returns a client for a new user and one bot of theirs.
	setup := func(t *testing.T) (*client.Client, client.Bot) {
		return newBot(t, srv.URL, client.CreateParams{Name: "Doomed", Model: "gpt-4o-mini"})
	}

	t.Run("DeleteWithAStaleETagIsAPreconditionFailure", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Name = "Changed"; return nil })
		require.NoError(t, err)
		requireProblem(t, c.Delete(ctx(t), bot.ID, bot.ETag), http.StatusPreconditionFailed, "/problems/precondition-failed")
		_, err = c.Get(ctx(t), bot.ID)
		require.NoError(t, err, "the bot is still there")
	})

	// A delete is confirmed by the bot's current ETag, or by ?confirm=true without one.
	for name, withETag := range map[string]bool{"DeleteWithTheCurrentETagDeletes": true, "DeleteWithoutETagConfirmsAndDeletes": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, bot := setup(t)
			etag := ""
			if withETag {
				etag = bot.ETag
			}
			require.NoError(t, c.Delete(ctx(t), bot.ID, etag))
			_, err := c.Get(ctx(t), bot.ID)
			requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		})
	}

	t.Run("RestoreBringsADeletedBotBack", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		require.NoError(t, c.Delete(ctx(t), bot.ID, ""))
		restored, err := c.Restore(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, bot.ID, restored.ID)
		require.NotEmpty(t, restored.ETag)
		got, err := c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, "Doomed", got.Name)
	})

	t.Run("RestoringABotThatIsNotDeletedIsAConflict", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		_, err := c.Restore(ctx(t), bot.ID)
		requireProblem(t, err, http.StatusConflict, "/problems/conflict")
	})

	t.Run("TrainPutsTheBotInTraining", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		trained, err := c.Train(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, client.StatusTraining, trained.Status)
		require.NotEqual(t, bot.ETag, trained.ETag)
	})

	t.Run("AnotherUsersBotCannotBeDeleted", func(t *testing.T) {
		t.Parallel()
		_, bot := setup(t)
		requireProblem(t, newClient(t, srv.URL).Delete(ctx(t), bot.ID, ""), http.StatusNotFound, "/problems/not-found")
	})
}
