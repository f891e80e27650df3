package client_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	t.Run("TheOwnerReadsEveryChangeNewestFirst", func(t *testing.T) {
		t.Parallel()
		c, bot := newBot(t, srv.URL, client.CreateParams{Name: "Audited", Model: "gpt-4o-mini"})
		_, err := c.Update(ctx(t), bot.ID, func(b *client.Bot) error { b.Name = "Audited again"; return nil })
		require.NoError(t, err)

		var types []string
		for e, err := range c.Events(ctx(t), bot.ID, "") {
			require.NoError(t, err)
			require.Equal(t, bot.ID, e.BotID)
			require.Equal(t, bot.OwnerID.String(), e.Actor)
			require.NotEmpty(t, e.RequestID)
			types = append(types, e.Type)
		}
		require.Equal(t, []string{"bot.updated", "version.created", "bot.created"}, types)

		var updates []client.Event
		for e, err := range c.Events(ctx(t), bot.ID, "bot.updated") {
			require.NoError(t, err)
			updates = append(updates, e)
		}
		require.Len(t, updates, 1)
		var data struct {
			Patch []struct{ Op, Path, Value string }
		}
		require.NoError(t, json.Unmarshal(updates[0].Data, &data))
		require.Equal(t, []struct{ Op, Path, Value string }{{"replace", "/name", "Audited again"}}, data.Patch)
	})

	t.Run("APublicBotsViewerSeesNoEvents", func(t *testing.T) {
		t.Parallel()
		_, bot := newBot(t, srv.URL, client.CreateParams{Name: "Shown", Model: "gpt-4o-mini", IsPublic: ptr(true)})
		viewer := newClient(t, srv.URL)
		_, err := viewer.Get(ctx(t), bot.ID)
		require.NoError(t, err, "the viewer sees the bot")
		seen := 0
		for e, err := range viewer.Events(ctx(t), bot.ID, "") {
			seen++
			require.Zero(t, e)
			requireProblem(t, err, http.StatusNotFound, "/problems/not-found")
		}
		require.Equal(t, 1, seen, "one value: the problem")
	})
}
