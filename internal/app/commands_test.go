package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/migrate"
)

func TestCommands(t *testing.T) {
	t.Parallel()

	t.Run("NoCommandIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(nil))
		require.Error(t, err)
		require.Empty(t, stdout)
		require.Contains(t, stderr, "usage")
	})

	t.Run("UnknownCommandIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := runCommand(t, appEnv(nil), "launch")
		require.Error(t, err)
		require.Contains(t, err.Error(), "launch")
		require.Empty(t, stdout)
		require.Contains(t, stderr, "usage")
	})

	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run("HelpListsEveryCommandAndSetting/"+arg, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, appEnv(nil), arg)
			require.NoError(t, err)
			for _, cmd := range []string{"serve", "migrate", "token"} {
				require.Contains(t, stdout, cmd)
			}
			for _, name := range []string{"DATABASE_URL", "LISTEN_ADDR", "JWT_SECRET", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
				require.Contains(t, stdout, name)
			}
			// Each setting is one row of the table the README has too.
			for _, s := range config.Settings {
				row := "(?m)^  " + regexp.QuoteMeta(s.Name) + " {2,}" + regexp.QuoteMeta(s.Shown()) + " {2,}" + regexp.QuoteMeta(s.Meaning) + "$"
				require.Regexp(t, row, stdout)
			}
		})
	}

	t.Run("ServeRefusesUnknownFlags", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": appSecret, "LISTEN_ADDR": "127.0.0.1:0"}), "serve", "--port", "80")
		require.Error(t, err)
	})
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	url := emptyDatabaseURL(t)
	// migrate signs nothing, so it must run without JWT_SECRET.
	env := appEnv(map[string]string{"DATABASE_URL": url})

	names, err := migrate.Steps()
	require.NoError(t, err)

	stdout, _, err := runCommand(t, env, "migrate")
	require.NoError(t, err)
	require.Equal(t, names, appliedInLog(t, stdout), "the first run must apply every migration")

	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	for _, table := range []string{"users", "bots", "schema_migrations"} {
		var exists bool
		require.NoError(t, conn.QueryRow(t.Context(),
			"SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1)", table).Scan(&exists))
		require.True(t, exists, "table %s is missing after migrate", table)
	}

	stdout, _, err = runCommand(t, env, "migrate")
	require.NoError(t, err)
	require.Empty(t, appliedInLog(t, stdout), "the second run must apply nothing")

	ours, err := migrate.All()
	require.NoError(t, err)
	var rows int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&rows))
	require.Equal(t, len(ours), rows)
}

// appliedInLog returns the migrations the "migrations applied" log line of output names.
func appliedInLog(t *testing.T, output string) []string {
	t.Helper()
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(output), "\n") {
		if line != "" {
			lines = append(lines, line)
		}
	}
	for _, e := range parseLogLines(t, lines) {
		if e["msg"] != "migrations applied" {
			continue
		}
		raw, _ := e["applied"].([]any)
		out := make([]string, 0, len(raw))
		for _, v := range raw {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	t.Fatalf("no \"migrations applied\" line in:\n%s", output)
	return nil
}
