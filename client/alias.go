package client

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	gen "github.com/chatsphere/bots/gen/client"
)

// Alias is a name (such as "production") that points at one active version of a bot, so that
// a chat runtime reads the configuration by alias and a release or a rollback is one move of
// the alias.
type Alias struct {
	Name string
	// Version is the number of the version the alias points at.
	Version   int32
	CreatedAt time.Time
	// UpdatedAt is when the alias last moved.
	UpdatedAt time.Time
	// ETag identifies this state of the alias; set by SetAlias, empty in Aliases.
	ETag string
}

// Aliases returns every alias of the bot botID, sorted by name.
func (c *Client) Aliases(ctx context.Context, botID uuid.UUID) ([]Alias, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.ListBotAliases(ctx, botID)
	})
	list, err := decode[gen.BotAliasList](r, err, http.StatusOK)
	if err != nil {
		return nil, err
	}
	out := make([]Alias, len(list.Items))
	for i, a := range list.Items {
		out[i] = toAlias(a, "")
	}
	return out, nil
}

// SetAlias points the alias name of the caller's bot botID at version, creating the alias if
// it is new. Only an active version can be aliased: a version still training or in error is
// a *Problem with Status 409 (Type "/problems/version-not-ready"). Setting an alias to the
// version it already points at changes nothing, so SetAlias is retried like a read.
func (c *Client) SetAlias(ctx context.Context, botID uuid.UUID, name string, version int32) (Alias, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.PutBotAlias(ctx, botID, name, nil, gen.BotAliasPut{Version: version})
	})
	want := http.StatusOK // the alias existed
	if err == nil && r.status == http.StatusCreated {
		want = http.StatusCreated // the alias is new
	}
	return decodeTo(r, err, want, toAlias)
}

// DeleteAlias deletes the alias name of the caller's bot botID; the version it pointed at
// stays. An alias that does not exist is a *Problem with Status 404. It is not retried on a
// connection error, whose replay would answer 404 for an alias the first request deleted.
func (c *Client) DeleteAlias(ctx context.Context, botID uuid.UUID, name string) error {
	return c.remove(ctx, http.StatusNoContent, func(ctx context.Context) (*http.Response, error) {
		return c.api.DeleteBotAlias(ctx, botID, name, nil)
	})
}

// toAlias converts the generated model at the one boundary where the SDK meets it.
func toAlias(a gen.BotAlias, etag string) Alias {
	return Alias{Name: a.Name, Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, ETag: etag}
}
