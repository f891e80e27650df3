package client_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

const secret = "client-test-secret-client-test-secret"

// TestMain starts the server the examples run against (they read its address and a token
// from BOTS_API_URL and BOTS_TOKEN, as a program of the SDK's users would), and removes the
// bots binary the tests built.
func TestMain(m *testing.M) {
	code, err := runWithExampleServer(m)
	botsproc.RemoveBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client tests:", err)
		code = 1
	}
	os.Exit(code)
}

func runWithExampleServer(m *testing.M) (int, error) {
	dsn, drop, err := dbtest.Empty(context.Background(), "client_examples_"+strings.ReplaceAll(uuid.NewString(), "-", ""))
	if err != nil {
		return 0, fmt.Errorf("create the examples' database: %w", err)
	}
	defer func() { _ = drop() }()
	p, err := botsproc.Start(botsproc.Config{Args: []string{"serve"}, Env: serverEnv(dsn)})
	if err != nil {
		return 0, fmt.Errorf("start the examples' server: %w", err)
	}
	defer func() { _ = p.Kill() }()
	tok, err := auth.Issue([]byte(secret), uuid.New(), time.Hour, time.Now())
	if err != nil {
		return 0, err
	}
	os.Setenv("BOTS_API_URL", p.URL())
	os.Setenv("BOTS_TOKEN", tok)
	return m.Run(), nil
}

// server is a real `bots serve` on a database of its own. Its training workers are off
// (but in startServerWithWorkers), so that nothing but the test changes a bot (and its ETag)
// while a test runs.
type server struct {
	URL string
	// DSN is the server's database, for a test that sets up what only the service can write.
	DSN string
}

// startServer starts the server of one test; it is killed when t ends. The pool is kept
// small because every test of the package runs a server at once on a shared PostgreSQL.
func startServer(t *testing.T) *server {
	t.Helper()
	return start(t, "serve", "--no-workers")
}

// startServerWithWorkers starts a server that trains bots, for tests that watch a bot's
// status change.
func startServerWithWorkers(t *testing.T) *server {
	t.Helper()
	return start(t, "serve")
}

func start(t *testing.T, args ...string) *server {
	t.Helper()
	dsn := dbtest.URL(t)
	p, err := botsproc.Start(botsproc.Config{Args: args, Env: serverEnv(dsn)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Kill() })
	return &server{URL: p.URL(), DSN: dsn}
}

// serverEnv is the environment of a server on the database dsn, with a small pool, no rate
// limits, and webhooks allowed to reach a receiver of the test's on plain http at 127.0.0.1.
func serverEnv(dsn string) []string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return []string{"DATABASE_URL=" + dsn + sep + "pool_max_conns=3", "LISTEN_ADDR=127.0.0.1:0",
		"JWT_SECRET=" + secret, "WRITE_RATE=0", "LIST_RATE=0", "INFLIGHT_PER_USER=0",
		"WEBHOOK_ALLOW_HTTP=true", "WEBHOOK_ALLOW_PRIVATE=true"}
}

// token mints a bearer token for a new user, so that subtests sharing a server never see
// each other's bots.
func token(t *testing.T) string {
	t.Helper()
	tok, err := auth.Issue([]byte(secret), uuid.New(), time.Hour, time.Now())
	require.NoError(t, err)
	return tok
}

// newClient returns an SDK client for a new user of the server at baseURL.
func newClient(t *testing.T, baseURL string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(baseURL, token(t), opts...)
	require.NoError(t, err)
	return c
}

// newBot returns an SDK client for a new user of the server at baseURL and the bot p creates
// for that user.
func newBot(t *testing.T, baseURL string, p client.CreateParams, opts ...client.Option) (*client.Client, client.Bot) {
	t.Helper()
	c := newClient(t, baseURL, opts...)
	bot, err := c.Create(ctx(t), p)
	require.NoError(t, err)
	return c, bot
}

// ctx is the context of a test's calls. It ends with the test, or after a minute, so that a
// watch that waits for an event that never comes fails the test instead of hanging the run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func ptr[T any](v T) *T { return &v }
