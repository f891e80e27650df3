package app_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestTokenNeedsOnlyTheSecret(t *testing.T) {
	t.Parallel()
	// Settings for another machine must not stop a token from being printed.
	env := appEnv(map[string]string{
		"JWT_SECRET": appSecret, "DATABASE_URL": "://not a url", "LISTEN_ADDR": "nonsense",
	})
	stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString())
	require.NoError(t, err)
	require.Regexp(t, `^[\w-]+\.[\w-]+\.[\w-]+\n$`, stdout)
}

func TestFlagErrorsGoToTheCommandsStderr(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "worker", "migrate", "token"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			_, stderr, err := runCommand(t, appEnv(nil), cmd, "--no-such-flag")
			require.Error(t, err)
			require.Contains(t, stderr, "flag provided but not defined: -no-such-flag")
		})
	}
}
