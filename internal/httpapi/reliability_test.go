package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/peterldowns/pgtestdb"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/httpapi"
	"github.com/chatsphere/bots/internal/migrate"
	"github.com/chatsphere/bots/internal/training"
)

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

func TestWritesAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{limits: httpapi.Limits{WriteRate: 0.5, WriteBurst: 3}})
	u := newUser(t)
	for i := range 3 {
		e.createBot(u, map[string]any{"name": "Burst " + strconv.Itoa(i)})
	}
	res := e.post(u, "/api/v1/bots", map[string]any{"name": "One too many", "model": "gpt-4o"})
	p := res.problem(t, http.StatusTooManyRequests)
	require.Equal(t, "/problems/rate-limited", p.Type)
	wait, err := strconv.Atoi(res.header.Get("Retry-After"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, wait, 1)
	require.Equal(t, 3, e.countBots(u), "the refused write wrote nothing")

	// Reads are not limited, and other users have buckets of their own.
	require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots").code)
	e.createBot(newUser(t), map[string]any{"name": "Someone else"})
}

func TestDeletedBotsArePurgedAfterTheRetention(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	ctx := context.Background()
	old := e.createBot(u, map[string]any{"name": "Long gone"})
	recent := e.createBot(u, map[string]any{"name": "Just deleted"})
	for _, id := range []uuid.UUID{old.Id, recent.Id} {
		require.Equal(t, http.StatusOK, e.delete(u, botPath(id), map[string]string{"If-Match": "*"}).code)
	}
	_, err := e.pool.Exec(ctx, "UPDATE bots SET deleted_at = now() - interval '31 days' WHERE id = $1", old.Id)
	require.NoError(t, err)

	purged, err := e.svc.PurgeDeleted(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(1), purged)
	e.post(u, botPath(old.Id, "/restore"), nil).problem(t, http.StatusNotFound)
	var events int
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM bot_events WHERE bot_id = $1", old.Id).Scan(&events))
	require.Zero(t, events, "the events, the status history among them, go with the bot")
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM bot_events WHERE bot_id = $1", recent.Id).Scan(&events))
	require.NotZero(t, events, "a bot not purged keeps its events")
	require.Equal(t, http.StatusOK, e.post(u, botPath(recent.Id, "/restore"), nil).code, "restore works until the purge")
}

func TestExpiredIdempotencyKeysArePurged(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	ctx := context.Background()
	require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/bots", "old", map[string]any{"name": "A", "model": "gpt-4o"}).code)
	require.Equal(t, http.StatusCreated, e.postWithKey(u, "/api/v1/bots", "new", map[string]any{"name": "B", "model": "gpt-4o"}).code)
	_, err := e.pool.Exec(ctx, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'")
	require.NoError(t, err)
	n, err := e.svc.PurgeIdempotencyKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	var left []string
	rows, err := e.pool.Query(ctx, "SELECT key FROM idempotency_keys")
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		left = append(left, k)
	}
	require.Equal(t, []string{"new"}, left)
}

func TestThePurgeRunsAsAPeriodicJob(t *testing.T) {
	t.Parallel()
	cfg := testTraining
	cfg.DeletedRetention = time.Hour
	cfg.PurgeInterval = time.Hour // it also runs at start
	url := dbtest.URL(t)
	// The bot is deleted before the workers start, so the purge at start finds it.
	seed := setupWith(t, envConfig{databaseURL: url})
	u := newUser(t)
	bot := seed.createBot(u, map[string]any{"name": "Expired"})
	require.Equal(t, http.StatusOK, seed.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"}).code)
	_, err := seed.pool.Exec(context.Background(), "UPDATE bots SET deleted_at = now() - interval '2 hours' WHERE id = $1", bot.Id)
	require.NoError(t, err)

	e := setupWith(t, envConfig{databaseURL: url, trainer: training.CatalogTrainer{}, training: cfg})
	waitUntil(t, "the deleted bot is purged", func() bool {
		var n int
		require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM bots WHERE id = $1", bot.Id).Scan(&n))
		return n == 0
	})
}

// tcpProxy forwards a local port to PostgreSQL and can cut every connection, to simulate
// the database going away and coming back at the same address.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{t: t, addr: ln.Addr().String(), target: target}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection: the database is unreachable.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same address: the database is back.
func (p *tcpProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.serve(ln)
}

func TestTheServiceRidesOutADatabaseOutage(t *testing.T) {
	t.Parallel()
	direct, err := url.Parse(dbtest.URL(t))
	require.NoError(t, err)
	proxy := newTCPProxy(t, direct.Host)
	viaProxy := *direct
	viaProxy.Host = proxy.addr
	e := setupWith(t, envConfig{databaseURL: viaProxy.String()})
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Survivor"})

	proxy.cut()
	start := time.Now()
	for _, res := range []*response{
		e.get(u, botPath(bot.Id)),
		e.post(u, "/api/v1/bots", map[string]any{"name": "During the outage", "model": "gpt-4o"}),
		e.do(request{method: http.MethodGet, path: "/readyz"}),
	} {
		p := res.problem(t, http.StatusServiceUnavailable)
		require.Equal(t, "/problems/unavailable", p.Type)
		require.Equal(t, "1", res.header.Get("Retry-After"))
		require.NotContains(t, string(res.body), "dial")
	}
	t.Logf("three requests failed in %s while the database was away", time.Since(start))
	require.Equal(t, http.StatusOK, e.do(request{method: http.MethodGet, path: "/healthz"}).code, "the process itself is alive")

	proxy.restore()
	waitUntil(t, "the service recovers", func() bool {
		return e.do(request{method: http.MethodGet, path: "/readyz"}).code == http.StatusOK
	})
	require.Equal(t, http.StatusOK, e.get(u, botPath(bot.Id)).code)
	res := e.post(u, "/api/v1/bots", map[string]any{"name": "After the outage", "model": "gpt-4o"})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	var list api.BotList
	e.get(u, "/api/v1/bots").decode(t, &list)
	require.Equal(t, int64(2), list.Total, "nothing was written during the outage")
}
