package cli

import (
	"context"

	"github.com/chatsphere/bots/client"
)

// runExport writes the caller's bots, by name, in the format apply reads: applying its output
// to another account reproduces the bots.
func runExport(ctx context.Context, env Env, args []string) error {
	f := newFlags("export")
	f.defaultOutput("yaml")
	c, _, done, err := f.start(env, args, 0, 0)
	if done {
		return err
	}
	if *f.output == "table" {
		return f.usageError("export writes a file: -o yaml or -o json")
	}
	var out botsFile
	out.Bots = []fileBot{}
	for b, err := range c.All(ctx, client.ListOptions{Sort: client.SortName}) {
		if err != nil {
			return apiError(err)
		}
		fb := fileBotOf(b)
		if fb.Aliases, err = aliasesOf(ctx, c, b.ID); err != nil {
			return apiError(err)
		}
		out.Bots = append(out.Bots, fb)
	}
	_, err = encode(env.Stdout, *f.output, out)
	return err
}
