package client

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	gen "github.com/chatsphere/bots/gen/client"
)

// Status is where a bot is in its life: training, active or error.
type Status string

// The statuses a bot can be in.
const (
	StatusTraining Status = "training" // being prepared; every new, duplicated or retrained bot starts here
	StatusActive   Status = "active"   // ready
	StatusError    Status = "error"    // training failed; Bot.StatusMessage says why
)

// Bot is a bot as the API returns it, with the ETag of that state.
type Bot struct {
	ID      uuid.UUID
	OwnerID uuid.UUID
	// Name, Description, Model, SystemPrompt, Temperature and IsPublic are the fields a
	// caller may change (see Update). Description is nil when the bot has none.
	Name         string
	Description  *string
	Model        string
	SystemPrompt string
	Temperature  float64
	IsPublic     bool
	// Status and StatusMessage (why the bot is in error, empty otherwise) are read-only.
	Status        Status
	StatusMessage string
	// ConfigVersion is the number of the version that holds the current model, temperature
	// and system prompt.
	ConfigVersion int32
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// ETag identifies this state of the bot for conditional requests (If-Match). It is set
	// by Get, Create, Duplicate and Update; bots from All have none, because a list does not
	// send one per bot.
	ETag string
}

// CreateParams is a new bot. Name and Model are required; a nil field takes the service's
// default.
type CreateParams struct {
	Name         string
	Model        string
	Description  *string
	SystemPrompt *string
	Temperature  *float64
	IsPublic     *bool
}

// DuplicateParams are the options of a copy; a nil field keeps the service's default (a
// derived name, private).
type DuplicateParams struct {
	Name     *string
	IsPublic *bool
}

// Create creates a bot. It sends a fresh Idempotency-Key and retries with the same key, so
// that a retry after a lost answer returns the bot the first request made instead of
// making a second one.
func (c *Client) Create(ctx context.Context, p CreateParams) (Bot, error) {
	body := gen.BotCreate{Name: p.Name, Model: p.Model, SystemPrompt: p.SystemPrompt, Temperature: p.Temperature, IsPublic: p.IsPublic}
	if p.Description != nil {
		body.Description = nullable.NewNullableWithValue(*p.Description)
	}
	params := &gen.CreateBotParams{IdempotencyKey: ptr(uuid.NewString())}
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.CreateBot(ctx, params, body)
	})
	return decodeTo(r, err, http.StatusCreated, toBot)
}

// Duplicate copies the bot id into a new bot of the caller's, with an Idempotency-Key and
// retries as Create.
func (c *Client) Duplicate(ctx context.Context, id uuid.UUID, p DuplicateParams) (Bot, error) {
	body := gen.BotDuplicate{Name: p.Name, IsPublic: p.IsPublic}
	params := &gen.DuplicateBotParams{IdempotencyKey: ptr(uuid.NewString())}
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.DuplicateBot(ctx, id, params, body)
	})
	return decodeTo(r, err, http.StatusCreated, toBot)
}

// Get reads the bot id with its ETag. A bot that does not exist, is deleted or is another
// user's private bot is a *Problem with Status 404.
func (c *Client) Get(ctx context.Context, id uuid.UUID) (Bot, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.GetBot(ctx, id, nil)
	})
	return decodeTo(r, err, http.StatusOK, toBot)
}

// Update changes the bot id without overwriting anyone else's change: it reads the bot,
// calls change on a copy, and sends the fields change altered (Name, Description, Model,
// SystemPrompt, Temperature, IsPublic; others are ignored) with If-Match. When the bot
// changed in between (412), it reads it again and calls change again, at most
// WithUpdateAttempts times in all; a 412 that persists is returned as a *Problem.
//
// change may therefore run more than once, each time on the bot as it is then; it should
// derive its edits from the bot it is given and have no other effects. An error from change
// stops Update and is returned as is. When change alters nothing, Update writes nothing and
// returns the bot as read. The write is retried on 503 and 429, which change nothing, but
// not on a connection error: the write may have been carried out, and its replay would
// answer 412 and run change a second time on a bot that already has its edits.
func (c *Client) Update(ctx context.Context, id uuid.UUID, change func(*Bot) error) (Bot, error) {
	clone := func(b Bot) Bot {
		if b.Description != nil {
			b.Description = ptr(*b.Description)
		}
		return b
	}
	write := func(ctx context.Context, cur Bot, body gen.BotUpdate) (*http.Response, error) {
		return c.api.UpdateBot(ctx, id, &gen.UpdateBotParams{IfMatch: ptr(cur.ETag)}, body)
	}
	return conditionally(ctx, c, func(ctx context.Context) (Bot, error) { return c.Get(ctx, id) }, clone, change, diff, write, toBot)
}

// conditionally is the read-change-write loop of Update and UpdateWebhook. It reads the
// resource with read, calls change on a copy (clone), and sends the update that diff finds
// between the two with write, which carries If-Match (the ETag of the resource as read); when
// diff finds nothing, nothing is written and the resource is returned as read. On 412 it
// starts again, at most WithUpdateAttempts times in all; the last answer is converted with
// conv. The write is retried on 503 and 429 but not on connection errors.
func conditionally[T, U, G any](ctx context.Context, c *Client, read func(context.Context) (T, error), clone func(T) T,
	change func(*T) error, diff func(from, to T) (U, bool),
	write func(ctx context.Context, cur T, body U) (*http.Response, error), conv func(G, string) T) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		cur, err := read(ctx)
		if err != nil {
			return zero, err
		}
		next := clone(cur)
		if err := change(&next); err != nil {
			return zero, err
		}
		body, changed := diff(cur, next)
		if !changed {
			return cur, nil
		}
		r, err := c.send(ctx, false, func(ctx context.Context) (*http.Response, error) { return write(ctx, cur, body) })
		if err == nil && r.status == http.StatusPreconditionFailed && attempt < c.updateAttempts {
			continue
		}
		return decodeTo(r, err, http.StatusOK, conv)
	}
}

// diff is the patch that turns from into to, and whether there is anything in it.
func diff(from, to Bot) (gen.BotUpdate, bool) {
	var u gen.BotUpdate
	changed := false
	set := func(differs bool, apply func()) {
		if differs {
			apply()
			changed = true
		}
	}
	set(to.Name != from.Name, func() { u.Name = ptr(to.Name) })
	set(to.Model != from.Model, func() { u.Model = ptr(to.Model) })
	set(to.SystemPrompt != from.SystemPrompt, func() { u.SystemPrompt = ptr(to.SystemPrompt) })
	set(to.Temperature != from.Temperature, func() { u.Temperature = ptr(to.Temperature) })
	set(to.IsPublic != from.IsPublic, func() { u.IsPublic = ptr(to.IsPublic) })
	if d, ok := nullableDiff(from.Description, to.Description); ok {
		set(true, func() { u.Description = d })
	}
	return u, changed
}

// nullableDiff is the value of a nullable field that turns from into to (null for nil), and
// whether they differ at all.
func nullableDiff(from, to *string) (nullable.Nullable[string], bool) {
	switch {
	case to == nil && from != nil:
		return nullable.NewNullNullable[string](), true
	case to != nil && (from == nil || *to != *from):
		return nullable.NewNullableWithValue(*to), true
	}
	return nil, false
}

// toBot converts the generated model at the one boundary where the SDK meets it.
func toBot(b gen.BotResponse, etag string) Bot {
	bot := Bot{
		ID: b.Id, OwnerID: b.OwnerId, Name: b.Name, Model: b.Model, SystemPrompt: b.SystemPrompt,
		Temperature: b.Temperature, IsPublic: b.IsPublic, Status: Status(b.Status),
		ConfigVersion: b.ConfigVersion, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, ETag: etag,
	}
	if d, err := b.Description.Get(); err == nil {
		bot.Description = &d
	}
	if m, err := b.StatusMessage.Get(); err == nil {
		bot.StatusMessage = m
	}
	return bot
}

func ptr[T any](v T) *T { return &v }
