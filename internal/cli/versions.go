package cli

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// versionView is a version as -o json and -o yaml print it: the API's field names.
type versionView struct {
	Number        int32     `json:"number" yaml:"number"`
	Model         string    `json:"model" yaml:"model"`
	Temperature   float64   `json:"temperature" yaml:"temperature"`
	SystemPrompt  string    `json:"system_prompt" yaml:"system_prompt"`
	Status        string    `json:"status" yaml:"status"`
	StatusMessage *string   `json:"status_message" yaml:"status_message"`
	Source        string    `json:"source" yaml:"source"`
	RevertedFrom  *int32    `json:"reverted_from" yaml:"reverted_from"`
	CreatedBy     string    `json:"created_by" yaml:"created_by"`
	CreatedAt     time.Time `json:"created_at" yaml:"created_at"`
}

func versionViewOf(v client.Version) versionView {
	return versionView{Number: v.Number, Model: v.Model, Temperature: v.Temperature, SystemPrompt: v.SystemPrompt,
		Status: string(v.Status), StatusMessage: null(v.StatusMessage), Source: v.Source, RevertedFrom: v.RevertedFrom,
		CreatedBy: v.CreatedBy.String(), CreatedAt: v.CreatedAt}
}

// printVersions writes versions as a table, newest first as the service lists them, or as a
// JSON or YAML list.
func printVersions(env Env, format string, versions []client.Version) error {
	header := []string{"VERSION", "STATUS", "MODEL", "TEMP", "SOURCE", "CREATED", "SYSTEM PROMPT"}
	return printList(env.Stdout, format, versions, versionViewOf, header, func(v client.Version) []string {
		source := v.Source
		if v.RevertedFrom != nil {
			source = fmt.Sprintf("revert of %d", *v.RevertedFrom)
		}
		status := string(v.Status)
		if v.StatusMessage != "" {
			status += ": " + v.StatusMessage
		}
		return []string{fmt.Sprint(v.Number), status, v.Model, fmt.Sprint(v.Temperature), source,
			v.CreatedAt.UTC().Format(time.RFC3339), show(v.SystemPrompt)}
	})
}

func runVersions(ctx context.Context, env Env, args []string) error {
	f := newFlags("versions")
	c, id, _, done, err := f.startBot(ctx, env, args, 1, 1)
	if done {
		return err
	}
	versions, err := collect(c.Versions(ctx, id))
	if err != nil {
		return err
	}
	return printVersions(env, *f.output, versions)
}

// versionNumber reads a version number argument.
func versionNumber(f *flags, arg string) (int32, error) {
	n, err := strconv.ParseInt(arg, 10, 32)
	if err != nil || n < 1 {
		return 0, f.usageError(fmt.Sprintf("%q is not a version number (1, 2, ...)", arg))
	}
	return int32(n), nil
}

// startVersion is start for a command whose arguments are a bot and one of its versions;
// check, when set, checks the rest of the command line with the version's number.
func (f *flags) startVersion(ctx context.Context, env Env, args []string, check func(n int32) error) (c *client.Client, id uuid.UUID, n int32, done bool, err error) {
	// The command line is checked first: one that cannot run sends nothing.
	pos, done, err := f.parse(env, args, 2, 2)
	if done {
		return nil, uuid.Nil, 0, true, err
	}
	if n, err = versionNumber(f, pos[1]); err != nil {
		return nil, uuid.Nil, 0, true, err
	}
	if check != nil {
		if err := check(n); err != nil {
			return nil, uuid.Nil, 0, true, err
		}
	}
	c, id, err = f.bot(ctx, env, pos[0])
	return c, id, n, err != nil, err
}

// patchView is one operation of a diff as -o json and -o yaml print it: RFC 6902's fields.
type patchView struct {
	Op    string `json:"op" yaml:"op"`
	Path  string `json:"path" yaml:"path"`
	Value any    `json:"value" yaml:"value"`
}

// runDiff prints the patch from version m to version n. Without --against it sends no
// against, which the service reads as n-1; version 1 has no previous version, so it needs
// --against, and is refused before anything is sent rather than with the service's word for
// a query parameter the person never typed.
func runDiff(ctx context.Context, env Env, args []string) error {
	f := newFlags("diff")
	against := f.Int("against", 0, "the version `m` to compare with (default: n-1; version 1 needs it)")
	c, id, n, done, err := f.startVersion(ctx, env, args, func(n int32) error {
		switch {
		case f.set("against") && (*against < 1 || *against > math.MaxInt32):
			return f.usageError(fmt.Sprintf("--against %d is not a version number (1, 2, ...)", *against))
		case !f.set("against") && n == 1:
			return f.usageError("version 1 has no previous version to compare with; give --against m to compare it with version m")
		}
		return nil
	})
	if done {
		return err
	}
	ops, err := c.Diff(ctx, id, n, int32(*against))
	if err != nil {
		return apiError(err)
	}
	if ok, err := encodeList(env.Stdout, *f.output, ops, func(op client.PatchOp) patchView { return patchView(op) }); ok {
		return err
	}
	if len(ops) == 0 {
		_, err := fmt.Fprintln(env.Stdout, "no difference")
		return err
	}
	rows := [][]string{}
	for _, op := range ops {
		rows = append(rows, []string{op.Op, op.Path, show(op.Value)})
	}
	return table(env.Stdout, rows)
}

func runRevert(ctx context.Context, env Env, args []string) error {
	f := newFlags("revert")
	c, id, n, done, err := f.startVersion(ctx, env, args, nil)
	if done {
		return err
	}
	v, err := c.Revert(ctx, id, n, "")
	if err != nil {
		return apiError(err)
	}
	return printVersions(env, *f.output, []client.Version{v})
}

// aliasView is an alias as -o json and -o yaml print it.
type aliasView struct {
	Name      string    `json:"name" yaml:"name"`
	Version   int32     `json:"version" yaml:"version"`
	CreatedAt time.Time `json:"created_at" yaml:"created_at"`
	UpdatedAt time.Time `json:"updated_at" yaml:"updated_at"`
}

func runAlias(ctx context.Context, env Env, args []string) error {
	f := newFlags("alias")
	c, pos, done, err := f.start(env, args, 2, 4)
	if done {
		return err
	}
	sub, bot := pos[0], pos[1]
	want := map[string]int{"set": 4, "list": 2, "rm": 3}
	if n, ok := want[sub]; !ok || len(pos) != n {
		return f.usageError(fmt.Sprintf("alias %s: wrong arguments", sub))
	}
	id, err := resolve(ctx, c, bot)
	if err != nil {
		return err
	}
	var aliases []client.Alias
	switch sub {
	case "set":
		n, err := versionNumber(f, pos[3])
		if err != nil {
			return err
		}
		a, err := c.SetAlias(ctx, id, pos[2], n)
		if err != nil {
			return apiError(err)
		}
		aliases = []client.Alias{a}
	case "rm":
		if err := c.DeleteAlias(ctx, id, pos[2]); err != nil {
			return apiError(err)
		}
		_, err := fmt.Fprintf(env.Stdout, "removed alias %s\n", pos[2])
		return err
	case "list":
		if aliases, err = c.Aliases(ctx, id); err != nil {
			return apiError(err)
		}
	}
	view := func(a client.Alias) aliasView {
		return aliasView{Name: a.Name, Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	}
	return printList(env.Stdout, *f.output, aliases, view, []string{"ALIAS", "VERSION", "UPDATED"}, func(a client.Alias) []string {
		return []string{a.Name, fmt.Sprint(a.Version), a.UpdatedAt.UTC().Format(time.RFC3339)}
	})
}
