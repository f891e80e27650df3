package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// resolve turns a bot argument into its id: a UUID is taken as it is; anything else must be
// the exact name of one of the caller's bots, found through a search (q) on it.
func resolve(ctx context.Context, c *client.Client, arg string) (uuid.UUID, error) {
	if id, err := uuid.Parse(arg); err == nil {
		return id, nil
	}
	var found []client.Bot
	for b, err := range c.All(ctx, client.ListOptions{Query: arg}) {
		if err != nil {
			return uuid.Nil, apiError(err)
		}
		if b.Name == arg {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return uuid.Nil, fmt.Errorf("no bot of yours is named %q; give its id or exact name (bots list)", arg)
	case 1:
		return found[0].ID, nil
	default:
		return uuid.Nil, fmt.Errorf("%d of your bots are named %q; give the id of one", len(found), arg)
	}
}

// confirm asks the person at the terminal a yes/no question on stderr, and returns nil when
// they answer yes (or --yes was given). Without --yes, a command that would ask needs a
// terminal: in a script there is nobody to answer, and a command line that cannot run as
// given is a usage error. An answer other than yes is an error: nothing was done.
func confirm(env Env, yes bool, command, question string) error {
	if yes {
		return nil
	}
	if !env.Terminal {
		return usageErrorf("%s: %s: no terminal to ask on; give --yes to confirm", command, question)
	}
	fmt.Fprintf(env.Stderr, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%s: not confirmed; nothing done", command)
}
