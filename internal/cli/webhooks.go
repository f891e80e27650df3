package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// webhookView is a webhook as -o json and -o yaml print it: the API's field names, plus its
// ETag, and its secret where the service showed it (create and rotate).
type webhookView struct {
	ID          string    `json:"id" yaml:"id"`
	URL         string    `json:"url" yaml:"url"`
	Events      []string  `json:"events" yaml:"events"`
	Description *string   `json:"description" yaml:"description"`
	Enabled     bool      `json:"enabled" yaml:"enabled"`
	CreatedAt   time.Time `json:"created_at" yaml:"created_at"`
	UpdatedAt   time.Time `json:"updated_at" yaml:"updated_at"`
	// FailingSince, DisabledAt and DisabledReason are the service's: since when the
	// endpoint fails, and when and why the service disabled the webhook for it.
	FailingSince   *time.Time `json:"failing_since" yaml:"failing_since"`
	DisabledAt     *time.Time `json:"disabled_at" yaml:"disabled_at"`
	DisabledReason *string    `json:"disabled_reason" yaml:"disabled_reason"`
	Secret         string     `json:"secret,omitempty" yaml:"secret,omitempty"`
	ETag           string     `json:"etag,omitempty" yaml:"etag,omitempty"`
}

func webhookViewOf(w client.Webhook) webhookView {
	return webhookView{ID: w.ID.String(), URL: w.URL, Events: w.Events, Description: w.Description, Enabled: w.Enabled,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, FailingSince: w.FailingSince, DisabledAt: w.DisabledAt,
		DisabledReason: w.DisabledReason, Secret: w.Secret, ETag: w.ETag}
}

// enabledMark is a webhook's ENABLED column: yes or no, marked "(failing)" while its endpoint
// fails, so that a list shows which webhooks need a look (get says since when and why).
func enabledMark(w client.Webhook) string {
	if w.FailingSince != nil || w.DisabledAt != nil {
		return yesNo(w.Enabled) + " (failing)"
	}
	return yesNo(w.Enabled)
}

// deliveryView is a webhook delivery as -o json and -o yaml print it: the API's field names.
type deliveryView struct {
	ID            int64      `json:"id" yaml:"id"`
	BotID         string     `json:"bot_id" yaml:"bot_id"`
	EventID       int64      `json:"event_id" yaml:"event_id"`
	EventType     string     `json:"event_type" yaml:"event_type"`
	State         string     `json:"state" yaml:"state"`
	Attempts      int32      `json:"attempts" yaml:"attempts"`
	LastStatus    *int32     `json:"last_status" yaml:"last_status"`
	LastError     *string    `json:"last_error" yaml:"last_error"`
	LatencyMs     *int64     `json:"latency_ms" yaml:"latency_ms"`
	NextAttemptAt *time.Time `json:"next_attempt_at" yaml:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at" yaml:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at" yaml:"updated_at"`
}

func deliveryViewOf(d client.WebhookDelivery) deliveryView {
	v := deliveryView{ID: d.ID, BotID: d.BotID.String(), EventID: d.EventID, EventType: d.EventType, State: string(d.State),
		Attempts: d.Attempts, LastStatus: d.LastStatus, NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.LastError != "" {
		v.LastError = ptr(d.LastError)
	}
	if d.Latency != nil {
		v.LatencyMs = ptr(d.Latency.Milliseconds())
	}
	return v
}

// webhookCommands are the subcommands of `bots webhooks`, each with the number of arguments
// it takes (a webhook's id and a delivery's id, a webhook's id, or none).
var webhookCommands = map[string]struct {
	args int
	run  func(ctx context.Context, call webhookCall) error
}{
	"list":       {0, runWebhookList},
	"create":     {0, runWebhookCreate},
	"get":        {1, webhookAction((*client.Client).Webhook)},
	"rm":         {1, runWebhookRemove},
	"rotate":     {1, webhookAction((*client.Client).RotateWebhookSecret)},
	"deliveries": {1, runWebhookDeliveries},
	"redeliver":  {2, runWebhookRedeliver},
}

// webhookFlags are the flags of create and rm; a subcommand given another's flag is refused
// (a usage error).
type webhookFlags struct {
	url, events, description *string
	disabled, yes            *bool
}

// webhookCall is what a subcommand of `bots webhooks` runs with: its command line, parsed and
// checked, the SDK client, the webhook's id (uuid.Nil for list and create) and the delivery's
// id (redeliver only).
type webhookCall struct {
	env      Env
	f        *flags
	wf       webhookFlags
	c        *client.Client
	id       uuid.UUID
	delivery int64
}

func runWebhooks(ctx context.Context, env Env, args []string) error {
	f := newFlags("webhooks")
	wf := webhookFlags{
		url:         f.String("url", "", "create: the `url` the events are sent to (https)"),
		events:      f.String("events", "*", "create: the event `types`, comma-separated (bot.created, bot.status_changed, ...), or * for all (the default)"),
		description: f.String("description", "", "create: the webhook's `text` for people"),
		disabled:    f.Bool("disabled", false, "create: register it without sending anything yet"),
		yes:         f.Bool("yes", false, "rm: delete without asking"),
	}
	pos, done, err := f.parse(env, args, 1, 3)
	if done {
		return err
	}
	sub, ok := webhookCommands[pos[0]]
	if !ok || len(pos)-1 != sub.args {
		return f.usageError(fmt.Sprintf("webhooks %s: wrong arguments", pos[0]))
	}
	if err := wf.check(f, pos[0]); err != nil {
		return err
	}
	id, delivery := uuid.Nil, int64(0)
	if sub.args >= 1 {
		if id, err = uuid.Parse(pos[1]); err != nil {
			return f.usageError(fmt.Sprintf("%q is not a webhook id (bots webhooks list shows them)", pos[1]))
		}
	}
	if sub.args == 2 {
		if delivery, err = strconv.ParseInt(pos[2], 10, 64); err != nil || delivery < 1 {
			return f.usageError(fmt.Sprintf("%q is not a delivery id (bots webhooks deliveries %s shows them)", pos[2], id))
		}
	}
	c, err := f.client(env)
	if err != nil {
		return err
	}
	return sub.run(ctx, webhookCall{env: env, f: f, wf: wf, c: c, id: id, delivery: delivery})
}

// check refuses a flag given to a subcommand that does not take it, so that a mistyped command
// line is not half obeyed.
func (wf webhookFlags) check(f *flags, sub string) error {
	own := map[string]string{"url": "create", "events": "create", "description": "create", "disabled": "create", "yes": "rm"}
	for name, owner := range own {
		if f.set(name) && owner != sub {
			return f.usageError(fmt.Sprintf("--%s is for webhooks %s", name, owner))
		}
	}
	if sub == "create" && *wf.url == "" {
		return f.usageError("webhooks create: --url is required")
	}
	return nil
}

func runWebhookList(ctx context.Context, call webhookCall) error {
	env, f, c := call.env, call.f, call.c
	hooks, err := collect(c.Webhooks(ctx))
	if err != nil {
		return err
	}
	header := []string{"ID", "URL", "EVENTS", "ENABLED", "UPDATED"}
	return printList(env.Stdout, *f.output, hooks, webhookViewOf, header, func(w client.Webhook) []string {
		return []string{w.ID.String(), w.URL, strings.Join(w.Events, ","), enabledMark(w), w.UpdatedAt.UTC().Format(time.RFC3339)}
	})
}

func runWebhookCreate(ctx context.Context, call webhookCall) error {
	env, f, c := call.env, call.f, call.c
	wf := call.wf
	p := client.WebhookParams{URL: *wf.url, Events: eventTypes(*wf.events)}
	if *wf.description != "" {
		p.Description = wf.description
	}
	if *wf.disabled {
		p.Enabled = ptr(false)
	}
	w, err := c.CreateWebhook(ctx, p)
	if err != nil {
		return apiError(err)
	}
	return printWebhook(env, *f.output, w)
}

// eventTypes splits --events at its commas, without the spaces around each type, so that
// "bot.created, bot.updated" names the two types a person means.
func eventTypes(list string) []string {
	types := strings.Split(list, ",")
	for i, t := range types {
		types[i] = strings.TrimSpace(t)
	}
	return types
}

// webhookAction is a subcommand that calls the SDK's method on one webhook and prints the
// webhook it returns (get, rotate).
func webhookAction(method func(*client.Client, context.Context, uuid.UUID) (client.Webhook, error)) func(context.Context, webhookCall) error {
	return func(ctx context.Context, call webhookCall) error {
		w, err := method(call.c, ctx, call.id)
		if err != nil {
			return apiError(err)
		}
		return printWebhook(call.env, *call.f.output, w)
	}
}

// runWebhookRemove deletes a webhook; on a terminal it shows the webhook and asks first, and
// deletes it only as shown (If-Match), so that a webhook someone changed since is kept.
func runWebhookRemove(ctx context.Context, call webhookCall) error {
	env, f, c, id := call.env, call.f, call.c, call.id
	wf := call.wf
	etag := ""
	if !*wf.yes {
		if !env.Terminal {
			return f.usageError("no terminal to ask on; give --yes to delete")
		}
		w, err := c.Webhook(ctx, id)
		if err != nil {
			return apiError(err)
		}
		if err := confirm(env, false, "webhooks rm", fmt.Sprintf("Delete the webhook to %s (%s) and its deliveries?", w.URL, w.ID)); err != nil {
			return err
		}
		etag = w.ETag
	}
	err := c.DeleteWebhook(ctx, id, etag)
	var p *client.Problem
	if errors.As(err, &p) && p.Status == http.StatusPreconditionFailed {
		// The service's 412 speaks of If-Match, which the person never typed.
		return errors.New("webhooks rm: not deleted: the webhook changed since you confirmed; run webhooks rm again to see it as it is now")
	}
	if err != nil {
		return apiError(err)
	}
	_, err = fmt.Fprintf(env.Stdout, "deleted webhook %s\n", id)
	return err
}

func runWebhookDeliveries(ctx context.Context, call webhookCall) error {
	env, f, c, id := call.env, call.f, call.c, call.id
	deliveries, err := collect(c.WebhookDeliveries(ctx, id))
	if err != nil {
		return err
	}
	return printList(env.Stdout, *f.output, deliveries, deliveryViewOf, deliveryHeader, deliveryRow)
}

// runWebhookRedeliver queues a delivery's event again and prints the new delivery. The SDK
// does not retry it after a lost answer (see RedeliverWebhookDelivery): `deliveries` shows
// whether it was queued.
func runWebhookRedeliver(ctx context.Context, call webhookCall) error {
	env, f, c := call.env, call.f, call.c
	d, err := c.RedeliverWebhookDelivery(ctx, call.id, call.delivery)
	if err != nil {
		return apiError(err)
	}
	if ok, err := encode(env.Stdout, *f.output, deliveryViewOf(d)); ok {
		return err
	}
	return table(env.Stdout, [][]string{deliveryHeader, deliveryRow(d)})
}

// deliveryHeader and deliveryRow are the table of deliveries: one delivery a row.
var deliveryHeader = []string{"ID", "EVENT", "TYPE", "STATE", "ATTEMPTS", "STATUS", "LATENCY", "NEXT", "CREATED", "ERROR"}

func deliveryRow(d client.WebhookDelivery) []string {
	status, latency, next := "-", "-", "-"
	if d.LastStatus != nil {
		status = fmt.Sprint(*d.LastStatus)
	}
	if d.Latency != nil {
		latency = fmt.Sprintf("%dms", d.Latency.Milliseconds())
	}
	if d.NextAttemptAt != nil {
		next = d.NextAttemptAt.UTC().Format(time.RFC3339)
	}
	return []string{fmt.Sprint(d.ID), fmt.Sprint(d.EventID), d.EventType, string(d.State), fmt.Sprint(d.Attempts),
		status, latency, next, d.CreatedAt.UTC().Format(time.RFC3339), cut(d.LastError, 80)}
}

// printWebhook writes one webhook as a table of its fields, or as a JSON or YAML object. A
// secret, which the service shows only once, comes with a reminder on stderr to keep it.
func printWebhook(env Env, format string, w client.Webhook) error {
	if w.Secret != "" {
		fmt.Fprintln(env.Stderr, "Keep the secret: it is not shown again. Receivers verify each delivery with it.")
	}
	if ok, err := encode(env.Stdout, format, webhookViewOf(w)); ok {
		return err
	}
	desc := ""
	if w.Description != nil {
		desc = *w.Description
	}
	rows := [][]string{
		{"id:", w.ID.String()},
		{"url:", w.URL},
		{"events:", strings.Join(w.Events, ",")},
		{"description:", desc},
		{"enabled:", yesNo(w.Enabled)},
		{"created:", w.CreatedAt.UTC().Format(time.RFC3339)},
		{"updated:", w.UpdatedAt.UTC().Format(time.RFC3339)},
	}
	// Only a failing endpoint has these: a healthy webhook's table stays as it was.
	if w.FailingSince != nil {
		rows = append(rows, []string{"failing since:", w.FailingSince.UTC().Format(time.RFC3339)})
	}
	if w.DisabledAt != nil {
		rows = append(rows, []string{"disabled at:", w.DisabledAt.UTC().Format(time.RFC3339)})
	}
	if w.DisabledReason != nil {
		rows = append(rows, []string{"disabled because:", *w.DisabledReason})
	}
	if w.Secret != "" {
		rows = append(rows, []string{"secret:", w.Secret})
	}
	return table(env.Stdout, rows)
}
