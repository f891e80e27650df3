package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/httpapi"
	"github.com/chatsphere/bots/internal/training"
)

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
