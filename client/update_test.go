package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestUpdate(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	// setup returns a client for a new user and one bot of theirs.
	setup := func(t *testing.T, opts ...client.Option) (*client.Client, client.Bot) {
		return newBot(t, srv.URL, client.CreateParams{Name: "Editable", Model: "gpt-4o-mini", Description: ptr("first")}, opts...)
	}
	// concurrently changes the bot's system prompt as another writer would.
	concurrently := func(t *testing.T, c *client.Client, id uuid.UUID, prompt string) {
		_, err := c.Update(ctx(t), id, func(b *client.Bot) error { b.SystemPrompt = prompt; return nil })
		require.NoError(t, err)
	}

	t.Run("AChangeIsWrittenWithANewETag", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		updated, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error {
			b.Name, b.Temperature, b.IsPublic = "Renamed", 1.5, true
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "Renamed", updated.Name)
		require.Equal(t, 1.5, updated.Temperature)
		require.True(t, updated.IsPublic)
		require.NotEqual(t, bot.ETag, updated.ETag)
		got, err := c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, updated.ETag, got.ETag)
		require.Equal(t, "Renamed", got.Name)
	})

	t.Run("ANilDescriptionClearsIt", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Description = nil; return nil })
		require.NoError(t, err)
		got, err := c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Nil(t, got.Description)
	})

	t.Run("AConcurrentChangeIsReadAgainAndKept", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		calls := 0
		updated, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error {
			calls++
			if calls == 1 {
				concurrently(t, c, bot.ID, "changed in between")
			}
			b.Temperature = 1.25
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 2, calls, "the function runs again on the bot as it is after the concurrent change")
		require.Equal(t, 1.25, updated.Temperature)
		require.Equal(t, "changed in between", updated.SystemPrompt)
		got, err := c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, 1.25, got.Temperature)
		require.Equal(t, "changed in between", got.SystemPrompt)
	})

	t.Run("APreconditionFailureThatPersistsIsAProblem", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t, client.WithUpdateAttempts(3))
		calls := 0
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error {
			calls++
			concurrently(t, c, bot.ID, fmt.Sprintf("change %d", calls))
			b.Temperature = 0.5
			return nil
		})
		var p *client.Problem
		require.ErrorAs(t, err, &p)
		require.Equal(t, http.StatusPreconditionFailed, p.Status)
		require.Equal(t, 3, calls)
		got, err := c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.NotEqual(t, 0.5, got.Temperature, "no write went through")
	})

	t.Run("AnErrorFromTheFunctionWritesNothing", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		stop := errors.New("stop")
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Name = "Never"; return stop })
		require.ErrorIs(t, err, stop)
		got, err := c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, bot.ETag, got.ETag)
	})

	t.Run("NoChangeWritesNothing", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		same, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Description = ptr("first"); return nil })
		require.NoError(t, err)
		require.Equal(t, bot.ETag, same.ETag)
	})

	t.Run("AnInvalidChangeIsAProblem", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Temperature = 9; return nil })
		var p *client.Problem
		require.ErrorAs(t, err, &p)
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.Equal(t, "temperature", p.Errors[0].Field)
	})
}
