package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// foreignToken is a token signed with the server's secret but minted for another service.
func foreignToken(t *testing.T, extra jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"sub": uuid.NewString(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(appSecret))
	require.NoError(t, err)
	return tok
}

// refused checks that the server answers a token with a 401 problem whose detail says why.
func refused(t *testing.T, s *appServer, token, why string) {
	t.Helper()
	res := s.call(t, http.MethodGet, "/api/v1/models", token, "", nil)
	require.Equal(t, http.StatusUnauthorized, res.code, string(res.body))
	require.Equal(t, "application/problem+json", res.header.Get("Content-Type"))
	var p struct{ Detail string }
	res.json(t, &p)
	require.Contains(t, p.Detail, why)
}

func TestServerRefusesTokensForAnotherAudience(t *testing.T) {
	t.Parallel()

	t.Run("WithoutJWTAudienceAnyAudienceIsRefused", func(t *testing.T) {
		t.Parallel()
		s := startServer(t)
		refused(t, s, foreignToken(t, jwt.MapClaims{"aud": "billing-service"}), "meant for another service")
		refused(t, s, foreignToken(t, jwt.MapClaims{"aud": []string{"billing-service"}}), "meant for another service")
		res := s.call(t, http.MethodGet, "/api/v1/models", issueToken(t, s.env, uuid.New()), "", nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})

	t.Run("WithJWTAudienceOnlyItIsAccepted", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "JWT_AUDIENCE", "chatsphere-bots")
		refused(t, s, foreignToken(t, jwt.MapClaims{"aud": "billing-service"}), `must name "chatsphere-bots"`)
		refused(t, s, foreignToken(t, nil), `must name "chatsphere-bots"`)
		for _, tok := range []string{
			issueToken(t, s.env, uuid.New()), // `bots token` names the audience
			foreignToken(t, jwt.MapClaims{"aud": []string{"billing-service", "chatsphere-bots"}}),
		} {
			res := s.call(t, http.MethodGet, "/api/v1/models", tok, "", nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
		}
	})

	t.Run("JWTMaxTTLRefusesLongLivedTokens", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "JWT_MAX_TTL", "2h")
		refused(t, s, foreignToken(t, jwt.MapClaims{"exp": time.Now().Add(3 * time.Hour).Unix()}), "longer than the 2h0m0s")
		refused(t, s, foreignToken(t, jwt.MapClaims{"exp": "9999999999"}), "exp claim must be a number")
	})
}

func TestTokenFollowsTheTokenRules(t *testing.T) {
	t.Parallel()

	t.Run("ItNamesJWTAudience", func(t *testing.T) {
		t.Parallel()
		env := appEnv(map[string]string{"JWT_SECRET": appSecret, "JWT_AUDIENCE": "chatsphere-bots"})
		tok := issueToken(t, env, uuid.New())
		var claims jwt.RegisteredClaims
		_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte(appSecret), nil })
		require.NoError(t, err)
		require.Equal(t, jwt.ClaimStrings{"chatsphere-bots"}, claims.Audience)
	})

	t.Run("WithoutJWTAudienceItNamesNone", func(t *testing.T) {
		t.Parallel()
		tok := issueToken(t, appEnv(map[string]string{"JWT_SECRET": appSecret}), uuid.New())
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(appSecret), nil })
		require.NoError(t, err)
		require.NotContains(t, claims, "aud")
	})

	t.Run("ItRefusesATTLOverJWTMaxTTL", func(t *testing.T) {
		t.Parallel()
		env := appEnv(map[string]string{"JWT_SECRET": appSecret, "JWT_MAX_TTL": "1h"})
		_, _, err := runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "2h")
		require.ErrorContains(t, err, "JWT_MAX_TTL")
		_, _, err = runCommand(t, env, "token", "--user", uuid.NewString(), "--ttl", "1h")
		require.NoError(t, err)
	})

	t.Run("ABadTokenRuleStopsIt", func(t *testing.T) {
		t.Parallel()
		_, _, err := runCommand(t, appEnv(map[string]string{"JWT_SECRET": appSecret, "JWT_MAX_TTL": "forever"}), "token", "--user", uuid.NewString())
		require.ErrorContains(t, err, "JWT_MAX_TTL")
	})
}
