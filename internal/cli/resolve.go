package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/bots"
)

// resolve turns a bot argument into its id: an id is taken as it is (see parseID); anything
// else must name one of the caller's bots as the service compares it: the name in the form
// the service stores it (bots.NormalizeName: NFC, without surrounding spaces), found through
// a search (q) on it. A bot whose name matches only ignoring case is named in the error, not
// taken: a command that changes or deletes a bot acts only on the one the person named.
func resolve(ctx context.Context, c *client.Client, arg string) (uuid.UUID, error) {
	if id, ok := parseID(arg); ok {
		return id, nil
	}
	stored, key, _ := bots.NormalizeName(arg)
	if stored == "" {
		return uuid.Nil, fmt.Errorf("%q names no bot; give a bot's id or exact name (bots list)", arg)
	}
	var found, folded []client.Bot
	for b, err := range c.All(ctx, client.ListOptions{Query: stored}) {
		if err != nil {
			return uuid.Nil, apiError(err)
		}
		switch {
		case b.Name == stored:
			found = append(found, b)
		case bots.Fold(b.Name) == key:
			folded = append(folded, b)
		}
	}
	switch {
	case len(found) == 1:
		return found[0].ID, nil
	case len(found) > 1:
		return uuid.Nil, fmt.Errorf("%d of your bots are named %q; give the id of one", len(found), stored)
	case len(folded) > 0:
		names := make([]string, len(folded))
		for i, b := range folded {
			names[i] = fmt.Sprintf("%q (%s)", b.Name, b.ID)
		}
		return uuid.Nil, fmt.Errorf("no bot of yours is named exactly %q; ignoring case it matches %s; give its exact name or id",
			stored, strings.Join(names, ", "))
	}
	return uuid.Nil, fmt.Errorf("no bot of yours is named %q; give its id or exact name (bots list)", stored)
}

// parseID takes arg as a bot's id only in the canonical form the service writes,
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lower case: uuid.Parse also reads upper case, 32
// hex digits, braces and urn:uuid:, forms that a bot's name may have.
func parseID(arg string) (uuid.UUID, bool) {
	id, err := uuid.Parse(arg)
	return id, err == nil && id.String() == arg
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
