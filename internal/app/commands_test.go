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
