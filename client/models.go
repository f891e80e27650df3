package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	gen "github.com/chatsphere/bots/gen/client"
)

// Model is a language model a bot can run on, as the catalog lists it.
type Model struct {
	// ID is the value of a bot's Model.
	ID          string
	DisplayName string
	Provider    string
	// ContextWindow is how many tokens the model reads at once.
	ContextWindow int32
	// MaxTemperature is the highest temperature the model supports; a bot above it trains
	// into StatusError.
	MaxTemperature float64
	// Retired models are listed for reference; new configurations cannot use them.
	Retired bool
}

// Models returns the service's model catalog, in the order the service lists it, so that a
// program can check a model before it creates a bot on it.
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.ListModels(ctx)
	})
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, problemOf(r)
	}
	var list gen.ModelList
	if err := json.Unmarshal(r.body, &list); err != nil {
		return nil, fmt.Errorf("bots api: read models: %w", err)
	}
	models := make([]Model, len(list.Items))
	for i, m := range list.Items {
		models[i] = Model{ID: m.Id, DisplayName: m.DisplayName, Provider: m.Provider,
			ContextWindow: m.ContextWindow, MaxTemperature: m.MaxTemperature, Retired: m.Retired}
	}
	return models, nil
}
