package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// eventView is a status change as -o json and -o yaml print it.
type eventView struct {
	ID        int64     `json:"id" yaml:"id"`
	BotID     string    `json:"bot_id" yaml:"bot_id"`
	From      *string   `json:"from_status" yaml:"from_status"`
	To        string    `json:"to_status" yaml:"to_status"`
	Message   *string   `json:"message" yaml:"message"`
	CreatedAt time.Time `json:"created_at" yaml:"created_at"`
}

// watchHelp is what `bots watch -h` says after the flags.
const watchHelp = `Exit status: 0 the bot is active; 1 it is in error or was deleted, or the service
refused; 2 the command line cannot run as given; 3 the service could not be reached
(for 30 seconds of retries, whether it stopped answering or never did): how the bot
went on is unknown, watch it again.
`

// runWatch prints the bot's status changes as they happen, starting with its latest one,
// until the bot settles: it exits 0 once the bot is active and 1 once it is in error (or
// deleted), so that a script can wait for a training with it. When the service cannot be
// reached for the SDK's whole retry budget it exits 3, so that the script does not take the
// lost contact for a failed training. -o json prints one JSON object per line.
func runWatch(ctx context.Context, env Env, args []string) error {
	err := watch(ctx, env, args)
	if errors.Is(err, client.ErrUnreachable) {
		return &lostContactError{err}
	}
	return err
}

func watch(ctx context.Context, env Env, args []string) error {
	f := newFlags("watch")
	f.help = watchHelp
	c, id, _, done, err := f.startBot(ctx, env, args, 1, 1)
	if done {
		return err
	}
	ev, err := settle(ctx, c, id, func(ev client.StatusEvent) error { return printEvent(env, *f.output, ev) })
	if err != nil {
		return err
	}
	if ev.To == client.StatusError {
		return fmt.Errorf("watch: bot %s is in error: %s", id, ev.Message)
	}
	return nil
}

// lostContactError is a watch that ended because the service could not be reached: not the
// bot's outcome. It exits 3.
type lostContactError struct{ err error }

func (e *lostContactError) Error() string {
	return "watch: lost contact with the service, so how the bot went on is unknown (watch it again): " + e.err.Error()
}

func (e *lostContactError) Unwrap() error { return e.err }

// settle follows the bot's status, calling each for every change, until the bot is active or
// in error, and returns the change that settled it.
func settle(ctx context.Context, c *client.Client, id uuid.UUID, each func(client.StatusEvent) error) (client.StatusEvent, error) {
	for ev, err := range c.WatchStatus(ctx, id) {
		switch {
		case errors.Is(err, client.ErrGone):
			return client.StatusEvent{}, fmt.Errorf("bot %s was deleted", id)
		case err != nil:
			return client.StatusEvent{}, apiError(err)
		}
		if err := each(ev); err != nil {
			return client.StatusEvent{}, err
		}
		if ev.To == client.StatusActive || ev.To == client.StatusError {
			return ev, nil
		}
	}
	return client.StatusEvent{}, ctx.Err()
}

func printEvent(env Env, format string, ev client.StatusEvent) error {
	v := eventView{ID: ev.ID, BotID: ev.BotID.String(), From: null(ev.From), To: string(ev.To), Message: null(ev.Message), CreatedAt: ev.CreatedAt}
	switch format {
	case "json":
		line, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", line)
		return err
	case "yaml":
		fmt.Fprintln(env.Stdout, "---")
		_, err := encode(env.Stdout, "yaml", v)
		return err
	}
	from := string(ev.From)
	if from == "" {
		from = "(new)"
	}
	line := fmt.Sprintf("%s  %s -> %s", ev.CreatedAt.UTC().Format(time.RFC3339), from, ev.To)
	if ev.Message != "" {
		line += "  " + oneLine(ev.Message)
	}
	_, err := fmt.Fprintln(env.Stdout, line)
	return err
}
