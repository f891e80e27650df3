package auth

import (
	"testing"
	"time"

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
	require.Contains(t, v.accepted, tok)

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
	require.Empty(t, v.accepted)
}

func TestTheMemoryIsBounded(t *testing.T) {
	t.Parallel()
	secret := []byte("a-secret-of-at-least-thirty-two-bytes!")
	v := NewVerifier(secret)
	for i := range maxCachedTokens + 10 {
		tok, err := Issue(secret, uuid.New(), time.Hour, time.Now().Add(time.Duration(i)*time.Millisecond))
		require.NoError(t, err)
		_, err = v.Verify(tok)
		require.NoError(t, err)
		require.LessOrEqual(t, len(v.accepted), maxCachedTokens)
	}
}
