package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The memory of accepted tokens saves the signature check, never the expiry check.
func TestAcceptedTokensAreRememberedUntilTheyExpire(t *testing.T) {
	t.Parallel()
	secret := []byte("a-secret-of-at-least-thirty-two-bytes!")
	v := NewVerifier(secret)
	user := uuid.New()
	issued := time.Now()
	tok, err := Issue(secret, user, time.Minute, issued)
	require.NoError(t, err)

	got, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, user, got)
	require.True(t, v.accepted.Contains(tokenKey(tok)))

	// Still remembered a moment later...
	v.now = func() time.Time { return issued.Add(time.Minute + leeway - time.Second) }
	got, err = v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, user, got)

	// ...but once past its expiry (and the leeway) it is checked again, and refused.
	v.now = func() time.Time { return issued.Add(time.Minute + leeway + time.Second) }
	_, err = v.Verify(tok)
	require.ErrorIs(t, err, ErrInvalidToken)
	require.ErrorContains(t, err, "expired")
}

func TestRefusedTokensAreNotRemembered(t *testing.T) {
	t.Parallel()
	v := NewVerifier([]byte("a-secret-of-at-least-thirty-two-bytes!"))
	tok, err := Issue([]byte("another-secret-of-at-least-32-bytes!!"), uuid.New(), time.Minute, time.Now())
	require.NoError(t, err)
	_, err = v.Verify(tok)
	require.ErrorIs(t, err, ErrInvalidToken)
	require.Zero(t, v.accepted.Len())
}

func TestTheMemoryIsBounded(t *testing.T) {
	t.Parallel()
	secret := []byte("a-secret-of-at-least-thirty-two-bytes!")
	v := NewVerifier(secret)
	var first, last string
	for i := range maxCachedTokens + 1000 {
		tok, err := Issue(secret, uuid.New(), time.Hour, time.Now())
		require.NoError(t, err)
		_, err = v.Verify(tok)
		require.NoError(t, err)
		require.LessOrEqual(t, v.accepted.Len(), maxCachedTokens)
		if i == 0 {
			first = tok
		}
		last = tok
	}
	require.Equal(t, maxCachedTokens, v.accepted.Len())
	require.False(t, v.accepted.Contains(tokenKey(first)), "the least recently used token is forgotten")
	require.True(t, v.accepted.Contains(tokenKey(last)))
}

// A token's size does not change what remembering it costs: a long token (many claims) is
// remembered by its hash, as a short one is.
func TestLongTokensAreRememberedByTheirHash(t *testing.T) {
	t.Parallel()
	secret := []byte("a-secret-of-at-least-thirty-two-bytes!")
	v := NewVerifier(secret)
	claims := jwt.MapClaims{"sub": uuid.NewString(), "exp": time.Now().Add(time.Hour).Unix(), "pad": strings.Repeat("x", 8000)}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(t, err)
	_, err = v.Verify(tok)
	require.NoError(t, err)
	require.True(t, v.accepted.Contains(tokenKey(tok)))
}
