package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Who may do what to which bot: the owner does everything, another user only reads and copies
// a public bot, and a bot nobody may see (another user's private bot, a deleted bot, an id
// that does not exist) is a 404 for every verb, with the one exception of its owner restoring
// a deleted bot.
func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, s := range authzSubjects() {
		for _, ep := range authzEndpoints() {
			want, ok := s.expect[ep.gerund]
			require.True(t, ok, "no expectation for %s on %s", ep.gerund, s.name)
			t.Run(ep.gerund+s.name+authzOutcome(want), func(t *testing.T) {
				t.Parallel()
				e := e.authzFor(t)
				caller, stranger := newUser(t), newUser(t)
				id := s.make(e, caller, stranger)
				before := authzRows(e, caller, stranger)

				res := ep.call(e, caller, id)
				if want < 300 {
					require.Equal(t, want, res.code, string(res.body))
					ep.succeeded(t, e, caller, id, res)
					return
				}
				p := res.problem(t, want)
				require.Equal(t, authzProblemType[want], p.Type)
				require.Equal(t, before, authzRows(e, caller, stranger), "a refused request changed a bot")
			})
		}
	}
}

// A 404 for a bot that exists but may not be seen must be indistinguishable from the 404 for
// an id that never existed: same body (apart from the request's own path and id) and same
// headers, for every verb.
func TestAuthzNotFoundIsTheSameForHiddenAndMissingBots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	hidden := []authzSubject{
		authzOthersPrivateBot, authzOwnDeletedBot, authzOthersDeletedPrivateBot,
		authzOthersDeletedPublicBot,
	}
	for _, ep := range authzEndpoints() {
		t.Run(ep.gerund+"AnInvisibleBotLooksExactlyLikeAMissingOne", func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			caller, stranger := newUser(t), newUser(t)
			missing := authzNotFoundShape(t, ep.call(e, caller, uuid.New()))
			compared := 0
			for _, s := range hidden {
				if s.expect[ep.gerund] != http.StatusNotFound {
					continue // restoring one's own deleted bot succeeds
				}
				id := s.make(e, caller, stranger)
				got := authzNotFoundShape(t, ep.call(e, caller, id))
				require.Equal(t, missing, got, "the 404 for %s differs from the one for a missing id", s.name)
				compared++
			}
			require.GreaterOrEqual(t, compared, 3)
		})
	}
}

// If-Match is evaluated only on a bot the caller may change: on a bot the caller cannot see,
// a matching or a stale tag alike must answer 404, or a 412 would confirm that the bot exists
// (and a match would even reveal its version).
func TestAuthzPreconditionsNeverRevealABot(t *testing.T) {
	t.Parallel()
	e := setup(t)
	subjects := []authzSubject{
		authzOthersPrivateBot, authzOwnDeletedBot, authzOthersDeletedPrivateBot,
		authzOthersDeletedPublicBot, authzMissingBot,
		// A bot the caller sees but may not change: 403 whatever the tag says.
		authzOthersPublicBot,
	}
	tags := []struct {
		name string
		tag  func(version int64) string
	}{
		{"ItsCurrentETag", func(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }},
		{"TheFirstETag", func(int64) string { return `"1"` }},
		{"AStaleETag", func(int64) string { return `"999"` }},
		{"AnyETag", func(int64) string { return `*` }},
		{"AWeakETag", func(int64) string { return `W/"1"` }},
		{"SeveralETags", func(v int64) string { return `"999", "` + strconv.FormatInt(v, 10) + `"` }},
	}
	methods := []struct {
		gerund string
		call   func(e *env, caller user, id uuid.UUID, ifMatch string) *response
	}{
		{"Updating", func(e *env, caller user, id uuid.UUID, ifMatch string) *response {
			return e.put(caller, botPath(id), map[string]any{"description": "Taken over"}, map[string]string{"If-Match": ifMatch})
		}},
		{"Deleting", func(e *env, caller user, id uuid.UUID, ifMatch string) *response {
			return e.delete(caller, botPath(id), map[string]string{"If-Match": ifMatch})
		}},
	}
	for _, m := range methods {
		for _, s := range subjects {
			for _, tg := range tags {
				want := http.StatusNotFound
				if s.name == authzOthersPublicBot.name {
					want = http.StatusForbidden
				}
				t.Run(m.gerund+s.name+"With"+tg.name+authzOutcome(want), func(t *testing.T) {
					t.Parallel()
					e := e.authzFor(t)
					caller, stranger := newUser(t), newUser(t)
					id := s.make(e, caller, stranger)
					version := int64(1)
					if row, ok := authzLoad(e, id); ok {
						version = row.Version
					}
					before := authzRows(e, caller, stranger)

					p := m.call(e, caller, id, tg.tag(version)).problem(t, want)
					require.Equal(t, authzProblemType[want], p.Type)
					require.Equal(t, before, authzRows(e, caller, stranger), "a refused write changed a bot")
				})
			}
		}
	}
}

// Every write another user may attempt leaves the owner's bot exactly as it was: same
// fields, same version (so same ETag), same status, still (un)deleted.
func TestAuthzWritesByOthersChangeNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, s := range []struct {
		name            string
		public, deleted bool
	}{
		{"PrivateBot", false, false},
		{"PublicBot", true, false},
		{"DeletedPrivateBot", false, true},
		{"DeletedPublicBot", true, true},
	} {
		t.Run("AnotherUserCannotChangeAnOwners"+s.name, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			owner, other := newUser(t), newUser(t)
			id := authzBot(e, owner, s.public, s.deleted)
			row, ok := authzLoad(e, id)
			require.True(t, ok)
			etag := `"` + strconv.FormatInt(row.Version, 10) + `"`
			var seen api.BotResponse
			if !s.deleted {
				res := e.get(owner, botPath(id))
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				require.Equal(t, etag, res.header.Get("ETag"))
				res.decode(t, &seen)
			}
			before := authzRows(e, owner, other)

			attempts := []*response{
				e.put(other, botPath(id), map[string]any{"name": "Hijacked", "is_public": !s.public}, nil),
				e.put(other, botPath(id), map[string]any{"system_prompt": "Obey me."}, map[string]string{"If-Match": etag}),
				e.put(other, botPath(id), map[string]any{"description": nil}, map[string]string{"If-Match": "*"}),
				e.delete(other, botPath(id, "?confirm=true"), nil),
				e.delete(other, botPath(id), map[string]string{"If-Match": etag}),
				e.delete(other, botPath(id), map[string]string{"If-Match": "*"}),
				e.post(other, botPath(id, "/restore"), nil),
				e.post(other, botPath(id, "/train"), nil),
			}
			for i, res := range attempts {
				require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, res.code,
					"attempt %d answered %d %s", i, res.code, res.body)
			}

			require.Equal(t, before, authzRows(e, owner, other), "another user's writes changed the bot")
			after, ok := authzLoad(e, id)
			require.True(t, ok)
			require.Equal(t, row, after)
			require.Equal(t, "active", after.Status)
			require.Equal(t, s.deleted, after.Deleted)
			if s.deleted {
				e.get(owner, botPath(id)).problem(t, http.StatusNotFound)
				return
			}
			res := e.get(owner, botPath(id))
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			require.Equal(t, etag, res.header.Get("ETag"))
			var now api.BotResponse
			res.decode(t, &now)
			require.Equal(t, seen, now)
		})
	}
}

// Every /api/v1 operation needs a valid HS256 bearer token in the Authorization header, and
// refusing it must not run the operation.
func TestAuthzEveryRouteNeedsAToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	routes := []struct {
		name   string
		method string
		path   func(id uuid.UUID) string
		body   any
	}{
		{"Listing", http.MethodGet, func(uuid.UUID) string { return "/api/v1/bots" }, nil},
		{"Creating", http.MethodPost, func(uuid.UUID) string { return "/api/v1/bots" },
			map[string]any{"name": "Anonymous 日本", "model": "gpt-4o-mini"}},
		{"Getting", http.MethodGet, func(id uuid.UUID) string { return botPath(id) }, nil},
		{"Updating", http.MethodPut, func(id uuid.UUID) string { return botPath(id) },
			map[string]any{"description": "Anonymous edit"}},
		{"Deleting", http.MethodDelete, func(id uuid.UUID) string { return botPath(id, "?confirm=true") }, nil},
		{"Restoring", http.MethodPost, func(id uuid.UUID) string { return botPath(id, "/restore") }, nil},
		{"Duplicating", http.MethodPost, func(id uuid.UUID) string { return botPath(id, "/duplicate") }, nil},
		{"Training", http.MethodPost, func(id uuid.UUID) string { return botPath(id, "/train") }, nil},
		{"ListingModels", http.MethodGet, func(uuid.UUID) string { return "/api/v1/models" }, nil},
	}
	for _, r := range routes {
		t.Run(r.name+"WithoutATokenIsUnauthorized", func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			owner := newUser(t)
			// A public bot: the one a stranger could most plausibly reach.
			id := authzBot(e, owner, true, r.name == "Restoring")
			before := authzRows(e, owner)

			res := e.do(request{method: r.method, path: r.path(id), body: r.body})
			authzRequireUnauthorized(t, res)
			require.Equal(t, before, authzRows(e, owner))
			var anonymous int
			require.NoError(t, e.pool.QueryRow(context.Background(),
				`SELECT count(*) FROM bots WHERE name = 'Anonymous 日本' OR description = 'Anonymous edit'`).Scan(&anonymous))
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
		t.Run("AValidTokenInThe"+camel(param)+"QueryParameterIsRefused", func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			u := newUser(t)
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
			var list api.BotList
			res.decode(t, &list)
			require.Zero(t, list.Total)
			require.Equal(t, 1, authzUsers(e, sub))
		})
	}
}

// The probes, the API's own documentation and the metrics are served without a token.
func TestAuthzPublicEndpointsNeedNoToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Run("HealthAnswersOK", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		res := e.do(request{method: http.MethodGet, path: "/healthz"})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.JSONEq(t, `{"status":"ok"}`, string(res.body))
	})
	t.Run("HealthIgnoresAnInvalidToken", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		res := e.do(request{method: http.MethodGet, path: "/healthz", header: map[string]string{"Authorization": "Bearer garbage"}})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
	t.Run("ReadinessAnswersOK", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		res := e.do(request{method: http.MethodGet, path: "/readyz"})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
	t.Run("TheOpenAPIDocumentIsServed", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/openapi.yaml"})
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, string(res.body), "openapi: 3.0")
		doc, err := openapi3.NewLoader().LoadFromData(res.body)
		require.NoError(t, err, "the served document is not a readable OpenAPI document")
		require.NoError(t, doc.Validate(context.Background()))
		require.NotNil(t, doc.Paths.Find("/api/v1/bots/{bot_id}"))
	})
	t.Run("TheDocsPageLoadsOnlyLocalAssets", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/docs"})
		require.Equal(t, http.StatusOK, res.code)
		require.True(t, strings.HasPrefix(res.header.Get("Content-Type"), "text/html"), res.header.Get("Content-Type"))
		html := string(res.body)
		require.NotRegexp(t, `(?i)<(script|link)[^>]+(src|href)\s*=\s*["']?\s*(https?:)?//`, html,
			"the docs page loads an asset from another host")
		assets := regexp.MustCompile(`(?i)<(?:script|link)[^>]+(?:src|href)\s*=\s*["']([^"']+)["']`).FindAllStringSubmatch(html, -1)
		require.NotEmpty(t, assets, "the docs page loads no script or stylesheet")
		for _, a := range assets {
			ref, err := url.Parse(a[1])
			require.NoError(t, err)
			require.Empty(t, ref.Host, "asset %s is not local", a[1])
			asset := e.do(request{method: http.MethodGet, path: (&url.URL{Path: "/docs/"}).ResolveReference(ref).Path})
			require.Equal(t, http.StatusOK, asset.code, "asset %s", a[1])
			require.NotEmpty(t, asset.body, "asset %s", a[1])
		}
	})
	t.Run("SwaggerUIsBundleIsServed", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/docs/swagger-ui-bundle.js"})
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, string(res.body), "SwaggerUIBundle")
	})
	t.Run("MetricsAreServed", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/metrics"})
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, string(res.body), "db_pool_max_connections")
	})
}

// Answers to authenticated requests may hold a user's private bots, so no cache may keep
// them: successes and errors alike.
func TestAuthzAuthenticatedResponsesAreNotStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := []struct {
		name string
		want int
		call func(e *env, u user) *response
	}{
		{"AListIsNotStored", http.StatusOK, func(e *env, u user) *response { return e.get(u, "/api/v1/bots") }},
		{"ACreatedBotIsNotStored", http.StatusCreated, func(e *env, u user) *response {
			return e.post(u, "/api/v1/bots", map[string]any{"name": "Café bot", "model": "gpt-4o"})
		}},
		{"AMissingBotIsNotStored", http.StatusNotFound, func(e *env, u user) *response { return e.get(u, botPath(uuid.New())) }},
		{"AValidationErrorIsNotStored", http.StatusUnprocessableEntity, func(e *env, u user) *response {
			return e.post(u, "/api/v1/bots", map[string]any{"name": "Café bot", "model": "no-such-model"})
		}},
		{"ABodyBreakingTheSchemaIsNotStored", http.StatusUnprocessableEntity, func(e *env, u user) *response {
			return e.post(u, "/api/v1/bots", map[string]any{"name": "Café bot", "model": "gpt-4o", "temperature": "0.7"})
		}},
		{"AMalformedBodyIsNotStored", http.StatusBadRequest, func(e *env, u user) *response {
			return e.post(u, "/api/v1/bots", `{"name":`)
		}},
		{"AForbiddenChangeIsNotStored", http.StatusForbidden, func(e *env, u user) *response {
			return e.post(u, botPath(authzBot(e, newUser(e.t), true, false), "/train"), nil)
		}},
		{"AnUnconfirmedDeleteIsNotStored", http.StatusPreconditionRequired, func(e *env, u user) *response {
			return e.delete(u, botPath(authzBot(e, u, false, false)), nil)
		}},
		{"AFailedPreconditionIsNotStored", http.StatusPreconditionFailed, func(e *env, u user) *response {
			return e.delete(u, botPath(authzBot(e, u, false, false)), map[string]string{"If-Match": `"999"`})
		}},
		{"ATrainingRequestIsNotStored", http.StatusAccepted, func(e *env, u user) *response {
			return e.post(u, botPath(authzBot(e, u, false, false), "/train"), nil)
		}},
		{"TheModelCatalogIsNotStored", http.StatusOK, func(e *env, u user) *response { return e.get(u, "/api/v1/models") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			res := c.call(e, newUser(t))
			require.Equal(t, c.want, res.code, string(res.body))
			require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		})
	}
}

// A user exists for the service from their first authenticated request on; a refused
// request must not create anyone.
func TestAuthzUserIsCreatedOnFirstUse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Run("TheFirstAuthenticatedRequestCreatesTheUser", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		u := newUser(t)
		require.Zero(t, authzUsers(e, u.id))
		res := e.get(u, "/api/v1/bots")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, 1, authzUsers(e, u.id))
		res = e.get(u, "/api/v1/models")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, 1, authzUsers(e, u.id))
	})
	now := time.Now()
	refusals := []struct {
		name  string
		token func(t *testing.T, sub uuid.UUID) string
	}{
		{"AnExpiredTokenCreatesNoUser", func(t *testing.T, sub uuid.UUID) string {
			return authzSign(t, jwt.SigningMethodHS256, testSecret,
				jwt.MapClaims{"sub": sub.String(), "exp": now.Add(-time.Hour).Unix()})
		}},
		{"ATokenSignedWithAnotherSecretCreatesNoUser", func(t *testing.T, sub uuid.UUID) string {
			return authzSign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-anot"),
				jwt.MapClaims{"sub": sub.String(), "exp": now.Add(time.Hour).Unix()})
		}},
		{"AnUnsignedTokenCreatesNoUser", func(t *testing.T, sub uuid.UUID) string {
			return authzHandBuilt(t, map[string]any{"alg": "none"},
				jwt.MapClaims{"sub": sub.String(), "exp": now.Add(time.Hour).Unix()}, nil)
		}},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			sub := uuid.New()
			header := map[string]string{"Authorization": "Bearer " + r.token(t, sub)}
			authzRequireUnauthorized(t, e.do(request{method: http.MethodGet, path: "/api/v1/bots", header: header}))
			authzRequireUnauthorized(t, e.do(request{method: http.MethodPost, path: "/api/v1/bots", header: header,
				body: map[string]any{"name": "Ghost", "model": "gpt-4o-mini"}}))
			require.Zero(t, authzUsers(e, sub), "a refused request created its user")
			var bots int
			require.NoError(t, e.pool.QueryRow(context.Background(),
				`SELECT count(*) FROM bots WHERE owner_id = $1`, sub).Scan(&bots))
			require.Zero(t, bots)
		})
	}
}

// The list is the caller's own bots only: public bots of other users can be fetched and
// copied by id, but never show up in someone else's list, whatever the filters.
func TestAuthzListShowsOnlyTheCallersBots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, caller, newcomer := newUser(t), newUser(t), newUser(t)
	public := e.createBot(owner, map[string]any{"name": "Shared 日本 helper", "is_public": true})
	private := e.createBot(owner, map[string]any{"name": "Secret helper"})
	authzBot(e, owner, true, true)
	mine := e.createBot(caller, map[string]any{"name": "My helper"})

	ids := func(t *testing.T, u user, query string) []uuid.UUID {
		res := e.authzFor(t).get(u, "/api/v1/bots?limit=100"+query)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		var list api.BotList
		res.decode(t, &list)
		require.Equal(t, int64(len(list.Items)), list.Total)
		out := []uuid.UUID{}
		for _, b := range list.Items {
			require.Equal(t, u.id, b.OwnerId)
			out = append(out, b.Id)
		}
		return out
	}
	t.Run("TheCallerSeesOnlyTheirOwnBot", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []uuid.UUID{mine.Id}, ids(t, caller, ""))
	})
	t.Run("FilteringOnPublicShowsNoOtherUsersBots", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, ids(t, caller, "&is_public=true"))
	})
	t.Run("SearchingForAnotherUsersPublicBotFindsNothing", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, ids(t, caller, "&q="+url.QueryEscape("日本")))
		require.Empty(t, ids(t, caller, "&q=Secret&sort=name"))
	})
	t.Run("AUserWithoutBotsSeesAnEmptyList", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, ids(t, newcomer, ""))
	})
	t.Run("TheOwnerSeesTheirLiveBotsButNotTheCallers", func(t *testing.T) {
		t.Parallel()
		require.ElementsMatch(t, []uuid.UUID{public.Id, private.Id}, ids(t, owner, ""))
	})
	t.Run("TheOtherUsersPublicBotIsStillReadableById", func(t *testing.T) {
		t.Parallel()
		res := e.authzFor(t).get(caller, botPath(public.Id))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
}

// authzSubject is a bot in one relation to the caller, with what each endpoint answers.
type authzSubject struct {
	name string
	// make creates the bot for caller (stranger stands for any other user) and returns its id.
	make   func(e *env, caller, stranger user) uuid.UUID
	expect map[string]int // status by endpoint gerund
}

var (
	authzOwnPrivateBot = authzSubject{
		name: "OwnPrivateBot",
		make: func(e *env, caller, _ user) uuid.UUID { return authzBot(e, caller, false, false) },
		expect: map[string]int{
			"Getting": 200, "Updating": 200, "Deleting": 200,
			"Restoring": 409, "Duplicating": 201, "Training": 202,
		},
	}
	authzOthersPrivateBot = authzSubject{
		name:   "AnotherUsersPrivateBot",
		make:   func(e *env, _, stranger user) uuid.UUID { return authzBot(e, stranger, false, false) },
		expect: authzAll(404),
	}
	authzOthersPublicBot = authzSubject{
		name: "AnotherUsersPublicBot",
		make: func(e *env, _, stranger user) uuid.UUID { return authzBot(e, stranger, true, false) },
		expect: map[string]int{
			"Getting": 200, "Updating": 403, "Deleting": 403,
			"Restoring": 403, "Duplicating": 201, "Training": 403,
		},
	}
	authzOwnDeletedBot = authzSubject{
		name: "OwnDeletedBot",
		make: func(e *env, caller, _ user) uuid.UUID { return authzBot(e, caller, false, true) },
		expect: map[string]int{
			"Getting": 404, "Updating": 404, "Deleting": 404,
			"Restoring": 200, "Duplicating": 404, "Training": 404,
		},
	}
	authzOthersDeletedPrivateBot = authzSubject{
		name:   "AnotherUsersDeletedPrivateBot",
		make:   func(e *env, _, stranger user) uuid.UUID { return authzBot(e, stranger, false, true) },
		expect: authzAll(404),
	}
	authzOthersDeletedPublicBot = authzSubject{
		name:   "AnotherUsersDeletedPublicBot",
		make:   func(e *env, _, stranger user) uuid.UUID { return authzBot(e, stranger, true, true) },
		expect: authzAll(404),
	}
	authzMissingBot = authzSubject{
		name:   "AMissingBot",
		make:   func(*env, user, user) uuid.UUID { return uuid.New() },
		expect: authzAll(404),
	}
)

func authzSubjects() []authzSubject {
	return []authzSubject{
		authzOwnPrivateBot, authzOthersPrivateBot, authzOthersPublicBot, authzOwnDeletedBot,
		authzOthersDeletedPrivateBot, authzOthersDeletedPublicBot, authzMissingBot,
	}
}

func authzAll(status int) map[string]int {
	out := map[string]int{}
	for _, ep := range authzEndpoints() {
		out[ep.gerund] = status
	}
	return out
}

// authzEndpoint is one operation on a bot, and what its success must look like.
type authzEndpoint struct {
	gerund    string
	call      func(e *env, caller user, id uuid.UUID) *response
	succeeded func(t *testing.T, e *env, caller user, id uuid.UUID, res *response)
}

func authzEndpoints() []authzEndpoint {
	return []authzEndpoint{
		{
			gerund: "Getting",
			call:   func(e *env, caller user, id uuid.UUID) *response { return e.get(caller, botPath(id)) },
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				var bot api.BotResponse
				res.decode(t, &bot)
				require.Equal(t, id, bot.Id)
				row, ok := authzLoad(e, id)
				require.True(t, ok)
				require.Equal(t, `"`+strconv.FormatInt(row.Version, 10)+`"`, res.header.Get("ETag"))
			},
		},
		{
			gerund: "Updating",
			call: func(e *env, caller user, id uuid.UUID) *response {
				return e.put(caller, botPath(id), map[string]any{"description": "Changed by its owner ✓"}, nil)
			},
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				var bot api.BotResponse
				res.decode(t, &bot)
				require.Equal(t, id, bot.Id)
				row, ok := authzLoad(e, id)
				require.True(t, ok)
				require.Equal(t, "Changed by its owner ✓", *row.Description)
				require.Equal(t, int64(2), row.Version)
			},
		},
		{
			gerund: "Deleting",
			call: func(e *env, caller user, id uuid.UUID) *response {
				return e.delete(caller, botPath(id, "?confirm=true"), nil)
			},
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				var del api.BotDeleted
				res.decode(t, &del)
				require.Equal(t, id, del.Id)
				require.True(t, bool(del.Deleted))
				row, ok := authzLoad(e, id)
				require.True(t, ok)
				require.True(t, row.Deleted)
			},
		},
		{
			gerund: "Restoring",
			call: func(e *env, caller user, id uuid.UUID) *response {
				return e.post(caller, botPath(id, "/restore"), nil)
			},
			succeeded: func(t *testing.T, e *env, caller user, id uuid.UUID, res *response) {
				var bot api.BotResponse
				res.decode(t, &bot)
				require.Equal(t, id, bot.Id)
				require.Equal(t, caller.id, bot.OwnerId)
				row, ok := authzLoad(e, id)
				require.True(t, ok)
				require.False(t, row.Deleted)
				require.Equal(t, http.StatusOK, e.get(caller, botPath(id)).code)
			},
		},
		{
			gerund: "Duplicating",
			call: func(e *env, caller user, id uuid.UUID) *response {
				return e.post(caller, botPath(id, "/duplicate"), nil)
			},
			succeeded: func(t *testing.T, e *env, caller user, id uuid.UUID, res *response) {
				var bot api.BotResponse
				res.decode(t, &bot)
				src, ok := authzLoad(e, id)
				require.True(t, ok)
				require.NotEqual(t, id, bot.Id)
				require.Equal(t, caller.id, bot.OwnerId, "the copy belongs to the caller")
				require.False(t, bot.IsPublic, "the copy is private")
				require.Equal(t, api.BotStatus("training"), bot.Status)
				require.Equal(t, src.Name+" (copy)", bot.Name)
				require.Equal(t, botPath(bot.Id), res.header.Get("Location"))
				cp, ok := authzLoad(e, bot.Id)
				require.True(t, ok)
				require.Equal(t, caller.id, cp.OwnerID)
				require.Equal(t, "active", src.Status, "duplicating changed the source")
				require.Equal(t, int64(1), src.Version, "duplicating changed the source")
			},
		},
		{
			gerund: "Training",
			call: func(e *env, caller user, id uuid.UUID) *response {
				return e.post(caller, botPath(id, "/train"), nil)
			},
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				var bot api.BotResponse
				res.decode(t, &bot)
				require.Equal(t, api.BotStatus("training"), bot.Status)
				row, ok := authzLoad(e, id)
				require.True(t, ok)
				require.Equal(t, "training", row.Status)
			},
		},
	}
}

var authzProblemType = map[int]string{
	http.StatusForbidden: "/problems/forbidden",
	http.StatusNotFound:  "/problems/not-found",
	http.StatusConflict:  "/problems/conflict",
}

func authzOutcome(status int) string {
	switch status {
	case http.StatusForbidden:
		return "IsForbidden"
	case http.StatusNotFound:
		return "IsNotFound"
	case http.StatusConflict:
		return "IsAConflict"
	}
	return "Succeeds"
}

// authzBot creates a bot of owner that has finished training (status active, as the
// training worker would leave it), public or private, and deleted if asked.
func authzBot(e *env, owner user, public, deleted bool) uuid.UUID {
	e.t.Helper()
	bot := e.createBot(owner, map[string]any{
		"name":          "Helper é " + uuid.NewString()[:8],
		"description":   "Answers questions",
		"system_prompt": "Be kind.",
		"temperature":   0.3,
		"is_public":     public,
	})
	_, err := e.pool.Exec(context.Background(), `UPDATE bots SET status = 'active' WHERE id = $1`, bot.Id)
	require.NoError(e.t, err)
	if deleted {
		res := e.delete(owner, botPath(bot.Id, "?confirm=true"), nil)
		require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	}
	return bot.Id
}

// authzRow is a bot as stored.
type authzRow struct {
	OwnerID     uuid.UUID
	Name        string
	Description *string
	Status      string
	Version     int64
	Deleted     bool
}

func authzLoad(e *env, id uuid.UUID) (authzRow, bool) {
	e.t.Helper()
	var r authzRow
	err := e.pool.QueryRow(context.Background(),
		`SELECT owner_id, name, description, status::text, version, deleted_at IS NOT NULL FROM bots WHERE id = $1`, id).
		Scan(&r.OwnerID, &r.Name, &r.Description, &r.Status, &r.Version, &r.Deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return authzRow{}, false
	}
	require.NoError(e.t, err)
	return r, true
}

// authzRows is every stored column of every bot the users own, to compare before and after
// a request that must change nothing.
func authzRows(e *env, users ...user) string {
	e.t.Helper()
	ids := make([]uuid.UUID, len(users))
	for i, u := range users {
		ids[i] = u.id
	}
	var out string
	require.NoError(e.t, e.pool.QueryRow(context.Background(),
		`SELECT coalesce(json_agg(b ORDER BY b.id), '[]')::text FROM bots b WHERE b.owner_id = ANY($1)`, ids).Scan(&out))
	return out
}

// authzUsers counts the users rows with this id.
func authzUsers(e *env, id uuid.UUID) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE id = $1`, id).Scan(&n))
	return n
}

// authzNotFoundShape is what a 404 tells the client, without what names the request itself
// (its path in instance, its id in request_id and X-Request-Id).
func authzNotFoundShape(t *testing.T, res *response) string {
	t.Helper()
	p := res.problem(t, http.StatusNotFound)
	require.Equal(t, "/problems/not-found", p.Type)
	var body map[string]any
	res.decode(t, &body)
	delete(body, "instance")
	delete(body, "request_id")
	header := res.header.Clone()
	header.Del("X-Request-Id")
	out, err := json.Marshal(map[string]any{"body": body, "header": header})
	require.NoError(t, err)
	return string(out)
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
