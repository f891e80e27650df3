package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
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

// The probes, the API's own documentation and the metrics are served without a token.
func TestAuthzPublicEndpointsNeedNoToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// Each path answers a GET without a token, or with an invalid one, with 200 and a body
	// that holds says.
	for name, c := range map[string]struct{ path, authorization, says string }{
		"HealthAnswersOK":             {"/healthz", "", `"status":"ok"`},
		"HealthIgnoresAnInvalidToken": {"/healthz", "Bearer garbage", `"status":"ok"`},
		"ReadinessAnswersOK":          {"/readyz", "", ""},
		"SwaggerUIsBundleIsServed":    {"/docs/swagger-ui-bundle.js", "", "SwaggerUIBundle"},
		"MetricsAreServed":            {"/metrics", "", "db_pool_max_connections"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := e.authzFor(t).do(request{method: http.MethodGet, path: c.path, header: map[string]string{"Authorization": c.authorization}})
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			require.Contains(t, string(res.body), c.says)
			if c.path == "/healthz" {
				require.JSONEq(t, `{"status":"ok"}`, string(res.body))
			}
		})
	}
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
}

// Answers to authenticated requests may hold a user's private bots, so no cache may keep
// them: successes and errors alike.
func TestAuthzAuthenticatedResponsesAreNotStored(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	// Three bots of u's, each changed by one request only, and another user's public bot.
	undeleted, unconfirmed, trained := authzBot(e, u, false, false), authzBot(e, u, false, false), authzBot(e, u, false, false)
	others := authzBot(e, newUser(t), true, false)
	for name, c := range map[string]struct {
		req  request
		want int
	}{
		"AListIsNotStored": {request{method: http.MethodGet, path: "/api/v1/bots"}, http.StatusOK},
		"ACreatedBotIsNotStored": {request{method: http.MethodPost, path: "/api/v1/bots",
			body: map[string]any{"name": "Café bot", "model": "gpt-4o"}}, http.StatusCreated},
		"AMissingBotIsNotStored": {request{method: http.MethodGet, path: botPath(uuid.New())}, http.StatusNotFound},
		"AValidationErrorIsNotStored": {request{method: http.MethodPost, path: "/api/v1/bots",
			body: map[string]any{"name": "Café bot", "model": "no-such-model"}}, http.StatusUnprocessableEntity},
		"ABodyBreakingTheSchemaIsNotStored": {request{method: http.MethodPost, path: "/api/v1/bots",
			body: map[string]any{"name": "Café bot", "model": "gpt-4o", "temperature": "0.7"}}, http.StatusUnprocessableEntity},
		"AMalformedBodyIsNotStored":      {request{method: http.MethodPost, path: "/api/v1/bots", body: `{"name":`}, http.StatusBadRequest},
		"AForbiddenChangeIsNotStored":    {request{method: http.MethodPost, path: botPath(others, "/train")}, http.StatusForbidden},
		"AnUnconfirmedDeleteIsNotStored": {request{method: http.MethodDelete, path: botPath(unconfirmed)}, http.StatusPreconditionRequired},
		"AFailedPreconditionIsNotStored": {request{method: http.MethodDelete, path: botPath(undeleted),
			header: map[string]string{"If-Match": `"999"`}}, http.StatusPreconditionFailed},
		"ATrainingRequestIsNotStored": {request{method: http.MethodPost, path: botPath(trained, "/train")}, http.StatusAccepted},
		"TheModelCatalogIsNotStored":  {request{method: http.MethodGet, path: "/api/v1/models"}, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c.req.as = &u
			res := e.authzFor(t).do(c.req)
			require.Equal(t, c.want, res.code, string(res.body))
			require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		})
	}
}

// A user exists for the service from their first authenticated request on, even one that
// answers 404; a request refused, for its token or by the contract, must not create anyone.
func TestAuthzUserIsCreatedOnFirstUse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.run(t, "TheFirstAuthenticatedRequestCreatesTheUser", func(t *testing.T, e *env, u user) {
		require.Zero(t, authzUsers(e, u.id))
		res := e.get(u, "/api/v1/bots")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, 1, authzUsers(e, u.id))
		res = e.get(u, "/api/v1/models")
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		require.Equal(t, 1, authzUsers(e, u.id))
	})
	e.run(t, "AnAcceptedReadOfAMissingBotWritesTheUser", func(t *testing.T, e *env, u user) {
		require.Equal(t, http.StatusNotFound, e.get(u, botPath(uuid.New())).code)
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
	// Requests the contract refuses, with the status each gets.
	contract := map[string]struct {
		req    request
		status int
	}{
		"InvalidFields":        {request{method: http.MethodPost, path: "/api/v1/bots", body: `{"name":""}`}, 422},
		"InvalidQuery":         {request{method: http.MethodGet, path: "/api/v1/bots?limit=0"}, 422},
		"UnsupportedMediaType": {request{method: http.MethodPost, path: "/api/v1/bots", body: `name=x`, contentType: "text/plain"}, 415},
		"TooLarge":             {request{method: http.MethodPost, path: "/api/v1/bots", body: strings.Repeat(" ", 70<<10)}, 413},
		"MalformedJson":        {request{method: http.MethodPost, path: "/api/v1/bots", body: `{"name":`}, 400},
		"MalformedBotId":       {request{method: http.MethodGet, path: "/api/v1/bots/abc"}, 422},
	}
	for name, c := range contract {
		e.run(t, name+"WritesNoUser", func(t *testing.T, e *env, u user) {
			c.req.as = &u
			res := e.do(c.req)
			require.Equal(t, c.status, res.code, string(res.body))
			require.Zero(t, authzUsers(e, u.id))
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
		list := decoded[api.BotList](t, res)
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
	// Live means not deleted: a deleted bot leaves the list, and comes back restored.
	e.run(t, "TheCallersLiveBotsAreListedThroughADeleteAndARestore", func(t *testing.T, e *env, u user) {
		other := newUser(t)
		one := e.createBot(u, map[string]any{"name": "Mine one"})
		two := e.createBot(u, map[string]any{"name": "Mine two", "is_public": true})
		three := e.createBot(u, map[string]any{"name": "Mine three"})
		theirPublic := e.createBot(other, map[string]any{"name": "Mine one", "is_public": true})
		theirPrivate := e.createBot(other, map[string]any{"name": "Theirs"})

		list := lstList(e, u, nil)
		require.ElementsMatch(t, []uuid.UUID{one.Id, two.Id, three.Id}, lstIDs(list.Items))
		require.Equal(t, int64(3), list.Total)
		require.ElementsMatch(t, []uuid.UUID{theirPublic.Id, theirPrivate.Id}, lstIDs(lstList(e, other, nil).Items))

		public := lstList(e, u, url.Values{"is_public": {"true"}})
		require.Equal(t, []uuid.UUID{two.Id}, lstIDs(public.Items), "another user's public bot is not the caller's")
		require.Equal(t, int64(1), public.Total)

		named := lstList(e, u, url.Values{"q": {"Mine one"}})
		require.Equal(t, []uuid.UUID{one.Id}, lstIDs(named.Items))

		res := e.delete(u, botPath(three.Id)+"?confirm=true", nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		list = lstList(e, u, nil)
		require.ElementsMatch(t, []uuid.UUID{one.Id, two.Id}, lstIDs(list.Items), "a deleted bot leaves the list")
		require.Equal(t, int64(2), list.Total)
		searched := lstList(e, u, url.Values{"q": {"three"}})
		require.Empty(t, searched.Items)
		require.Equal(t, int64(0), searched.Total)
		training := lstList(e, u, url.Values{"status": {"training"}, "is_public": {"false"}})
		require.Equal(t, []uuid.UUID{one.Id}, lstIDs(training.Items))
		require.Equal(t, int64(1), training.Total)

		res = e.post(u, botPath(three.Id, "/restore"), nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		list = lstList(e, u, nil)
		require.ElementsMatch(t, []uuid.UUID{one.Id, two.Id, three.Id}, lstIDs(list.Items), "a restored bot comes back")
		require.Equal(t, int64(3), list.Total)
		searched = lstList(e, u, url.Values{"q": {"three"}})
		require.Equal(t, []uuid.UUID{three.Id}, lstIDs(searched.Items))
	})
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

// authzLoaded is authzLoad of a bot that must exist.
func authzLoaded(t *testing.T, e *env, id uuid.UUID) authzRow {
	t.Helper()
	row, ok := authzLoad(e, id)
	require.True(t, ok, "bot %s is not in the database", id)
	return row
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
