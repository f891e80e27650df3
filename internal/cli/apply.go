package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/bots"
)

// action is what apply does to one bot.
type action string

const (
	actCreate    action = "create"
	actUpdate    action = "update"
	actUnchanged action = "unchanged"
	actDelete    action = "delete"
)

// step is the plan for one bot: what to do, and the changes that make it an update.
type step struct {
	act  action
	want fileBot    // the file's entry; empty for a delete
	have client.Bot // the bot as the plan read it; zero for a create
	// changes describe each field that differs, as "field: old -> new".
	changes []string
	// aliases are the file's aliases that the bot does not have as the file says.
	aliases []aliasMove
}

// runApply makes the caller's bots match a file: it prints the plan, then creates, updates
// (with If-Match, stopping a bot someone edited since the plan) and, with --prune, deletes.
// A bot that fails does not stop the others; the command then exits 1.
func runApply(ctx context.Context, env Env, args []string) error {
	f := newPlainFlags("apply")
	file := f.String("f", "", "the `file` to apply, YAML or JSON (- reads stdin)")
	dryRun := f.Bool("dry-run", false, "print the plan and change nothing")
	prune := f.Bool("prune", false, "also delete your bots that are not in the file")
	yes := f.Bool("yes", false, "with --prune, delete without asking")
	c, _, done, err := f.start(env, args, 0, 0)
	if done {
		return err
	}
	if *file == "" {
		return f.usageError("-f <file> is required")
	}
	want, err := readBotsFile(env, *file)
	if err != nil {
		return err
	}
	steps, err := plan(ctx, c, want, *prune)
	if err != nil {
		return err
	}
	printPlan(env.Stdout, steps)
	if *dryRun {
		return nil
	}
	if n := count(steps, actDelete); n > 0 {
		if err := confirm(env, *yes, "apply", fmt.Sprintf("Delete the %d bots marked delete?", n)); err != nil {
			return err
		}
	}
	env.writing()
	failed := 0
	for _, s := range steps {
		if err := carryOut(ctx, c, env.Stdout, s); err != nil {
			failed++
			fmt.Fprintf(env.Stderr, "%s: %v\n", oneLine(s.name()), err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("apply: %d of %d bots failed; the others are applied", failed, len(steps))
	}
	return nil
}

func (s step) name() string {
	if s.act == actDelete {
		return s.have.Name
	}
	return s.want.Name
}

func count(steps []step, a action) int {
	n := 0
	for _, s := range steps {
		if s.act == a {
			n++
		}
	}
	return n
}

// plan compares the file with the caller's bots, by name as the service compares names: by
// their folded key (bots.Fold), so that "support" in the file is the bot named "Support",
// which the service would not let the file create beside it.
func plan(ctx context.Context, c *client.Client, want botsFile, prune bool) ([]step, error) {
	have := map[string]client.Bot{}
	var all []client.Bot
	for b, err := range c.All(ctx, client.ListOptions{Sort: client.SortName}) {
		if err != nil {
			return nil, apiError(err)
		}
		have[bots.Fold(b.Name)] = b
		all = append(all, b)
	}
	var steps []step
	inFile := map[string]bool{}
	for _, w := range want.Bots {
		// A blank name has no key; the service refuses it when apply creates it.
		_, key, _ := bots.NormalizeName(w.Name)
		b, ok := have[key]
		if key == "" || !ok {
			steps = append(steps, step{act: actCreate, want: w, aliases: aliasesToSet(w.Aliases, nil)})
			continue
		}
		inFile[key] = true
		current, err := aliasesOf(ctx, c, b.ID)
		if err != nil {
			return nil, apiError(err)
		}
		s := step{act: actUnchanged, want: w, have: b, changes: fieldChanges(b, w), aliases: aliasesToSet(w.Aliases, current)}
		if len(s.changes) > 0 || len(s.aliases) > 0 {
			s.act = actUpdate
		}
		steps = append(steps, s)
	}
	if prune {
		for _, b := range all {
			if !inFile[bots.Fold(b.Name)] {
				steps = append(steps, step{act: actDelete, have: b})
			}
		}
	}
	return steps, nil
}

// fieldChanges describes the fields the file manages whose value differs from the bot's. The
// name differs when the file spells it otherwise ("support" for "Support") once both are in
// the form the service stores.
func fieldChanges(b client.Bot, w fileBot) []string {
	var changes []string
	add := func(field string, from, to any) {
		changes = append(changes, fmt.Sprintf("%s: %s -> %s", field, show(from), show(to)))
	}
	if stored := storedName(w.Name); stored != storedName(b.Name) {
		add("name", b.Name, stored)
	}
	if w.Description != nil && (b.Description == nil || *b.Description != *w.Description) {
		add("description", b.Description, *w.Description)
	}
	if w.Model != b.Model {
		add("model", b.Model, w.Model)
	}
	if w.Temperature != nil && *w.Temperature != b.Temperature {
		add("temperature", b.Temperature, *w.Temperature)
	}
	if w.SystemPrompt != nil && *w.SystemPrompt != b.SystemPrompt {
		add("system_prompt", b.SystemPrompt, *w.SystemPrompt)
	}
	if w.IsPublic != nil && *w.IsPublic != b.IsPublic {
		add("is_public", b.IsPublic, *w.IsPublic)
	}
	return changes
}

// show is a value as the plan prints it: strings quoted and cut to 40 characters.
func show(v any) string {
	switch v := v.(type) {
	case *string:
		if v == nil {
			return "none"
		}
		return show(*v)
	case string:
		r := []rune(v)
		if len(r) > 40 {
			return fmt.Sprintf("%q… (%d characters)", string(r[:40]), len(r))
		}
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}

// printPlan writes one line per bot, what apply does and why, and a summary; the lines of
// what apply then does line up with them.
func printPlan(w io.Writer, steps []step) {
	for _, s := range steps {
		what := s.changes
		for _, a := range s.aliases {
			what = append(what, a.String())
		}
		if s.act == actDelete {
			what = []string{"(" + s.have.ID.String() + ")"}
		}
		report(w, string(s.act), s.name(), strings.Join(what, "; "))
	}
	fmt.Fprintf(w, "Plan: %d to create, %d to update, %d unchanged, %d to delete.\n",
		count(steps, actCreate), count(steps, actUpdate), count(steps, actUnchanged), count(steps, actDelete))
}

// report writes one line of what apply or import plans or did to a bot: a word in a column of
// its own, the bot, and details if any, both through oneLine.
func report(w io.Writer, word, bot, details string) {
	line := fmt.Sprintf("%-10s %s", word, oneLine(bot))
	if details != "" {
		line += "  " + oneLine(details)
	}
	fmt.Fprintln(w, line)
}

// errChangedSincePlan stops the update or delete of a bot that someone changed after the plan
// read it: apply would otherwise overwrite or delete a change that its plan never showed.
type errChangedSincePlan struct{ fields []string }

func (e *errChangedSincePlan) Error() string {
	return fmt.Sprintf("stopped: the bot changed since the plan read it (%s); nothing written to it; run apply again to see the new plan",
		strings.Join(e.fields, ", "))
}

// carryOut does one step and reports it on w.
func carryOut(ctx context.Context, c *client.Client, w io.Writer, s step) error {
	switch s.act {
	case actCreate:
		b, err := c.Create(ctx, createParams(s.want))
		if err != nil {
			return apiError(err)
		}
		report(w, "created", b.Name, "("+b.ID.String()+")")
		if len(s.aliases) > 0 {
			// A new bot's version 1 trains; only an active version can be aliased.
			if _, err := settle(ctx, c, b.ID, func(client.StatusEvent) error { return nil }); err != nil {
				return err
			}
		}
		return setAliases(ctx, c, w, s.want.Name, b.ID, s.aliases)
	case actUpdate:
		if len(s.changes) > 0 {
			_, err := c.Update(ctx, s.have.ID, func(b *client.Bot) error {
				// A status change by training moves the ETag too; only a change of a field
				// is someone else's edit.
				if moved := editableChanges(s.have, *b); len(moved) > 0 {
					return &errChangedSincePlan{fields: moved}
				}
				setFields(b, s.want)
				return nil
			})
			if err != nil {
				return apiError(err)
			}
			report(w, "updated", s.want.Name, "")
		}
		return setAliases(ctx, c, w, s.want.Name, s.have.ID, s.aliases)
	case actDelete:
		// The plan read the bot from a list, without an ETag: deleteAsSeen compares its
		// fields, as an update does, so that a bot edited since the plan is not deleted.
		moved, err := deleteAsSeen(ctx, c, s.have)
		if err != nil {
			return apiError(err)
		}
		if len(moved) > 0 {
			return &errChangedSincePlan{fields: moved}
		}
		report(w, "deleted", s.have.Name, "("+s.have.ID.String()+")")
	}
	return nil
}

// editableChanges names the editable fields in which two states of a bot differ.
func editableChanges(a, b client.Bot) []string {
	var names []string
	for _, f := range []struct {
		name  string
		moved bool
	}{
		{"name", a.Name != b.Name},
		{"description", (a.Description == nil) != (b.Description == nil) || (a.Description != nil && *a.Description != *b.Description)},
		{"model", a.Model != b.Model},
		{"temperature", a.Temperature != b.Temperature},
		{"system_prompt", a.SystemPrompt != b.SystemPrompt},
		{"is_public", a.IsPublic != b.IsPublic},
	} {
		if f.moved {
			names = append(names, f.name)
		}
	}
	return names
}

// setFields sets the fields the file manages on b.
func setFields(b *client.Bot, w fileBot) {
	if stored := storedName(w.Name); stored != storedName(b.Name) {
		b.Name = stored
	}
	b.Model = w.Model
	if w.Description != nil {
		b.Description = ptr(*w.Description)
	}
	if w.Temperature != nil {
		b.Temperature = *w.Temperature
	}
	if w.SystemPrompt != nil {
		b.SystemPrompt = *w.SystemPrompt
	}
	if w.IsPublic != nil {
		b.IsPublic = *w.IsPublic
	}
}

// storedName is name in the form the service stores it (see bots.NormalizeName).
func storedName(name string) string {
	stored, _, _ := bots.NormalizeName(name)
	return stored
}

func createParams(w fileBot) client.CreateParams {
	return client.CreateParams{Name: w.Name, Model: w.Model, Description: w.Description,
		Temperature: w.Temperature, SystemPrompt: w.SystemPrompt, IsPublic: w.IsPublic}
}
