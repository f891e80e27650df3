package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

func runList(ctx context.Context, env Env, args []string) error {
	f := newFlags("list")
	status := f.String("status", "", "only bots in this `status`: training, active or error")
	model := f.String("model", "", "only bots on this `model` id")
	var public triState
	f.Var(&public, "public", "only public bots; --public=false: only private ones")
	q := f.String("q", "", "only bots whose name or description contains this `text`")
	sort := f.String("sort", "", "the `order`: name, created_at or updated_at, with - for descending")
	limit := f.Int("limit", 0, "print at most `n` bots (default: all)")
	c, _, done, err := f.start(env, args, 0, 0)
	if done {
		return err
	}
	if *limit < 0 {
		return f.usageError("--limit must be 0 or more")
	}
	opts := client.ListOptions{Status: client.Status(*status), Model: *model, IsPublic: public.v, Query: *q, Sort: client.Sort(*sort)}
	if *limit > 0 {
		opts.PageSize = min(*limit, client.MaxPageSize)
	}
	bots := []client.Bot{}
	for b, err := range c.All(ctx, opts) {
		if err != nil {
			return apiError(err)
		}
		bots = append(bots, b)
		if len(bots) == *limit {
			break
		}
	}
	return printBots(env.Stdout, *f.output, bots)
}

func runGet(ctx context.Context, env Env, args []string) error {
	return botAction(ctx, env, args, "get", (*client.Client).Get)
}

// runRestore takes only an id: a deleted bot is not among the bots a name is looked up in, and
// a live bot that has the name since is not the one to restore.
func runRestore(ctx context.Context, env Env, args []string) error {
	f := newFlags("restore")
	c, pos, done, err := f.start(env, args, 1, 1)
	if done {
		return err
	}
	id, ok := parseID(pos[0])
	if !ok {
		return f.usageError(fmt.Sprintf("%q is not a bot id: a deleted bot is restored by its id, which bots delete printed", pos[0]))
	}
	bot, err := c.Restore(ctx, id)
	if err != nil {
		return apiError(err)
	}
	return printBot(env.Stdout, *f.output, bot)
}

func runTrain(ctx context.Context, env Env, args []string) error {
	return botAction(ctx, env, args, "train", (*client.Client).Train)
}

// botAction runs a command whose one argument names a bot: it calls the SDK's method on the
// bot and prints the bot the method returns.
func botAction(ctx context.Context, env Env, args []string, name string,
	method func(*client.Client, context.Context, uuid.UUID) (client.Bot, error)) error {
	f := newFlags(name)
	c, id, _, done, err := f.startBot(ctx, env, args, 1, 1)
	if done {
		return err
	}
	bot, err := method(c, ctx, id)
	if err != nil {
		return apiError(err)
	}
	return printBot(env.Stdout, *f.output, bot)
}

// botFields are the flags of the fields a person sets on create and edit.
type botFields struct {
	f            *flags
	name         *string
	description  *string
	model        *string
	temperature  *float64
	systemPrompt *string
	public       triState
}

func newBotFields(f *flags) *botFields {
	b := &botFields{f: f,
		name:         f.String("name", "", "the bot's `name`"),
		description:  f.String("description", "", "the bot's `text` for people; \"\" removes it"),
		model:        f.String("model", "", "the `model` id (bots models lists them)"),
		temperature:  new(float64),
		systemPrompt: f.String("system-prompt", "", "the `instructions` the model gets before every conversation"),
	}
	f.Var((*finite)(b.temperature), "temperature", "sampling `temperature`, 0 to 2 (default: the service's)")
	f.Var(&b.public, "public", "whether every user can see and duplicate the bot (--public=false: private)")
	return b
}

// apply sets the fields given on the command line on bot, and says whether any was given.
func (b *botFields) apply(bot *client.Bot) bool {
	given := false
	if b.f.set("name") {
		bot.Name, given = *b.name, true
	}
	if b.f.set("description") {
		bot.Description, given = nil, true
		if *b.description != "" {
			bot.Description = ptr(*b.description)
		}
	}
	if b.f.set("model") {
		bot.Model, given = *b.model, true
	}
	if b.f.set("temperature") {
		bot.Temperature, given = *b.temperature, true
	}
	if b.f.set("system-prompt") {
		bot.SystemPrompt, given = *b.systemPrompt, true
	}
	if b.public.v != nil {
		bot.IsPublic, given = *b.public.v, true
	}
	return given
}

func runCreate(ctx context.Context, env Env, args []string) error {
	f := newFlags("create")
	fields := newBotFields(f)
	c, _, done, err := f.start(env, args, 0, 0)
	if done {
		return err
	}
	if !f.set("name") || !f.set("model") {
		return f.usageError("--name and --model are required")
	}
	p := client.CreateParams{Name: *fields.name, Model: *fields.model, IsPublic: fields.public.v}
	if f.set("description") && *fields.description != "" {
		p.Description = fields.description
	}
	if f.set("temperature") {
		p.Temperature = fields.temperature
	}
	if f.set("system-prompt") {
		p.SystemPrompt = fields.systemPrompt
	}
	bot, err := c.Create(ctx, p)
	if err != nil {
		return apiError(err)
	}
	return printBot(env.Stdout, *f.output, bot)
}

func runEdit(ctx context.Context, env Env, args []string) error {
	f := newFlags("edit")
	fields := newBotFields(f)
	pos, done, err := f.parse(env, args, 1, 1)
	if done {
		return err
	}
	if !fields.apply(&client.Bot{}) {
		return f.usageError("give at least one field to change")
	}
	c, id, err := f.bot(ctx, env, pos[0])
	if err != nil {
		return err
	}
	// Update reads the bot, applies the flags and writes with If-Match, again on a 412: a
	// concurrent change is kept, and the flags' fields are set on top of it.
	bot, err := c.Update(ctx, id, func(b *client.Bot) error { fields.apply(b); return nil })
	if err != nil {
		return apiError(err)
	}
	return printBot(env.Stdout, *f.output, bot)
}

func runDelete(ctx context.Context, env Env, args []string) error {
	f := newPlainFlags("delete")
	yes := f.Bool("yes", false, "delete without asking")
	pos, done, err := f.parse(env, args, 1, 1)
	if done {
		return err
	}
	if !*yes && !env.Terminal {
		return f.usageError("no terminal to ask on; give --yes to delete")
	}
	c, id, err := f.bot(ctx, env, pos[0])
	if err != nil {
		return err
	}
	if *yes {
		err = apiError(c.Delete(ctx, id, ""))
	} else {
		err = deleteConfirmed(ctx, env, c, id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "deleted %s (bots restore %s brings it back)\n", id, id)
	return nil
}

// deleteConfirmed shows the person the bot, asks, and deletes the bot they saw: a bot
// someone edited since is not deleted.
func deleteConfirmed(ctx context.Context, env Env, c *client.Client, id uuid.UUID) error {
	seen, err := c.Get(ctx, id)
	if err != nil {
		return apiError(err)
	}
	if err := confirm(env, false, "delete", fmt.Sprintf("Delete bot %q (%s)?", seen.Name, seen.ID)); err != nil {
		return err
	}
	moved, err := deleteAsSeen(ctx, c, seen)
	if err != nil {
		return apiError(err)
	}
	if len(moved) > 0 {
		return fmt.Errorf("delete: not deleted: the bot changed since you confirmed (%s)", strings.Join(moved, ", "))
	}
	return nil
}

// deleteAsSeen deletes the bot seen unless someone edited one of its fields since, and then
// returns the fields that moved, with nothing deleted. It deletes with If-Match: the ETag of
// seen, or, when seen has none (a bot from a list), of the bot read again now. Training
// changes a bot's ETag too, without changing what was seen, so a 412 whose bot has the same
// fields is retried with the new ETag.
func deleteAsSeen(ctx context.Context, c *client.Client, seen client.Bot) ([]string, error) {
	etag := seen.ETag
	for attempt := 1; ; attempt++ {
		if etag == "" {
			now, err := c.Get(ctx, seen.ID)
			if err != nil {
				return nil, err
			}
			if moved := editableChanges(seen, now); len(moved) > 0 {
				return moved, nil
			}
			etag = now.ETag
		}
		err := c.Delete(ctx, seen.ID, etag)
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != http.StatusPreconditionFailed || attempt == client.DefaultUpdateAttempts {
			return nil, err
		}
		etag = ""
	}
}

func runDuplicate(ctx context.Context, env Env, args []string) error {
	f := newFlags("duplicate")
	name := f.String("name", "", "the copy's `name` (default: the source's with \"(copy)\")")
	var public triState
	f.Var(&public, "public", "make the copy public")
	c, id, _, done, err := f.startBot(ctx, env, args, 1, 1)
	if done {
		return err
	}
	p := client.DuplicateParams{IsPublic: public.v}
	if f.set("name") {
		p.Name = name
	}
	bot, err := c.Duplicate(ctx, id, p)
	if err != nil {
		return apiError(err)
	}
	return printBot(env.Stdout, *f.output, bot)
}

// modelView is a model of the catalog as -o json and -o yaml print it: the API's field names.
type modelView struct {
	ID             string  `json:"id" yaml:"id"`
	DisplayName    string  `json:"display_name" yaml:"display_name"`
	Provider       string  `json:"provider" yaml:"provider"`
	ContextWindow  int32   `json:"context_window" yaml:"context_window"`
	MaxTemperature float64 `json:"max_temperature" yaml:"max_temperature"`
	Retired        bool    `json:"retired" yaml:"retired"`
}

func runModels(ctx context.Context, env Env, args []string) error {
	f := newFlags("models")
	c, _, done, err := f.start(env, args, 0, 0)
	if done {
		return err
	}
	models, err := c.Models(ctx)
	if err != nil {
		return apiError(err)
	}
	view := func(m client.Model) modelView { return modelView(m) }
	header := []string{"ID", "NAME", "PROVIDER", "CONTEXT", "MAX TEMP", "RETIRED"}
	return printList(env.Stdout, *f.output, models, view, header, func(m client.Model) []string {
		return []string{m.ID, m.DisplayName, m.Provider, fmt.Sprint(m.ContextWindow), fmt.Sprint(m.MaxTemperature), yesNo(m.Retired)}
	})
}
