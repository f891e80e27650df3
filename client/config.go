package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/uuid"

	gen "github.com/chatsphere/bots/gen/client"
)

// Config is what a chat runtime runs: the configuration of one active version of a bot and
// what training prepared for it.
type Config struct {
	BotID uuid.UUID
	// Version is the number of the version read; Alias is the alias it was read by, empty
	// when it was read by number or as the latest active version.
	Version      int32
	Alias        string
	Model        string
	Temperature  float64
	SystemPrompt string
	// Prepared is the prepared configuration as the service sends it (provider, context
	// window, token estimates, ...), for the runtime to decode as it needs.
	Prepared json.RawMessage
	// ETag identifies the version read (its number), for If-None-Match.
	ETag string
}

// ConfigOptions picks the version Config reads: by Alias, by Version number, or (both zero)
// the bot's latest active version. Giving both is a *Problem with Status 422.
type ConfigOptions struct {
	Alias   string
	Version int32
}

// Config reads the configuration a chat runtime runs for the bot botID, served from the
// service's memory. A version that is not active yet (or a bot with no active version) is a
// *Problem with Status 409 and Type "/problems/version-not-ready"; a missing bot, alias or
// version is a 404.
func (c *Client) Config(ctx context.Context, botID uuid.UUID, opts ConfigOptions) (Config, error) {
	params := &gen.GetBotConfigParams{}
	if opts.Alias != "" {
		params.Alias = ptr(opts.Alias)
	}
	if opts.Version != 0 {
		params.Version = ptr(opts.Version)
	}
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.GetBotConfig(ctx, botID, params)
	})
	cfg, err := decode[gen.BotConfig](r, err, http.StatusOK)
	if err != nil {
		return Config{}, err
	}
	out := Config{
		BotID: cfg.BotId, Version: cfg.Version, Model: cfg.Model, Temperature: cfg.Temperature,
		SystemPrompt: cfg.SystemPrompt, Prepared: cfg.PreparedConfig, ETag: r.header.Get("ETag"),
	}
	if a, err := cfg.Alias.Get(); err == nil {
		out.Alias = a
	}
	return out, nil
}
