package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/cli"
	"github.com/chatsphere/bots/internal/dbtest"
)

const secret = "cli-test-secret-cli-test-secret-cli"

// TestMain removes the bots binary the tests built.
func TestMain(m *testing.M) {
	defer botsproc.RemoveBinary()
	m.Run()
}

// startServer starts a real `bots serve`, with its training and webhook workers, on a
// database of its own, its webhooks allowed to reach a receiver on 127.0.0.1 over http; it is
// killed when t ends. Each test function starts one and shares it among its
// subtests, each as a user of its own; the pool is small because the test functions run at
// once on a shared PostgreSQL.
func startServer(t *testing.T) string {
	t.Helper()
	url, _ := startServerOn(t, dbtest.URL(t))
	return url
}

// startServerOn starts the server of startServer on the database dsn, and returns its URL and
// dsn, for a test that sets up what only the service writes.
func startServerOn(t *testing.T, dsn string) (string, string) {
	t.Helper()
	return startServerWith(t, dsn, "serve"), dsn
}

// startIdleServer starts the server of startServer without its workers, so that a new bot
// stays in training for as long as the test needs.
func startIdleServer(t *testing.T) string {
	t.Helper()
	return startServerWith(t, dbtest.URL(t), "serve", "--no-workers")
}

// startServerWith starts `bots args...` on the database dsn and returns its URL.
func startServerWith(t *testing.T, dsn string, args ...string) string {
	t.Helper()
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	env := []string{"DATABASE_URL=" + dsn + sep + "pool_max_conns=3", "LISTEN_ADDR=127.0.0.1:0",
		"JWT_SECRET=" + secret, "WRITE_RATE=0", "LIST_RATE=0", "INFLIGHT_PER_USER=0", "WEBHOOK_ALLOW_HTTP=true", "WEBHOOK_ALLOW_PRIVATE=true"}
	p, err := botsproc.Start(botsproc.Config{Args: args, Env: env})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Kill() })
	return p.URL()
}

// user is a new user of a server, who runs commands.
type user struct {
	t     *testing.T
	url   string
	token string
	// env sets up the Env of each command; nil: no terminal, nothing on stdin.
	env func(cli.Env) cli.Env
}

func newUser(t *testing.T, url string) *user {
	t.Helper()
	tok, err := auth.Issue([]byte(secret), uuid.New(), time.Hour, time.Now())
	require.NoError(t, err)
	return &user{t: t, url: url, token: tok}
}

// result is what a command did: its output, its error and the exit status main would use.
type result struct {
	stdout, stderr string
	err            error
	code           int
}

// seen is what a person sees: stdout, stderr and the error main prints.
func (r result) seen() string {
	s := r.stdout + r.stderr
	if r.err != nil {
		s += "bots: " + r.err.Error() + "\n"
	}
	return s
}

// run runs a command as the user, against the server.
func (u *user) run(args ...string) result {
	return u.runWith(u.env, args...)
}

func (u *user) runWith(setup func(cli.Env) cli.Env, args ...string) result {
	u.t.Helper()
	var stdout, stderr bytes.Buffer
	vars := map[string]string{"BOTS_API_URL": u.url, "BOTS_TOKEN": u.token}
	env := cli.Env{Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
	if setup != nil {
		env = setup(env)
	}
	err := cli.Run(ctx(u.t), env, args)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err, code: cli.ExitCode(err)}
}

// ok runs a command that must succeed and returns its stdout.
func (u *user) ok(args ...string) string {
	u.t.Helper()
	r := u.run(args...)
	require.Equal(u.t, 0, r.code, "bots %s:\n%s", strings.Join(args, " "), r.seen())
	return r.stdout
}

// create creates a bot with the given flags and returns it as `-o json` prints it.
func (u *user) create(args ...string) map[string]any {
	u.t.Helper()
	var bot map[string]any
	require.NoError(u.t, json.Unmarshal([]byte(u.ok(append([]string{"create", "-o", "json"}, args...)...)), &bot))
	return bot
}

// createBots creates a bot on gpt-4o-mini of each name, for a test to which only their names
// matter.
func (u *user) createBots(names ...string) {
	u.t.Helper()
	for _, name := range names {
		u.create("--name", name, "--model", "gpt-4o-mini")
	}
}

// sdk is an SDK client of the user, to check what the commands did.
func (u *user) sdk() *client.Client {
	c, err := client.New(u.url, u.token)
	require.NoError(u.t, err)
	return c
}

// bots returns the user's bots by name.
func (u *user) bots() map[string]client.Bot {
	u.t.Helper()
	out := map[string]client.Bot{}
	for b, err := range u.sdk().All(ctx(u.t), client.ListOptions{}) {
		require.NoError(u.t, err)
		out[b.Name] = b
	}
	return out
}

// ctx ends with the test, or after a minute, so that a watch that never settles fails the
// test instead of hanging the run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// shortRetries gives the SDK a retry budget of 300ms instead of 30s, for a test of a service
// that cannot be reached.
func shortRetries(e cli.Env) cli.Env {
	return cli.WithClientOptions(e, client.WithRetry(client.DefaultAttempts, 300*time.Millisecond))
}

// terminal makes the command's stdin a terminal on which the person types answer.
func terminal(answer string) func(cli.Env) cli.Env {
	return func(e cli.Env) cli.Env {
		e.Terminal, e.Stdin = true, strings.NewReader(answer)
		return e
	}
}
