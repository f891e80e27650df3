package client_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestModelsListsTheCatalog(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	models, err := newClient(t, srv.URL).Models(ctx(t))
	require.NoError(t, err)
	byID := map[string]client.Model{}
	for _, m := range models {
		byID[m.ID] = m
	}
	require.Equal(t, client.Model{ID: "claude-3-haiku", DisplayName: "Claude 3 Haiku", Provider: "Anthropic",
		ContextWindow: 200000, MaxTemperature: 1}, byID["claude-3-haiku"])
	require.True(t, byID["gpt-3.5-turbo"].Retired, "retired models are listed as such")
}
