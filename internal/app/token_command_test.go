package app_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/app"
	"github.com/chatsphere/bots/internal/auth"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestToken(t *testing.T) {
	t.Parallel()
	env := appEnv(map[string]string{"JWT_SECRET": appSecret})

	// tokenClaims verifies a printed token with the secret and returns its claims.
	tokenClaims := func(t *testing.T, tok string) jwt.RegisteredClaims {
		t.Helper()
		var claims jwt.RegisteredClaims
		_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte(appSecret), nil },
			jwt.WithValidMethods([]string{"HS256"}))
		require.NoError(t, err)
		require.NotNil(t, claims.ExpiresAt)
		return claims
	}

	t.Run("PrintsATokenTheServerAccepts", func(t *testing.T) {
		t.Parallel()
		user := uuid.New()
		stdout, _, err := runCommand(t, env, "token", "--user", user.String())
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(stdout, "\n"))
		tok := strings.TrimSuffix(stdout, "\n")
		require.NotContains(t, tok, "\n", "token printed more than one line")

		got, err := auth.NewVerifier([]byte(appSecret)).Verify(tok)
		require.NoError(t, err)
		require.Equal(t, user, got)
	})

	t.Run("TokenIsRefusedWithAnotherSecret", func(t *testing.T) {
		t.Parallel()
		tok := issueToken(t, env, uuid.New())
		_, err := auth.NewVerifier([]byte("some-other-secret-some-other-secret")).Verify(tok)
		require.ErrorIs(t, err, auth.ErrInvalidToken)
	})

	t.Run("TTLSetsTheExpiry", func(t *testing.T) {
		t.Parallel()
		before := time.Now()
		stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "2h")
		require.NoError(t, err)
		after := time.Now()

		exp := tokenClaims(t, strings.TrimSpace(stdout)).ExpiresAt.Time
		require.False(t, exp.Before(before.Add(2*time.Hour).Truncate(time.Second)), "exp %s is earlier than 2h after the call", exp)
		require.False(t, exp.After(after.Add(2*time.Hour)), "exp %s is later than 2h after the call", exp)
	})

	t.Run("DefaultTTLIsOneHour", func(t *testing.T) {
		t.Parallel()
		before := time.Now()
		stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString())
		require.NoError(t, err)
		after := time.Now()

		exp := tokenClaims(t, strings.TrimSpace(stdout)).ExpiresAt.Time
		require.False(t, exp.Before(before.Add(time.Hour).Truncate(time.Second)))
		require.False(t, exp.After(after.Add(time.Hour)))
	})

	badUsers := []struct {
		name string
		args []string
	}{
		{name: "MissingUser", args: []string{"token"}},
		{name: "EmptyUser", args: []string{"token", "--user", ""}},
		{name: "UserThatIsNotAUUID", args: []string{"token", "--user", "alice"}},
		{name: "UserInURNForm", args: []string{"token", "--user", uuid.New().URN()}},
		{name: "UserInBracedForm", args: []string{"token", "--user", "{" + uuid.NewString() + "}"}},
		{name: "UserWithoutHyphens", args: []string{"token", "--user", strings.ReplaceAll(uuid.NewString(), "-", "")}},
		{name: "UserWithOneDigitTooMany", args: []string{"token", "--user", uuid.NewString() + "0"}},
		{name: "NilUser", args: []string{"token", "--user", uuid.Nil.String()}},
	}
	for _, tt := range badUsers {
		t.Run("RefusesBadUser/"+tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, env, tt.args...)
			requireErrorSays(t, err, "--user")
			require.Equal(t, 2, app.ExitCode(err), "a bad user is a command line that cannot run")
			require.Empty(t, stdout, "no token may be printed for a bad user")
		})
	}

	badTTLs := []string{"-1h", "-1ns", "0s", "0", "soon", "1ns", "500ms", "999ms"}
	for _, ttl := range badTTLs {
		t.Run("RefusesTTL/"+ttl, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", ttl)
			requireErrorSays(t, err, "--ttl")
			require.Equal(t, 2, app.ExitCode(err), "a bad TTL is a command line that cannot run")
			require.Empty(t, stdout)
		})
	}

	t.Run("OneSecondIsTheShortestTTL", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "1s")
		require.NoError(t, err)
	})

	t.Run("NegativeTTLSaysItMustBePositive", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "-2h")
		requireErrorSays(t, err, "--ttl", "positive")
	})

	t.Run("MissingSecretIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := runCommand(t, appEnv(nil), "token", "--user", uuid.NewString())
		requireErrorSays(t, err, "JWT_SECRET")
		require.Empty(t, stdout)
	})

	t.Run("ShortSecretIsAnError", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": "short"}), "token", "--user", uuid.NewString())
		requireErrorSays(t, err, "at least 32")
		require.Empty(t, stdout)
	})
}

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
