// Package cli is the command line of the bots API for its users: `bots list`, `bots apply`
// and the other commands that call a running service through the Go SDK (package client),
// never through HTTP of their own. app.Run dispatches to Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// DefaultAPIURL is the service the commands call when neither BOTS_API_URL nor --api-url
// says otherwise: a `bots serve` on the same machine.
const DefaultAPIURL = "http://localhost:8080"

// Env is what a command reads and writes besides its arguments. Terminal is injectable so
// that tests can act as a person at a terminal.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Terminal says whether a person answers on Stdin, so that a command may ask them to
	// confirm; without one, commands that would ask need --yes.
	Terminal bool

	// beforeWrites, when set, runs between what apply and import check and what they write.
	beforeWrites func()
	// clientOptions are added to the SDK client's options, so that a test can shorten its
	// retry budget.
	clientOptions []client.Option
}

// writing marks the moment a command that checked everything starts writing.
func (e Env) writing() {
	if e.beforeWrites != nil {
		e.beforeWrites()
	}
}

// command is one client command: its name, usage line, a sentence for `bots help`, and what
// runs it.
type command struct {
	name     string
	synopsis string
	summary  string
	run      func(ctx context.Context, env Env, args []string) error
}

// commands are the client commands, in the order `bots help` lists them. It is filled in
// init: the commands' usage reads it, which an initializer could not refer to (a cycle).
var commands []command

func init() {
	commands = []command{
		{"list", "bots list [--status s] [--model m] [--public[=false]] [--q text] [--sort s] [--limit n]", "list your bots", runList},
		{"get", "bots get <bot>", "show one bot", runGet},
		{"create", "bots create --name n --model m [--description d] [--temperature t] [--system-prompt p] [--public]", "create a bot", runCreate},
		{"edit", "bots edit <bot> [--name n] [--description d] [--model m] [--temperature t] [--system-prompt p] [--public[=false]]", "change a bot's fields, never overwriting a concurrent change", runEdit},
		{"delete", "bots delete <bot> [--yes]", "delete a bot (asks first on a terminal; --yes otherwise)", runDelete},
		{"restore", "bots restore <bot-id>", "bring back a deleted bot", runRestore},
		{"duplicate", "bots duplicate <bot> [--name n] [--public]", "copy a bot", runDuplicate},
		{"train", "bots train <bot>", "train a bot again", runTrain},
		{"watch", "bots watch <bot>", "print each status change until the bot is active (exit 0) or in error (exit 1)", runWatch},
		{"versions", "bots versions <bot>", "list a bot's versions, newest first", runVersions},
		{"diff", "bots diff <bot> <n> [--against m]", "what changed from version m (default n-1) to version n", runDiff},
		{"revert", "bots revert <bot> <n>", "make version n's configuration the bot's latest", runRevert},
		{"alias", "bots alias set <bot> <name> <n> | list <bot> | rm <bot> <name>", "point, list and remove a bot's aliases", runAlias},
		{"events", "bots events <bot> [--type t]", "who changed the bot, what and when, newest first (owner only)", runEvents},
		{"webhooks", "bots webhooks list | get <id> | create --url u [--events t,...] [--description d] [--disabled] | rotate <id> | deliveries <id> | redeliver <id> <delivery-id> | rm <id> [--yes]", "register, show, re-key and remove the endpoints your bots' events are sent to, see their deliveries and send one again", runWebhooks},
		{"models", "bots models", "list the models a bot can run on", runModels},
		{"export", "bots export [-o yaml|json]", "write your bots as a file that bots apply reads", runExport},
		{"apply", "bots apply -f <file> [--dry-run] [--prune] [--yes]", "make your bots match a file: create, update, and with --prune delete", runApply},
		{"import", "bots import openai <file> [--dry-run] [--yes]", "create one bot per assistant of OpenAI's list-assistants answer", runImport},
	}
}

// lookup returns the client command name.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// Is says whether name is a client command, for app.Run.
func Is(name string) bool {
	_, ok := lookup(name)
	return ok
}

// Run runs the client command args[0] with the rest of args.
func Run(ctx context.Context, env Env, args []string) error {
	cmd, ok := lookup(args[0])
	if !ok {
		return usageErrorf("unknown command %q", args[0])
	}
	return cmd.run(ctx, env, args[1:])
}

// Usage writes the client commands and their settings, for `bots help`.
func Usage(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, `
They call the service at BOTS_API_URL (default %s) with the bearer token
BOTS_TOKEN, or --api-url and --token; -o table|json|yaml chooses the output. Exit status:
0 done, 1 failed, 2 wrong command line; watch: 3 lost contact with the service.
`, DefaultAPIURL)
}

// UsageError is a command line that cannot run as given. It exits with status 2, so that a
// script tells its own mistake from the service's refusal (1).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// ExitCode is the exit status for what a command returned: 0 done, 2 a wrong command line,
// 3 a watch that lost contact with the service (see runWatch), 1 anything else.
func ExitCode(err error) int {
	var u *UsageError
	var lost *lostContactError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	case errors.As(err, &lost):
		return 3
	default:
		return 1
	}
}

// flags is a command's flag set with the settings every command shares.
type flags struct {
	*flag.FlagSet
	name   string
	help   string // said after the flags in the usage, when set
	apiURL *string
	token  *string
	output *string // nil for a command without -o
}

// newFlags returns the flag set of the command name, with -o for the format of what it
// prints. It is silenced: parse reports a wrong command line once, as a UsageError with the
// command's usage.
func newFlags(name string) *flags {
	f := newPlainFlags(name)
	f.output = f.String("o", "table", "output `format`: table, json or yaml")
	return f
}

// newPlainFlags is newFlags for a command that prints a report of its own, in one format.
func newPlainFlags(name string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{
		FlagSet: fs, name: name,
		apiURL: fs.String("api-url", "", "the service's base `url` (default $BOTS_API_URL, else "+DefaultAPIURL+")"),
		token:  fs.String("token", "", "the bearer `token` (default $BOTS_TOKEN)"),
	}
}

// defaultOutput makes format the default of -o, for commands whose output is a document.
func (f *flags) defaultOutput(format string) {
	_ = f.Set("o", format)
	f.Lookup("o").DefValue = format
}

// parse parses args, flags and arguments in any order, and checks that there are between min
// and max arguments (max -1: any). With -h it prints the usage and returns done.
func (f *flags) parse(env Env, args []string, min, max int) (positional []string, done bool, err error) {
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, f.usage())
			return nil, true, nil
		}
		if err != nil {
			return nil, true, f.usageError(err.Error())
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	switch {
	case len(positional) < min:
		return nil, true, f.usageError("missing arguments")
	case max >= 0 && len(positional) > max:
		return nil, true, f.usageError(fmt.Sprintf("unexpected argument %q", positional[max]))
	}
	if f.output != nil && *f.output != "table" && *f.output != "json" && *f.output != "yaml" {
		return nil, true, f.usageError(fmt.Sprintf("-o %q: give table, json or yaml", *f.output))
	}
	return positional, false, nil
}

// set says whether the flag name was given on the command line.
func (f *flags) set(name string) bool {
	found := false
	f.Visit(func(fl *flag.Flag) { found = found || fl.Name == name })
	return found
}

func (f *flags) usageError(msg string) error {
	return usageErrorf("%s: %s\n%s", f.name, msg, strings.TrimRight(f.usage(), "\n"))
}

// usage is the command's usage line followed by one line per flag.
func (f *flags) usage() string {
	var b strings.Builder
	cmd, _ := lookup(f.name)
	fmt.Fprintf(&b, "usage: %s\n", cmd.synopsis)
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	f.VisitAll(func(fl *flag.Flag) {
		arg, usage := flag.UnquoteUsage(fl)
		if arg != "" {
			arg = " <" + arg + ">"
		}
		dash := "--"
		if len(fl.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(tw, "  %s%s%s\t%s\n", dash, fl.Name, arg, usage)
	})
	_ = tw.Flush()
	if f.help != "" {
		b.WriteString(f.help)
	}
	return b.String()
}

// client returns an SDK client for the service and token the flags or the environment name.
func (f *flags) client(env Env) (*client.Client, error) {
	url := firstOf(*f.apiURL, env.Getenv("BOTS_API_URL"), DefaultAPIURL)
	token := firstOf(*f.token, env.Getenv("BOTS_TOKEN"))
	if token == "" {
		return nil, usageErrorf("%s: no token: set BOTS_TOKEN or give --token (bots token --user <uuid> prints one for a local server)", f.name)
	}
	// While the service cannot be reached the SDK keeps trying for its whole retry budget: the
	// person is told once why the command waits, on stderr, which a script's output never
	// mixes with.
	told := false
	notice := client.WithRetryNotify(func(err error, _ time.Duration) {
		var p *client.Problem
		if told || errors.As(err, &p) {
			return
		}
		told = true
		fmt.Fprintf(env.Stderr, "bots: cannot reach the service at %s; trying again for up to %s (Ctrl-C stops)\n", url, client.DefaultRetryBudget)
	})
	c, err := client.New(url, token, append([]client.Option{notice}, env.clientOptions...)...)
	if err != nil {
		return nil, usageErrorf("%s: --api-url or BOTS_API_URL: %v", f.name, err)
	}
	return c, nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// triState is a boolean flag that may be left out: --public, --public=false, or neither.
type triState struct{ v *bool }

func (t *triState) String() string {
	if t == nil || t.v == nil {
		return ""
	}
	return fmt.Sprint(*t.v)
}

func (t *triState) Set(s string) error {
	switch s {
	case "true":
		t.v = ptr(true)
	case "false":
		t.v = ptr(false)
	default:
		return fmt.Errorf("give true or false, not %q", s)
	}
	return nil
}

func (t *triState) IsBoolFlag() bool { return true }

// finite is a float flag that refuses NaN and the infinities: strconv.ParseFloat reads them,
// but JSON cannot carry them, so the command would fail only when it sends the request.
type finite float64

func (v *finite) String() string {
	if v == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}

func (v *finite) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a number", s)
	case math.IsNaN(f) || math.IsInf(f, 0):
		return fmt.Errorf("%q is not a finite number", s)
	}
	*v = finite(f)
	return nil
}

func ptr[T any](v T) *T { return &v }

// start parses the command line and returns the SDK client with the arguments; done means
// the command has nothing more to do (it printed its usage, or returns err).
func (f *flags) start(env Env, args []string, min, max int) (c *client.Client, positional []string, done bool, err error) {
	positional, done, err = f.parse(env, args, min, max)
	if done {
		return nil, nil, true, err
	}
	if c, err = f.client(env); err != nil {
		return nil, nil, true, err
	}
	return c, positional, false, nil
}

// startBot is start for a command whose first argument names a bot (see resolve): it returns
// the bot's id with the arguments.
func (f *flags) startBot(ctx context.Context, env Env, args []string, min, max int) (c *client.Client, id uuid.UUID, positional []string, done bool, err error) {
	positional, done, err = f.parse(env, args, min, max)
	if done {
		return nil, uuid.Nil, nil, true, err
	}
	c, id, err = f.bot(ctx, env, positional[0])
	return c, id, positional, err != nil, err
}

// bot returns the SDK client and the id of the bot arg names, for a command whose command
// line is parsed and checked.
func (f *flags) bot(ctx context.Context, env Env, arg string) (*client.Client, uuid.UUID, error) {
	c, err := f.client(env)
	if err != nil {
		return nil, uuid.Nil, err
	}
	id, err := resolve(ctx, c, arg)
	if err != nil {
		return nil, uuid.Nil, err
	}
	return c, id, nil
}
