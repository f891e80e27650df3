package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Every /api/v1 operation needs a valid HS256 bearer token in the Authorization header, and
// refusing it must not run the operation.
func TestAuthzEveryRouteNeedsAToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// The routes that are not an operation on one bot; authzEndpoints lists those.
	routes := map[string]func(id uuid.UUID) request{
		"Listing": func(uuid.UUID) request { return request{method: http.MethodGet, path: "/api/v1/bots"} },
		"Creating": func(uuid.UUID) request {
			return request{method: http.MethodPost, path: "/api/v1/bots", body: map[string]any{"name": "Anonymous 日本", "model": "gpt-4o-mini"}}
		},
		"ListingModels": func(uuid.UUID) request { return request{method: http.MethodGet, path: "/api/v1/models"} },
	}
	for _, ep := range authzEndpoints() {
		routes[ep.gerund] = ep.request
	}
	for name, route := range routes {
		t.Run(name+"WithoutATokenIsUnauthorized", func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			owner := newUser(t)
			// A public bot: the one a stranger could most plausibly reach.
			id := authzBot(e, owner, true, name == "Restoring")
			before := authzRows(e, owner)

			res := e.do(route(id))
			authzRequireUnauthorized(t, res)
			require.Equal(t, before, authzRows(e, owner))
			var anonymous int
			require.NoError(t, e.pool.QueryRow(context.Background(),
				`SELECT count(*) FROM bots WHERE name = 'Anonymous 日本' OR description = 'Changed by its owner ✓'`).Scan(&anonymous))
			require.Zero(t, anonymous, "an unauthenticated request wrote a bot")
		})
	}
}

// Only an HS256 token signed with the service's secret, with an expiry and a canonical user
// UUID as subject, sent as "Authorization: Bearer <token>", authenticates a request.
func TestAuthzTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now := time.Now()
	claims := func(sub uuid.UUID) jwt.MapClaims {
		return jwt.MapClaims{"sub": sub.String(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	without := func(c jwt.MapClaims, key string) jwt.MapClaims { delete(c, key); return c }
	with := func(c jwt.MapClaims, key string, v any) jwt.MapClaims { c[key] = v; return c }

	refused := []struct {
		name string
		// authorization returns the Authorization header for a token about sub.
		authorization func(t *testing.T, sub uuid.UUID) string
	}{
		{"BasicCredentialsAreRefused", func(*testing.T, uuid.UUID) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))
		}},
		{"AValidTokenUnderTheBasicSchemeIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Basic " + authzSign(t, jwt.SigningMethodHS256, testSecret, claims(sub))
		}},
		{"AValidTokenUnderTheTokenSchemeIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Token " + authzSign(t, jwt.SigningMethodHS256, testSecret, claims(sub))
		}},
		{"AValidTokenWithoutAnySchemeIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return authzSign(t, jwt.SigningMethodHS256, testSecret, claims(sub))
		}},
		{"BearerWithoutATokenIsRefused", func(*testing.T, uuid.UUID) string { return "Bearer" }},
		{"BearerWithAnEmptyTokenIsRefused", func(*testing.T, uuid.UUID) string { return "Bearer " }},
		{"BearerWithOnlySpacesIsRefused", func(*testing.T, uuid.UUID) string { return "Bearer    " }},
		{"GarbageIsRefused", func(*testing.T, uuid.UUID) string { return "Bearer not-a-jwt" }},
		{"ThreeDotsAreRefused", func(*testing.T, uuid.UUID) string { return "Bearer .." }},
		{"AnUnsignedAlgNoneTokenIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzHandBuilt(t, map[string]any{"alg": "none", "typ": "JWT"}, claims(sub), nil)
		}},
		{"AnAlgNoneTokenWithTheHS256SignatureIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzHandBuilt(t, map[string]any{"alg": "none", "typ": "JWT"}, claims(sub), testSecret)
		}},
		{"HS512SignedWithTheRightSecretIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS512, testSecret, claims(sub))
		}},
		{"HS384SignedWithTheRightSecretIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS384, testSecret, claims(sub))
		}},
		{"AHeaderClaimingRS256IsRefused", func(t *testing.T, sub uuid.UUID) string {
			// The classic algorithm confusion: an HMAC made with the secret, labelled RS256.
			return "Bearer " + authzHandBuilt(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims(sub), testSecret)
		}},
		{"HS256SignedWithAnotherSecretIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-anot"), claims(sub))
		}},
		{"ATokenWhoseSubjectWasChangedIsRefused", func(t *testing.T, sub uuid.UUID) string {
			tok := authzSign(t, jwt.SigningMethodHS256, testSecret, claims(uuid.New()))
			parts := strings.Split(tok, ".")
			forged := strings.Split(authzHandBuilt(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claims(sub), nil), ".")
			return "Bearer " + parts[0] + "." + forged[1] + "." + parts[2]
		}},
		{"AnExpiredTokenIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret,
				with(claims(sub), "exp", now.Add(-time.Hour).Unix()))
		}},
		{"ATokenWithoutExpiryIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, without(claims(sub), "exp"))
		}},
		{"ATokenNotValidYetIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret,
				with(claims(sub), "nbf", now.Add(time.Hour).Unix()))
		}},
		{"ATokenWithoutSubjectIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, without(claims(sub), "sub"))
		}},
		{"ASubjectThatIsNotAUUIDIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, with(claims(sub), "sub", "alice"))
		}},
		{"TheNilUUIDAsSubjectIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, with(claims(sub), "sub", uuid.Nil.String()))
		}},
		{"AURNUUIDAsSubjectIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, with(claims(sub), "sub", sub.URN()))
		}},
		{"ABracedUUIDAsSubjectIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, with(claims(sub), "sub", "{"+sub.String()+"}"))
		}},
		{"AUUIDWithoutHyphensAsSubjectIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret,
				with(claims(sub), "sub", strings.ReplaceAll(sub.String(), "-", "")))
		}},
		{"ANumericSubjectIsRefused", func(t *testing.T, sub uuid.UUID) string {
			return "Bearer " + authzSign(t, jwt.SigningMethodHS256, testSecret, with(claims(sub), "sub", 42))
		}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			sub := uuid.New()
			res := e.do(request{method: http.MethodGet, path: "/api/v1/bots",
				header: map[string]string{"Authorization": c.authorization(t, sub)}})
			authzRequireUnauthorized(t, res)
			require.Zero(t, authzUsers(e, sub), "a refused token created its user")
		})
	}

	for _, param := range []string{"access_token", "token"} {
		e.run(t, "AValidTokenInThe"+camel(param)+"QueryParameterIsRefused", func(t *testing.T, e *env, u user) {
			res := e.do(request{method: http.MethodGet, path: "/api/v1/bots?" + param + "=" + url.QueryEscape(u.token)})
			authzRequireUnauthorized(t, res)
			require.Zero(t, authzUsers(e, u.id), "a token in the query string created its user")
		})
	}

	accepted := []struct {
		name   string
		scheme string
	}{
		{"AnHS256TokenWithExpiryAndUUIDSubjectIsAccepted", "Bearer"},
		// RFC 9110 section 11.1: the authentication scheme is case-insensitive.
		{"TheBearerSchemeIsCaseInsensitive", "bearer"},
	}
	for _, c := range accepted {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			sub := uuid.New()
			tok := authzSign(t, jwt.SigningMethodHS256, testSecret, claims(sub))
			res := e.do(request{method: http.MethodGet, path: "/api/v1/bots",
				header: map[string]string{"Authorization": c.scheme + " " + tok}})
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			list := decoded[api.BotList](t, res)
			require.Zero(t, list.Total)
			require.Equal(t, 1, authzUsers(e, sub))
		})
	}
}

func authzRequireUnauthorized(t *testing.T, res *response) {
	t.Helper()
	p := res.problem(t, http.StatusUnauthorized)
	require.Equal(t, "/problems/unauthorized", p.Type)
	require.True(t, strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer"),
		"WWW-Authenticate is %q", res.header.Get("WWW-Authenticate"))
}

// authzSign signs claims with a method the JWT library implements.
func authzSign(t *testing.T, method jwt.SigningMethod, secret []byte, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(secret)
	require.NoError(t, err)
	return tok
}

// authzHandBuilt assembles a token whose header the JWT library would not write: the
// signature is an HMAC-SHA256 with hmacKey over header.payload, or empty when hmacKey is nil.
func authzHandBuilt(t *testing.T, header map[string]any, claims map[string]any, hmacKey []byte) string {
	t.Helper()
	enc := func(v any) string {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	input := enc(header) + "." + enc(claims)
	if hmacKey == nil {
		return input + "."
	}
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
