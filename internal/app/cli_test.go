package app_test

import (
	"net"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

// terminal is what a person sees when a command fails: what the command wrote on stderr, then
// the error main prints.
func terminal(stderr string, err error) string {
	if err == nil {
		return stderr
	}
	return stderr + "bots: " + err.Error() + "\n"
}

func TestCommandLineErrorsAreReportedOnce(t *testing.T) {
	t.Parallel()

	for _, cmd := range []string{"serve", "worker", "migrate", "token"} {
		t.Run("UnknownFlagShowsTheCommandsUsage/"+cmd, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := runCommand(t, appEnv(nil), cmd, "--no-such-flag")
			require.Error(t, err)
			require.Empty(t, stdout)
			seen := terminal(stderr, err)
			require.Equal(t, 1, strings.Count(seen, "flag provided but not defined: -no-such-flag"), "seen:\n%s", seen)
			require.Equal(t, 1, strings.Count(seen, "usage: bots "+cmd), "seen:\n%s", seen)
		})
	}

	t.Run("ServeWithAFlagItDoesNotHave", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": appSecret, "LISTEN_ADDR": "127.0.0.1:0"}), "serve", "--workers=0")
		require.Error(t, err)
		require.Empty(t, stdout)
		seen := terminal(stderr, err)
		require.Equal(t, 1, strings.Count(seen, "not defined: -workers"), "the error must be printed once; seen:\n%s", seen)
		require.Contains(t, seen, "usage: bots serve [--no-workers]")
		require.Regexp(t, `(?m)^  --no-workers +serve the API only; training jobs and webhooks are left to bots worker processes$`, seen)
		require.NotContains(t, seen, "-no-workers bots worker", "the flag's help line is garbled")
	})

	t.Run("UnexpectedArgumentIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(nil), "migrate", "now")
		require.Error(t, err)
		require.Empty(t, stdout)
		seen := terminal(stderr, err)
		require.Equal(t, 1, strings.Count(seen, `unexpected argument "now"`), "seen:\n%s", seen)
		require.Contains(t, seen, "usage: bots migrate")
	})

	for _, cmd := range []string{"serve", "worker", "migrate", "token"} {
		t.Run("HelpFlagPrintsTheCommandsUsage/"+cmd, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := runCommand(t, appEnv(nil), cmd, "-h")
			require.NoError(t, err, "asking for help is not a failure")
			require.Empty(t, stderr)
			require.True(t, strings.HasPrefix(stdout, "usage: bots "+cmd), "stdout:\n%s", stdout)
		})
	}

	t.Run("TokenWithATTLThatIsNotADuration", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": appSecret}), "token", "--user", uuid.NewString(), "--ttl", "forever")
		require.Error(t, err)
		require.Empty(t, stdout)
		seen := terminal(stderr, err)
		require.Equal(t, 1, strings.Count(seen, `"forever"`), "the error must be printed once; seen:\n%s", seen)
		require.Contains(t, seen, "--ttl")
		require.Contains(t, seen, "for example 24h")
	})
}

func TestServeExplainsALoginPostgreSQLRefuses(t *testing.T) {
	t.Parallel()
	c := dbtest.Config()
	role := "bots_no_such_role_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	url := "postgres://" + role + "@" + net.JoinHostPort(c.Host, c.Port) + "/postgres?sslmode=disable"

	for _, cmd := range []string{"serve", "migrate"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, appEnv(map[string]string{
				"DATABASE_URL": url, "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": appSecret,
			}), cmd)
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, `role "`+role+`" does not exist`)
			require.Contains(t, msg, "refused to log in user")
			require.Contains(t, msg, "DATABASE_URL")
			require.Contains(t, msg, "createuser")
			require.NotContains(t, msg, "cannot reach", "the server answered: it was reached")
			require.NotContains(t, msg, "start it", "the server runs: starting it is no advice")
			require.NotContains(t, stdout, `"listening"`)
		})
	}
}

// takenAddr returns an address something listens on until t ends.
func takenAddr(t *testing.T) string {
	t.Helper()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = taken.Close() })
	return taken.Addr().String()
}

func TestServeOnATakenAddressTouchesNoDatabase(t *testing.T) {
	t.Parallel()
	taken := takenAddr(t)
	url := emptyDatabaseURL(t)

	stdout, stderr, err := runCommand(t, appEnv(map[string]string{
		"DATABASE_URL": url, "LISTEN_ADDR": taken, "JWT_SECRET": appSecret,
	}), "serve")
	require.Error(t, err)
	seen := terminal(stderr, err)
	require.Equal(t, 1, strings.Count(seen, "address already in use"), "seen:\n%s", seen)
	require.Contains(t, err.Error(), taken)
	require.NotContains(t, stdout, "address already in use", "the error is printed once, by main")
	require.NotContains(t, stdout, `"migrations applied"`, "the address must be checked before migrating")
	require.NotContains(t, stdout, `"WARN"`)
	require.NotContains(t, stdout, `"ERROR"`)

	requireNoTables(t, url, "serve migrated a database it could not serve")
}

// requireNoTables checks that the database of url has no table: nothing migrated it.
func requireNoTables(t *testing.T, url string, msgAndArgs ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(t.Context()) })
	var tables int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables))
	require.Zero(t, tables, msgAndArgs...)
}

// A taken DEBUG_ADDR is reported, by serve and by worker, before any migration runs.
func TestATakenDebugAddrTouchesNoDatabase(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "worker"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			taken := takenAddr(t)
			url := emptyDatabaseURL(t)

			stdout, _, err := runCommand(t, appEnv(map[string]string{
				"DATABASE_URL": url, "LISTEN_ADDR": "127.0.0.1:0", "DEBUG_ADDR": taken, "JWT_SECRET": appSecret,
			}), cmd)
			requireErrorSays(t, err, "DEBUG_ADDR", taken, "address already in use")
			require.NotContains(t, stdout, `"migrations applied"`, "DEBUG_ADDR must be checked before migrating")
			requireNoTables(t, url, "%s migrated a database though its DEBUG_ADDR was taken", cmd)
		})
	}
}
