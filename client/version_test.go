package client_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestVersions(t *testing.T) {
	t.Parallel()
	srv := startServerWithWorkers(t)

	// setup returns a client for a new user and an active bot of theirs with three versions:
	// 1 (created), 2 (a warmer temperature, active at once) and 3 (a new prompt, trained).
	setup := func(t *testing.T) (*client.Client, client.Bot) {
		c, bot := newBot(t, srv.URL, client.CreateParams{Name: "Versioned", Model: "gpt-4o-mini", Temperature: ptr(0.2)})
		waitActive(t, c, bot.ID)
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Temperature = 0.9; return nil })
		require.NoError(t, err)
		_, err = c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.SystemPrompt = "Answer in one line."; return nil })
		require.NoError(t, err)
		waitActive(t, c, bot.ID)
		bot, err = c.Get(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Equal(t, int32(3), bot.ConfigVersion)
		return c, bot
	}

	t.Run("VersionsAreListedNewestFirst", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		var got []int32
		for v, err := range c.Versions(ctx(t), bot.ID) {
			require.NoError(t, err)
			got = append(got, v.Number)
			require.Empty(t, v.ETag, "a list sends no ETag per version")
		}
		require.Equal(t, []int32{3, 2, 1}, got)
	})

	t.Run("VersionReadsOneWithItsETag", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		v, err := c.Version(ctx(t), bot.ID, 2)
		require.NoError(t, err)
		require.Equal(t, client.Version{Number: 2, Model: "gpt-4o-mini", Temperature: 0.9, SystemPrompt: v.SystemPrompt,
			Status: client.StatusActive, CreatedAt: v.CreatedAt, CreatedBy: bot.OwnerID, Source: "update", ETag: `"2-active"`}, v)
		_, err = c.Version(ctx(t), bot.ID, 9)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
	})

	t.Run("DiffIsThePatchFromThePreviousOrAGivenVersion", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		ops, err := c.Diff(ctx(t), bot.ID, 3, 0)
		require.NoError(t, err)
		require.Equal(t, []client.PatchOp{{Op: "replace", Path: "/system_prompt", Value: "Answer in one line."}}, ops)
		ops, err = c.Diff(ctx(t), bot.ID, 1, 3)
		require.NoError(t, err)
		require.Equal(t, []client.PatchOp{{Op: "replace", Path: "/temperature", Value: 0.2},
			{Op: "replace", Path: "/system_prompt", Value: ops[1].Value}}, ops)
		_, err = c.Diff(ctx(t), bot.ID, 1, 0)
		requireProblem(t, err, http.StatusUnprocessableEntity, "/problems/validation")
	})

	t.Run("RevertToAnActiveVersionIsActiveAtOnce", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		v, err := c.Revert(ctx(t), bot.ID, 1, bot.ETag)
		require.NoError(t, err)
		require.Equal(t, int32(4), v.Number)
		require.Equal(t, "revert", v.Source)
		require.Equal(t, ptr(int32(1)), v.RevertedFrom)
		require.Equal(t, client.StatusActive, v.Status)
		require.Equal(t, 0.2, v.Temperature)
		require.NotEmpty(t, v.ETag)
	})

	t.Run("RevertWithAStaleETagIsAPreconditionFailure", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Name = "Renamed"; return nil })
		require.NoError(t, err)
		_, err = c.Revert(ctx(t), bot.ID, 1, bot.ETag)
		requireProblem(t, err, http.StatusPreconditionFailed, "/problems/precondition-failed")
		_, err = c.Version(ctx(t), bot.ID, 4)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
	})

	t.Run("AnAliasPicksTheConfigARuntimeReads", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		a, err := c.SetAlias(ctx(t), bot.ID, "production", 2)
		require.NoError(t, err)
		require.Equal(t, "production", a.Name)
		require.Equal(t, int32(2), a.Version)
		require.NotEmpty(t, a.ETag)

		cfg, err := c.Config(ctx(t), bot.ID, client.ConfigOptions{Alias: "production"})
		require.NoError(t, err)
		require.Equal(t, bot.ID, cfg.BotID)
		require.Equal(t, int32(2), cfg.Version)
		require.Equal(t, "production", cfg.Alias)
		require.Equal(t, 0.9, cfg.Temperature)
		var prepared struct {
			Model       string  `json:"model"`
			Temperature float64 `json:"temperature"`
		}
		require.NoError(t, json.Unmarshal(cfg.Prepared, &prepared))
		require.Equal(t, "gpt-4o-mini", prepared.Model)
		require.Equal(t, 0.9, prepared.Temperature)

		moved, err := c.SetAlias(ctx(t), bot.ID, "production", 3)
		require.NoError(t, err, "an existing alias moves")
		require.NotEqual(t, a.ETag, moved.ETag)
		cfg, err = c.Config(ctx(t), bot.ID, client.ConfigOptions{Alias: "production"})
		require.NoError(t, err)
		require.Equal(t, int32(3), cfg.Version)

		aliases, err := c.Aliases(ctx(t), bot.ID)
		require.NoError(t, err)
		require.Len(t, aliases, 1)
		require.Equal(t, int32(3), aliases[0].Version)

		require.NoError(t, c.DeleteAlias(ctx(t), bot.ID, "production"))
		_, err = c.Config(ctx(t), bot.ID, client.ConfigOptions{Alias: "production"})
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		requireProblem(t, c.DeleteAlias(ctx(t), bot.ID, "production"), http.StatusNotFound, "/problems/not-found")
	})

	t.Run("ConfigByNumberOrLatest", func(t *testing.T) {
		t.Parallel()
		c, bot := setup(t)
		cfg, err := c.Config(ctx(t), bot.ID, client.ConfigOptions{Version: 1})
		require.NoError(t, err)
		require.Equal(t, int32(1), cfg.Version)
		require.Equal(t, `"1"`, cfg.ETag)
		require.Empty(t, cfg.Alias)
		cfg, err = c.Config(ctx(t), bot.ID, client.ConfigOptions{})
		require.NoError(t, err)
		require.Equal(t, int32(3), cfg.Version)
		_, err = c.Config(ctx(t), bot.ID, client.ConfigOptions{Alias: "production", Version: 1})
		requireProblem(t, err, http.StatusUnprocessableEntity, "/problems/validation")
	})

	t.Run("OnlyAnActiveVersionCanBeAliasedOrRead", func(t *testing.T) {
		t.Parallel()
		// Without workers, a new configuration stays in training.
		c := newClient(t, startServer(t).URL)
		bot, err := c.Create(ctx(t), client.CreateParams{Name: "Untrained", Model: "gpt-4o-mini"})
		require.NoError(t, err)
		_, err = c.SetAlias(ctx(t), bot.ID, "production", 1)
		requireProblem(t, err, http.StatusConflict, "/problems/version-not-ready")
		_, err = c.Config(ctx(t), bot.ID, client.ConfigOptions{})
		requireProblem(t, err, http.StatusConflict, "/problems/version-not-ready")
	})

	t.Run("AnotherUsersBotIsNotFound", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv.URL)
		id := uuid.New()
		seen := 0
		for v, err := range c.Versions(ctx(t), id) {
			seen++
			require.Zero(t, v)
			requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		}
		require.Equal(t, 1, seen, "one value: the problem")
		_, err := c.Aliases(ctx(t), id)
		requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
	})
}

// requireProblem asserts that err is a *client.Problem of status and type, and returns it.
func requireProblem(t *testing.T, err error, status int, typ string) *client.Problem {
	t.Helper()
	var p *client.Problem
	require.ErrorAs(t, err, &p)
	require.Equal(t, status, p.Status, p.Error())
	require.Equal(t, typ, p.Type)
	return p
}
