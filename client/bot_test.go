package client_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestBots(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	t.Run("CreateThenGetReturnsTheBotWithItsETag", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv.URL)
		created, err := c.Create(ctx(t), client.CreateParams{Name: "Support", Model: "gpt-4o-mini",
			Description: ptr("Answers questions"), Temperature: ptr(0.3)})
		require.NoError(t, err)
		require.NotEqual(t, uuid.Nil, created.ID)
		require.NotEmpty(t, created.ETag)
		require.Equal(t, "Answers questions", *created.Description)
		require.Equal(t, client.StatusTraining, created.Status)

		got, err := c.Get(ctx(t), created.ID)
		require.NoError(t, err)
		require.Equal(t, created.ETag, got.ETag)
		require.Equal(t, "Support", got.Name)
		require.Equal(t, 0.3, got.Temperature)
		require.Equal(t, "Answers questions", *got.Description)
	})

	t.Run("ABotWithoutDescriptionHasANilDescription", func(t *testing.T) {
		t.Parallel()
		_, created := newBot(t, srv.URL, client.CreateParams{Name: "Plain", Model: "gpt-4o-mini"})
		require.Nil(t, created.Description)
	})

	t.Run("AnInvalidCreateIsAProblemWithFieldErrors", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv.URL)
		_, err := c.Create(ctx(t), client.CreateParams{Name: "Hot", Model: "gpt-4o-mini", Temperature: ptr(3.0)})
		var p *client.Problem
		require.ErrorAs(t, err, &p)
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.Equal(t, "/problems/validation", p.Type)
		require.NotEmpty(t, p.RequestID)
		require.Len(t, p.Errors, 1)
		require.Equal(t, "temperature", p.Errors[0].Field)
		require.Contains(t, p.Error(), "temperature: ")
	})

	t.Run("ATakenNameIsAConflictProblem", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv.URL)
		_, err := c.Create(ctx(t), client.CreateParams{Name: "Twice", Model: "gpt-4o-mini"})
		require.NoError(t, err)
		_, err = c.Create(ctx(t), client.CreateParams{Name: "Twice", Model: "gpt-4o-mini"})
		var p *client.Problem
		require.True(t, errors.As(err, &p), "%v", err)
		require.Equal(t, http.StatusConflict, p.Status)
		require.Equal(t, "/problems/name-taken", p.Type)
	})

	t.Run("AnotherUsersBotIsNotFound", func(t *testing.T) {
		t.Parallel()
		_, created := newBot(t, srv.URL, client.CreateParams{Name: "Mine", Model: "gpt-4o-mini"})
		_, err := newClient(t, srv.URL).Get(ctx(t), created.ID)
		var p *client.Problem
		require.ErrorAs(t, err, &p)
		require.Equal(t, http.StatusNotFound, p.Status)
	})

	t.Run("DuplicateCopiesTheBot", func(t *testing.T) {
		t.Parallel()
		c, orig := newBot(t, srv.URL, client.CreateParams{Name: "Original", Model: "gpt-4o-mini", SystemPrompt: ptr("Be brief.")})
		dup, err := c.Duplicate(ctx(t), orig.ID, client.DuplicateParams{Name: ptr("Copy")})
		require.NoError(t, err)
		require.NotEqual(t, orig.ID, dup.ID)
		require.Equal(t, "Copy", dup.Name)
		require.Equal(t, "Be brief.", dup.SystemPrompt)
		require.NotEmpty(t, dup.ETag)
	})
}
