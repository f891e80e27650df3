package auth_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/auth"
)

// signMap signs claims as they are, with extra header parameters, so that a test can send
// what no well-behaved issuer would.
func signMap(t *testing.T, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(authSecret)
	require.NoError(t, err)
	return s
}

// validMap are valid claims for user as a map: sub, iat now and exp in an hour.
func validMap(user uuid.UUID) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": user.String(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// with returns claims with the given claims added or replaced.
func with(claims jwt.MapClaims, extra jwt.MapClaims) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range claims {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Verify refuses the claims it must not trust, naming why, and accepts the claims it
// expects: one table, so that each rule is checked from both sides.
func TestVerifyTrustsOnlyTheClaimsItExpects(t *testing.T) {
	t.Parallel()
	user := uuid.New()

	tests := []struct {
		name  string
		opts  []auth.Option
		token func(t *testing.T) string
		// reason is part of the refusal; empty: the token is accepted.
		reason string
	}{
		// Refused.
		{
			name: "AudienceStringWhenTheServiceHasNone",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": "billing-service"}), nil)
			},
			reason: "meant for another service",
		},
		{
			name: "AudienceArrayWhenTheServiceHasNone",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": []string{"billing-service"}}), nil)
			},
			reason: "meant for another service",
		},
		{
			name: "EmptyAudienceArrayWhenTheServiceHasNone",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": []string{}}), nil)
			},
			reason: "meant for another service",
		},
		{
			name: "AnotherAudienceString",
			opts: []auth.Option{auth.WithAudience("bots")},
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": "billing-service"}), nil)
			},
			reason: `must name "bots"`,
		},
		{
			name: "AnotherAudienceArray",
			opts: []auth.Option{auth.WithAudience("bots")},
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": []string{"billing-service", "mail"}}), nil)
			},
			reason: `must name "bots"`,
		},
		{
			name:   "NoAudienceWhenTheServiceHasOne",
			opts:   []auth.Option{auth.WithAudience("bots")},
			token:  func(t *testing.T) string { return signMap(t, validMap(user), nil) },
			reason: `must name "bots"`,
		},
		{
			name: "CriticalHeaderParameter",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"exp_ext": 1}), map[string]any{"crit": []string{"exp_ext"}})
			},
			reason: "crit",
		},
		{
			name:   "EmptyCriticalHeaderParameter",
			token:  func(t *testing.T) string { return signMap(t, validMap(user), map[string]any{"crit": []string{}}) },
			reason: "crit",
		},
		{
			name: "ExpiryAsAString",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"exp": "9999999999"}), nil)
			},
			reason: "exp claim must be a number",
		},
		{
			name:   "NotBeforeAsAString",
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"nbf": "0"}), nil) },
			reason: "nbf claim must be a number",
		},
		{
			name:   "IssuedAtAsAString",
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"iat": "0"}), nil) },
			reason: "iat claim must be a number",
		},
		{
			name:   "ExpiryAsABoolean",
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"exp": true}), nil) },
			reason: "exp claim must be a number",
		},
		{
			name:   "SubjectAsANumber",
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"sub": 42}), nil) },
			reason: "the token's sub claim must be a string holding a user UUID",
		},
		{
			name:   "AudienceAsANumber",
			opts:   []auth.Option{auth.WithAudience("bots")},
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"aud": 7}), nil) },
			reason: "the token's aud claim must be a string or an array of strings",
		},
		{
			name: "AudienceArrayHoldingANumber",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": []any{"bots", 7}}), nil)
			},
			reason: "the token's aud claim must be a string or an array of strings",
		},
		{
			name: "ExpiryOfTheLargestInt64",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"exp": int64(9223372036854775807)}), nil)
			},
			reason: "the token's exp claim is out of range",
		},
		{
			name:   "ExpiryBeyondAnyDate",
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"exp": 1e19}), nil) },
			reason: "the token's exp claim is out of range",
		},
		{
			name:   "NotBeforeLongBeforeAnyDate",
			token:  func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"nbf": -1e19}), nil) },
			reason: "the token's nbf claim is out of range",
		},
		{
			name: "ClaimOfTheWrongTypeWithoutAValidSignature",
			token: func(t *testing.T) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, with(validMap(user), jwt.MapClaims{"sub": 42}))
				s, err := tok.SignedString([]byte("another-secret-another-secret-!!"))
				require.NoError(t, err)
				return s
			},
			reason: "the token is malformed or its signature does not verify",
		},
		{
			name: "IssuedInTheFuture",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"iat": time.Now().Add(10 * time.Minute).Unix()}), nil)
			},
			reason: "iat",
		},
		{
			name: "LivesLongerThanTheMaximum",
			opts: []auth.Option{auth.WithMaxTTL(time.Hour)},
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"exp": time.Now().Add(time.Hour + time.Second).Unix()}), nil)
			},
			reason: "longer than the 1h0m0s",
		},
		{
			name: "LivesLongerThanTheMaximumByItsIssueTime",
			opts: []auth.Option{auth.WithMaxTTL(time.Hour)},
			token: func(t *testing.T) string {
				// Issued two hours ago, expiring in 30 minutes: 2h30m in all.
				now := time.Now()
				return signMap(t, with(validMap(user), jwt.MapClaims{
					"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(30 * time.Minute).Unix(),
				}), nil)
			},
			reason: "longer than the 1h0m0s",
		},
		{
			name: "LivesLongerThanTheMaximumWithoutIssueTime",
			opts: []auth.Option{auth.WithMaxTTL(time.Hour)},
			token: func(t *testing.T) string {
				c := validMap(user)
				delete(c, "iat")
				c["exp"] = time.Now().Add(2 * time.Hour).Unix()
				return signMap(t, c, nil)
			},
			reason: "longer than the 1h0m0s",
		},
		// Accepted.
		{
			name:  "OwnAudienceString",
			opts:  []auth.Option{auth.WithAudience("bots")},
			token: func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"aud": "bots"}), nil) },
		},
		{
			name: "ArrayThatHoldsTheOwnAudience",
			opts: []auth.Option{auth.WithAudience("bots")},
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"aud": []string{"mail", "bots"}}), nil)
			},
		},
		{
			name: "IssuedWithTheOwnAudience",
			opts: []auth.Option{auth.WithAudience("bots")},
			token: func(t *testing.T) string {
				tok, err := auth.Issue(authSecret, user, time.Hour, time.Now(), "bots")
				require.NoError(t, err)
				return tok
			},
		},
		{
			name: "LivesExactlyTheMaximum",
			opts: []auth.Option{auth.WithMaxTTL(time.Hour)},
			token: func(t *testing.T) string {
				tok, err := auth.Issue(authSecret, user, time.Hour, time.Now())
				require.NoError(t, err)
				return tok
			},
		},
		{
			name: "WithoutIssueTimeWithinTheMaximum",
			opts: []auth.Option{auth.WithMaxTTL(time.Hour)},
			token: func(t *testing.T) string {
				c := validMap(user)
				delete(c, "iat")
				return signMap(t, c, nil)
			},
		},
		{
			name: "ExpiryInTheYear9999",
			token: func(t *testing.T) string {
				return signMap(t, with(validMap(user), jwt.MapClaims{"exp": int64(253402300799)}), nil)
			},
		},
		{
			name:  "FractionalTimes",
			token: func(t *testing.T) string { return signMap(t, with(validMap(user), jwt.MapClaims{"nbf": 1.5}), nil) },
		},
	}
	for _, tt := range tests {
		verdict := "Refuses"
		if tt.reason == "" {
			verdict = "Accepts"
		}
		t.Run(verdict+tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.NewVerifier(authSecret, tt.opts...).Verify(tt.token(t))
			if tt.reason == "" {
				require.NoError(t, err)
				require.Equal(t, user, got)
				return
			}
			require.ErrorIs(t, err, auth.ErrInvalidToken)
			require.ErrorContains(t, err, tt.reason)
			require.Equal(t, uuid.Nil, got)
		})
	}
}
