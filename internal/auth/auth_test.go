package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/auth"
)

var (
	authSecret      = []byte("auth-test-secret-auth-test-secret-0123")
	authOtherSecret = []byte("another-secret-another-secret-another!")
)

// authSign signs claims with method and key, failing the test if it cannot.
func authSign(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return tok
}

// authClaims are otherwise valid claims with subject sub, expiring in an hour.
func authClaims(sub string) jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{
		Subject:   sub,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}
}

func TestIssueThenVerify(t *testing.T) {
	t.Parallel()

	t.Run("IssuedTokenSpeaksForItsUser", func(t *testing.T) {
		t.Parallel()
		user := uuid.New()
		tok, err := auth.Issue(authSecret, user, time.Hour, time.Now())
		require.NoError(t, err)

		got, err := auth.NewVerifier(authSecret).Verify(tok)
		require.NoError(t, err)
		require.Equal(t, user, got)
	})

	t.Run("IssuedTokenIsHS256WithSubjectAndExpiry", func(t *testing.T) {
		t.Parallel()
		user := uuid.New()
		now := time.Now()
		tok, err := auth.Issue(authSecret, user, 2*time.Hour, now)
		require.NoError(t, err)

		var claims jwt.RegisteredClaims
		parsed, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return authSecret, nil })
		require.NoError(t, err)
		require.Equal(t, "HS256", parsed.Method.Alg())
		require.Equal(t, user.String(), claims.Subject)
		require.NotNil(t, claims.ExpiresAt)
		require.Equal(t, now.Add(2*time.Hour).Unix(), claims.ExpiresAt.Unix())
	})

	t.Run("TokenOfEachUserIsDistinct", func(t *testing.T) {
		t.Parallel()
		v := auth.NewVerifier(authSecret)
		a, b := uuid.New(), uuid.New()
		ta, err := auth.Issue(authSecret, a, time.Hour, time.Now())
		require.NoError(t, err)
		tb, err := auth.Issue(authSecret, b, time.Hour, time.Now())
		require.NoError(t, err)
		require.NotEqual(t, ta, tb)

		gotA, err := v.Verify(ta)
		require.NoError(t, err)
		gotB, err := v.Verify(tb)
		require.NoError(t, err)
		require.Equal(t, a, gotA)
		require.Equal(t, b, gotB)
	})
}

func TestVerifyRefusesInvalidTokens(t *testing.T) {
	t.Parallel()
	user := uuid.New()

	tests := []struct {
		name  string
		token func(t *testing.T) string
		// reason, when set, is a part of the error message that tells the caller why.
		reason string
	}{
		{
			name: "TamperedSignature",
			token: func(t *testing.T) string {
				tok := authSign(t, jwt.SigningMethodHS256, authClaims(user.String()), authSecret)
				dot := strings.LastIndexByte(tok, '.')
				sig := []byte(tok[dot+1:])
				// The first character carries six bits of the signature's first byte.
				if sig[0] == 'A' {
					sig[0] = 'B'
				} else {
					sig[0] = 'A'
				}
				return tok[:dot+1] + string(sig)
			},
		},
		{
			name: "PayloadSwappedForAnotherUsers",
			token: func(t *testing.T) string {
				mine := strings.Split(authSign(t, jwt.SigningMethodHS256, authClaims(user.String()), authSecret), ".")
				theirs := strings.Split(authSign(t, jwt.SigningMethodHS256, authClaims(uuid.NewString()), authSecret), ".")
				return mine[0] + "." + theirs[1] + "." + mine[2]
			},
		},
		{
			name: "SignedWithAnotherSecret",
			token: func(t *testing.T) string {
				tok, err := auth.Issue(authOtherSecret, user, time.Hour, time.Now())
				require.NoError(t, err)
				return tok
			},
		},
		{
			name: "AlgorithmNone",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodNone, authClaims(user.String()), jwt.UnsafeAllowNoneSignatureType)
			},
		},
		{
			name: "HS512WithTheRightSecret",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS512, authClaims(user.String()), authSecret)
			},
		},
		{
			name: "HS384WithTheRightSecret",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS384, authClaims(user.String()), authSecret)
			},
		},
		{
			name: "Expired",
			token: func(t *testing.T) string {
				tok, err := auth.Issue(authSecret, user, time.Hour, time.Now().Add(-2*time.Hour))
				require.NoError(t, err)
				return tok
			},
			reason: "expired",
		},
		{
			name: "NotValidYet",
			token: func(t *testing.T) string {
				c := authClaims(user.String())
				c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
				c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(2 * time.Hour))
				return authSign(t, jwt.SigningMethodHS256, c, authSecret)
			},
		},
		{
			name: "WithoutExpiry",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: user.String()}, authSecret)
			},
			reason: "exp",
		},
		{
			name: "WithoutSubject",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, authClaims(""), authSecret)
			},
		},
		{
			name: "SubjectNotAUUID",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, authClaims("alice"), authSecret)
			},
		},
		{
			name: "SubjectIsTheNilUUID",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, authClaims(uuid.Nil.String()), authSecret)
			},
		},
		{
			name: "SubjectInURNForm",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, authClaims(user.URN()), authSecret)
			},
		},
		{
			name: "SubjectInBracedForm",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, authClaims("{"+user.String()+"}"), authSecret)
			},
		},
		{
			name: "SubjectWithoutHyphens",
			token: func(t *testing.T) string {
				return authSign(t, jwt.SigningMethodHS256, authClaims(strings.ReplaceAll(user.String(), "-", "")), authSecret)
			},
		},
		{
			name:  "Empty",
			token: func(*testing.T) string { return "" },
		},
		{
			name:  "NotAJWT",
			token: func(*testing.T) string { return "not-a-token" },
		},
		{
			name:  "ThreeGarbageSegments",
			token: func(*testing.T) string { return "a.b.c" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.NewVerifier(authSecret).Verify(tt.token(t))
			require.Error(t, err)
			require.ErrorIs(t, err, auth.ErrInvalidToken)
			require.Equal(t, uuid.Nil, got)
			if tt.reason != "" {
				require.Contains(t, err.Error(), tt.reason)
			}
		})
	}
}

func TestVerifyMessagesAreSafeToShow(t *testing.T) {
	t.Parallel()
	// A refused token's message goes to the client: it must not echo the token or the secret.
	tok := authSign(t, jwt.SigningMethodHS512, authClaims(uuid.NewString()), authSecret)
	_, err := auth.NewVerifier(authSecret).Verify(tok)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	require.NotContains(t, err.Error(), tok)
	require.NotContains(t, err.Error(), string(authSecret))
}

func TestUser(t *testing.T) {
	t.Parallel()

	t.Run("BareContextHasNoUser", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, uuid.Nil, auth.User(context.Background()))
	})

	t.Run("ContextCarriesTheUserItWasGiven", func(t *testing.T) {
		t.Parallel()
		user := uuid.New()
		require.Equal(t, user, auth.User(auth.WithUser(context.Background(), user)))
	})

	t.Run("UnrelatedValuesAreNotAUser", func(t *testing.T) {
		t.Parallel()
		type key string
		ctx := context.WithValue(context.Background(), key("user"), uuid.New())
		require.Equal(t, uuid.Nil, auth.User(ctx))
	})
}
