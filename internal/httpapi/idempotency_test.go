package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/peterldowns/pgtestdb"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/migrate"
)

// Tests of the Idempotency-Key header: a create retried with the key of an earlier one gets
// that answer again and creates nothing, for bots, copies and webhooks alike.

func (e *env) postWithKey(u user, path, key string, body any) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodPost, path: path, as: &u, body: body, header: map[string]string{"Idempotency-Key": key}})
}

// requireReplay checks that again is first's answer replayed: the same 201, byte for byte, with
// the same headers, marked Idempotent-Replayed.
func requireReplay(t *testing.T, first, again *response) {
	t.Helper()
	require.Equal(t, http.StatusCreated, again.code, string(again.body))
	require.Equal(t, string(first.body), string(again.body))
	for _, h := range []string{"Content-Type", "Content-Length", "Location", "ETag"} {
		require.Equal(t, first.header.Get(h), again.header.Get(h), h)
	}
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
}

// holdKey holds the lock of a user's idempotency key of a scope ("bot", "webhook") as a first
// request holds it while it runs, until the returned release is called (or the test ends).
func (e *env) holdKey(u user, scope, key string) (release func()) {
	e.t.Helper()
	tx, err := e.pool.Begin(context.Background())
	require.NoError(e.t, err)
	release = func() { _ = tx.Rollback(context.Background()) }
	e.t.Cleanup(release)
	_, err = tx.Exec(context.Background(),
		"SELECT pg_advisory_xact_lock(hashtextextended(concat($1::uuid, ':', $2::text, ':', $3::text), 0))", u.id, scope, key)
	require.NoError(e.t, err)
	return release
}

// raceRetries sends n copies of one create with one Idempotency-Key at once, and checks that
// each is answered 201 or 409 and that every 201 names the same resource.
func (e *env) raceRetries(u user, path, body, key string, n int) {
	e.t.Helper()
	retries := make([]request, n)
	for i := range retries {
		retries[i] = request{method: http.MethodPost, path: path, as: &u, body: body, header: map[string]string{"Idempotency-Key": key}}
	}
	var created []string
	for _, res := range e.race(retries) {
		require.Contains(e.t, []int{http.StatusCreated, http.StatusConflict}, res.code)
		if res.code == http.StatusCreated {
			created = append(created, res.header.Get("Location"))
		}
	}
	require.NotEmpty(e.t, created)
	for _, loc := range created {
		require.Equal(e.t, created[0], loc, "every 201 names the one resource")
	}
}

func (e *env) countBots(u user) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM bots WHERE owner_id = $1", u.id).Scan(&n))
	return n
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := map[string]any{"name": "Once", "model": "gpt-4o"}

	t.Run("ARetryGetsTheFirstResponseAndCreatesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		first := e.postWithKey(u, "/api/v1/bots", key, body)
		require.Equal(t, http.StatusCreated, first.code, string(first.body))
		for _, sent := range []string{key, `"` + key + `"`} { // a token or a quoted string
			requireReplay(t, first, e.postWithKey(u, "/api/v1/bots", sent, body))
		}
		require.Empty(t, first.header.Get("Idempotent-Replayed"))
		require.Equal(t, 1, e.countBots(u))
	})

	t.Run("AReplayIsTheFirstAnswerByteForByteWhateverHappenedToTheBotSince", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		sent := map[string]any{
			"name": "Byte for byte", "model": "gpt-4o", "description": "Tom & Jerry <3",
			"temperature": 0.35, "system_prompt": "Grüße 👋", "is_public": true,
		}
		first := e.postWithKey(u, "/api/v1/bots", key, sent)
		require.Equal(t, http.StatusCreated, first.code, string(first.body))
		var bot api.BotResponse
		first.decode(t, &bot)
		require.Equal(t, http.StatusOK, e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed", "description": nil}, nil).code)

		requireReplay(t, first, e.postWithKey(u, "/api/v1/bots", key, sent))
	})

	t.Run("TheSameKeyWithAnotherBodyIsRefused", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/bots", key, body).code)
		p := e.postWithKey(u, "/api/v1/bots", key, map[string]any{"name": "Twice", "model": "gpt-4o"}).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, "/problems/idempotency-key-reused", p.Type)
		require.Equal(t, 1, e.countBots(u))
	})

	t.Run("KeysBelongToTheirUser", func(t *testing.T) {
		t.Parallel()
		a, b := newUser(t), newUser(t)
		key := uuid.NewString()
		require.Equal(t, http.StatusCreated, e.postWithKey(a, "/api/v1/bots", key, body).code)
		res := e.postWithKey(b, "/api/v1/bots", key, body)
		require.Equal(t, http.StatusCreated, res.code)
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
		require.Equal(t, 1, e.countBots(a))
		require.Equal(t, 1, e.countBots(b))
	})

	t.Run("AnExpiredKeyIsFreeAgain", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		first := e.postWithKey(u, "/api/v1/bots", key, body)
		require.Equal(t, http.StatusCreated, first.code)
		var bot api.BotResponse
		first.decode(t, &bot)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"}).code)
		_, err := e.pool.Exec(context.Background(),
			"UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1", u.id)
		require.NoError(t, err)
		again := e.postWithKey(u, "/api/v1/bots", key, body)
		require.Equal(t, http.StatusCreated, again.code, string(again.body))
		require.NotEqual(t, first.header.Get("Location"), again.header.Get("Location"))
	})

	t.Run("ARetryWhileTheFirstRunsConflicts", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		release := e.authzFor(t).holdKey(u, "bot", key)
		p := e.postWithKey(u, "/api/v1/bots", key, body).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/idempotency-key-in-use", p.Type)
		release()
		require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/bots", key, body).code)
	})

	t.Run("AFailedRequestStoresNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		taken := e.createBot(u, map[string]any{"name": "Once"})
		key := uuid.NewString()
		e.postWithKey(u, "/api/v1/bots", key, body).problem(t, http.StatusConflict)
		require.Equal(t, http.StatusOK, e.put(u, botPath(taken.Id), map[string]any{"name": "Renamed"}, nil).code)
		res := e.postWithKey(u, "/api/v1/bots", key, body)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
	})

	t.Run("MalformedKeysAreRefused", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		for _, key := range []string{strings.Repeat("k", 256), "has space", "tab\tkey"} {
			p := e.postWithKey(u, "/api/v1/bots", key, body).problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"header:Idempotency-Key"}, fieldsOf(p))
		}
		require.Equal(t, 0, e.countBots(u))
	})

	t.Run("NullDefaultsAndAbsenceAreOneRequest", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		first := e.postWithKey(u, "/api/v1/bots", key, body)
		require.Equal(t, http.StatusCreated, first.code, string(first.body))
		spelled := map[string]any{
			"name": "Once", "model": "gpt-4o", "description": nil, "temperature": 0.7, "system_prompt": "", "is_public": false,
		}
		requireReplay(t, first, e.postWithKey(u, "/api/v1/bots", key, spelled))
		for field, other := range map[string]any{"description": "", "temperature": 0.8, "system_prompt": "Be brief.", "is_public": true} {
			differs := map[string]any{"name": "Once", "model": "gpt-4o", field: other}
			p := e.postWithKey(u, "/api/v1/bots", key, differs).problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, "/problems/idempotency-key-reused", p.Type, field)
		}
		require.Equal(t, 1, e.countBots(u))
	})

	t.Run("ConcurrentRetriesCreateOneBot", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		key := uuid.NewString()
		e.authzFor(t).raceRetries(u, "/api/v1/bots", `{"name":"Once","model":"gpt-4o"}`, key, 10)
		require.Equal(t, 1, e.countBots(u))
	})
}

func TestIdempotentDuplicate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	src := e.createBot(u, map[string]any{"name": "Source"})
	other := e.createBot(u, map[string]any{"name": "Other"})
	key := uuid.NewString()

	first := e.postWithKey(u, botPath(src.Id, "/duplicate"), key, map[string]any{})
	require.Equal(t, http.StatusCreated, first.code)
	again := e.postWithKey(u, botPath(src.Id, "/duplicate"), key, map[string]any{})
	require.Equal(t, http.StatusCreated, again.code)
	require.JSONEq(t, string(first.body), string(again.body))
	require.Equal(t, 3, e.countBots(u), "the retry made no second copy")

	// The key is tied to the request: another body, or another source bot, is refused.
	p := e.postWithKey(u, botPath(src.Id, "/duplicate"), key, map[string]any{"is_public": true}).problem(t, http.StatusUnprocessableEntity)
	require.Equal(t, "/problems/idempotency-key-reused", p.Type)
	p = e.postWithKey(u, botPath(other.Id, "/duplicate"), key, map[string]any{}).problem(t, http.StatusUnprocessableEntity)
	require.Equal(t, "/problems/idempotency-key-reused", p.Type)
	require.Equal(t, 3, e.countBots(u))
}

// Keys stored before the keys kept the bot (migration 0009) kept the first answer; the
// migration turns them into the bot, and their retries get the same answer as before.
func TestIdempotencyKeysOfTheOldFormatStillReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	body := map[string]any{"name": "Kept <&>", "model": "gpt-4o", "description": "Tom & Jerry", "temperature": 1.25}
	u := newUser(t)
	key := uuid.NewString()

	// The first answer, from today's server.
	now := setup(t)
	first := now.postWithKey(u, "/api/v1/bots", key, body)
	require.Equal(t, http.StatusCreated, first.code, string(first.body))
	var hash []byte
	require.NoError(t, now.pool.QueryRow(ctx, "SELECT request_hash FROM idempotency_keys WHERE key = $1", key).Scan(&hash))

	// A database before 0009 that kept that answer as the server before 0009 did: the JSON
	// as encoding/json writes it, HTML escapes included.
	url := pgtestdb.Custom(t, dbtest.Config(), pgtestdb.NoopMigrator{}).URL()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	all, err := migrate.All()
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
	require.NoError(t, err)
	for _, m := range all {
		if m.Name >= "0009" {
			break
		}
		require.NoError(t, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return m.Apply(ctx, tx) }), m.Name)
		_, err = conn.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", m.Name)
		require.NoError(t, err)
	}
	var escaped bytes.Buffer
	json.HTMLEscape(&escaped, first.body)
	require.NotEqual(t, string(first.body), escaped.String(), "the body has characters encoding/json escapes")
	_, err = conn.Exec(ctx, "INSERT INTO users (id) VALUES ($1)", u.id)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body, location, etag)
		VALUES ($1, $2, $3, 201, $4, $5, $6)`, u.id, key, hash, escaped.Bytes(), first.header.Get("Location"), first.header.Get("ETag"))
	require.NoError(t, err)

	_, err = migrate.Up(ctx, conn)
	require.NoError(t, err)
	later := setupWith(t, envConfig{databaseURL: url})
	requireReplay(t, first, later.postWithKey(u, "/api/v1/bots", key, body))
	require.Zero(t, later.countBots(u), "the retry created nothing")
}

func (e *env) countWebhooks(u user) int {
	e.t.Helper()
	return e.count(`SELECT 1 FROM webhooks WHERE owner_id = $1`, u.id)
}

func TestIdempotentWebhookCreate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := map[string]any{"url": "https://hooks.example.com/once", "events": []string{"*"}, "description": "Once <&>"}
	// each runs test as a parallel subtest on e, with a user of its own and a fresh key.
	each := func(name string, test func(t *testing.T, e *env, u user, key string)) {
		e.run(t, name, func(t *testing.T, e *env, u user) { test(t, e, u, uuid.NewString()) })
	}
	// first sends a create with key that the key has not seen: a 201 that is no replay.
	first := func(t *testing.T, e *env, u user, path, key string, body any) *response {
		t.Helper()
		res := e.postWithKey(u, path, key, body)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
		return res
	}

	each("ARetryGetsTheFirstAnswerWithItsSecretAndCreatesNothing", func(t *testing.T, e *env, u user, key string) {
		first := first(t, e, u, "/api/v1/webhooks", key, body)
		for _, sent := range []string{key, `"` + key + `"`} {
			requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", sent, body))
		}
		require.Equal(t, 1, e.countWebhooks(u))
	})

	each("AReplayIsTheFirstAnswerAfterARotationOrADelete", func(t *testing.T, e *env, u user, key string) {
		first := first(t, e, u, "/api/v1/webhooks", key, body)
		var hook api.WebhookCreated
		first.decode(t, &hook)

		rotated := e.post(u, webhookPath(hook.Id)+"/rotate-secret", nil)
		require.Equal(t, http.StatusOK, rotated.code, string(rotated.body))
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, body))

		require.Equal(t, http.StatusNoContent, e.delete(u, webhookPath(hook.Id), nil).code)
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, body))
		require.Zero(t, e.countWebhooks(u), "the replay brings nothing back")
	})

	each("TheSameKeyWithAnotherBodyIsRefused", func(t *testing.T, e *env, u user, key string) {
		first(t, e, u, "/api/v1/webhooks", key, body)
		other := map[string]any{"url": "https://hooks.example.com/twice", "events": []string{"*"}}
		p := e.postWithKey(u, "/api/v1/webhooks", key, other).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, "/problems/idempotency-key-reused", p.Type)
		require.Equal(t, 1, e.countWebhooks(u))
	})

	each("BotsAndWebhooksHaveKeysOfTheirOwn", func(t *testing.T, e *env, u user, key string) {
		bot := first(t, e, u, "/api/v1/bots", key, map[string]any{"name": "Keyed", "model": "gpt-4o"})
		// The bot's key does not replay as a webhook.
		hook := first(t, e, u, "/api/v1/webhooks", key, body)
		var created api.WebhookCreated
		hook.decode(t, &created)
		require.Equal(t, webhookPath(created.Id), hook.header.Get("Location"))
		require.Equal(t, 1, e.countWebhooks(u))

		// And each keeps replaying its own.
		requireReplay(t, bot, e.postWithKey(u, "/api/v1/bots", key, map[string]any{"name": "Keyed", "model": "gpt-4o"}))
		requireReplay(t, hook, e.postWithKey(u, "/api/v1/webhooks", key, body))
		require.Equal(t, 1, e.countBots(u))
	})

	each("NullDefaultsAndAbsenceAreOneRequest", func(t *testing.T, e *env, u user, key string) {
		bare := map[string]any{"url": "https://hooks.example.com/bare", "events": []string{"*"}}
		first := first(t, e, u, "/api/v1/webhooks", key, bare)
		spelled := map[string]any{"url": "https://hooks.example.com/bare", "events": []string{"*"}, "description": nil, "enabled": true}
		requireReplay(t, first, e.postWithKey(u, "/api/v1/webhooks", key, spelled))
		described := map[string]any{"url": "https://hooks.example.com/bare", "events": []string{"*"}, "description": ""}
		p := e.postWithKey(u, "/api/v1/webhooks", key, described).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, "/problems/idempotency-key-reused", p.Type)
		require.Equal(t, 1, e.countWebhooks(u))
	})

	each("ARetryWhileTheFirstRunsConflicts", func(t *testing.T, e *env, u user, key string) {
		release := e.holdKey(u, "webhook", key)
		p := e.postWithKey(u, "/api/v1/webhooks", key, body).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/idempotency-key-in-use", p.Type)
		release()
		require.Zero(t, e.countWebhooks(u))
		require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/webhooks", key, body).code)
	})

	each("AFailedRequestStoresNothing", func(t *testing.T, e *env, u user, key string) {
		refused := map[string]any{"url": "https://10.0.0.1/hook", "events": []string{"*"}}
		e.postWithKey(u, "/api/v1/webhooks", key, refused).problem(t, http.StatusUnprocessableEntity)
		require.Zero(t, e.countWebhooks(u))
		require.Zero(t, e.count(`SELECT 1 FROM idempotency_keys WHERE user_id = $1`, u.id))
		first(t, e, u, "/api/v1/webhooks", key, body)
	})

	each("ConcurrentRetriesCreateOneWebhook", func(t *testing.T, e *env, u user, key string) {
		e.raceRetries(u, "/api/v1/webhooks", `{"url":"https://hooks.example.com/race","events":["*"]}`, key, 10)
		require.Equal(t, 1, e.countWebhooks(u))
	})
}

// An Idempotency-Key that is empty once unquoted would turn idempotency off without a word:
// a retry would create twice. Every operation that takes the header refuses it.
func TestAnEmptyIdempotencyKeyIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := newUser(t)
	src := e.createBot(owner, map[string]any{"name": "Source"})
	for path, body := range map[string]any{
		"/api/v1/bots":                map[string]any{"name": "Keyless", "model": "gpt-4o"},
		botPath(src.Id, "/duplicate"): map[string]any{},
		"/api/v1/webhooks":            map[string]any{"url": "https://hooks.example.com/keyless", "events": []string{"*"}},
	} {
		for _, lines := range [][]string{{`""`}, {` "" `}, {""}} {
			u := newUser(t)
			res := e.do(request{method: http.MethodPost, path: path, as: &u, body: body, lines: http.Header{"Idempotency-Key": lines}})
			p := res.problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"header:Idempotency-Key"}, fieldsOf(p), "%s %q", path, lines)
			require.Equal(t, `the header parameter "Idempotency-Key" must not be empty, quoted or not; send a fresh key such as a UUID, or no header`, p.Detail)
			require.Zero(t, e.countBots(u), path)
			require.Zero(t, e.countWebhooks(u), path)
		}
	}
}
