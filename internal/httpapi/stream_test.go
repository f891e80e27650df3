package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/httpapi"
)

// sse is one event or comment read from a status stream.
type sse struct {
	id, event, data, comment string
}

// openStream starts a status stream over real HTTP and returns its events as they come.
func openStream(t *testing.T, srv *httptest.Server, u user, id uuid.UUID, header map[string]string) (*http.Response, <-chan sse, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+botPath(id, "/status/stream"), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+u.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	events := make(chan sse, 100)
	go func() {
		defer close(events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				events <- cur
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				cur.comment = strings.TrimSpace(strings.TrimPrefix(line, ":"))
			case strings.HasPrefix(line, "id: "):
				cur.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				cur.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				cur.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(cancel)
	return res, events, cancel
}

// nextEvent reads events until one that match accepts, and returns it; the test fails if the
// stream ends first, or if none comes in the time waitUntil gives.
func nextEvent(t *testing.T, events <-chan sse, what string, match func(sse) bool) sse {
	t.Helper()
	var got sse
	waitUntil(t, what, func() bool {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the stream ended before %s", what)
			got = ev
			return match(ev)
		default:
			return false
		}
	})
	return got
}

// nextStatus returns the next status event, skipping heartbeats.
func nextStatus(t *testing.T, events <-chan sse) (sse, api.StatusEvent) {
	t.Helper()
	ev := nextEvent(t, events, "a status event comes", func(ev sse) bool { return ev.comment == "" })
	var se api.StatusEvent
	if ev.event == "status" {
		require.NoError(t, json.Unmarshal([]byte(ev.data), &se))
	}
	return ev, se
}

// watch opens a status stream of bot for u and reads its first event, the current status.
// It returns the events that follow and what closes the stream.
func watch(t *testing.T, srv *httptest.Server, u user, bot uuid.UUID) (<-chan sse, context.CancelFunc) {
	t.Helper()
	res, events, cancel := openStream(t, srv, u, bot, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	nextStatus(t, events)
	return events, cancel
}

// setupStream gives a stream test its own server, served over real HTTP, and a bot made of
// body for a new user.
func setupStream(t *testing.T, body map[string]any) (*env, *httptest.Server, user, api.BotResponse) {
	t.Helper()
	e, u, bot := setupBot(t, body)
	return e, e.listen(), u, bot
}

func TestStatusStreamSendsTheCurrentStatusThenEveryChange(t *testing.T) {
	t.Parallel()
	e, srv, owner, bot := setupStream(t, map[string]any{"name": "Watched", "is_public": true})
	viewer := newUser(t)

	res, events, _ := openStream(t, srv, viewer, bot.Id, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	first, ev := nextStatus(t, events)
	require.Equal(t, "status", first.event)
	require.Equal(t, api.BotStatusTraining, ev.ToStatus)
	require.False(t, ev.FromStatus.IsSpecified() && !ev.FromStatus.IsNull())

	// A change committed by anyone, here straight in the database as a worker in another
	// process would, reaches the stream through LISTEN/NOTIFY.
	_, err := e.pool.Exec(context.Background(),
		"UPDATE bots SET status = 'error', status_message = 'prompt too long' WHERE id = $1", bot.Id)
	require.NoError(t, err)
	second, ev := nextStatus(t, events)
	require.Equal(t, api.BotStatusError, ev.ToStatus)
	from, err := ev.FromStatus.Get()
	require.NoError(t, err)
	require.Equal(t, api.StatusEventFromStatusTraining, from)
	msg, err := ev.Message.Get()
	require.NoError(t, err)
	require.Equal(t, "prompt too long", msg)
	require.Greater(t, second.id, "")
	require.NotEqual(t, first.id, second.id)

	// Retraining through the API is the next event.
	require.Equal(t, http.StatusAccepted, e.post(owner, botPath(bot.Id, "/train"), nil).code)
	_, ev = nextStatus(t, events)
	require.Equal(t, api.BotStatusTraining, ev.ToStatus)
}

func TestStatusStreamSendsHeartbeats(t *testing.T) {
	t.Parallel()
	_, srv, u, bot := setupStream(t, map[string]any{"name": "Quiet"})
	events, _ := watch(t, srv, u, bot.Id)
	nextEvent(t, events, "a heartbeat comes", func(ev sse) bool { return ev.comment == "heartbeat" })
}

func TestStatusStreamResumesAfterLastEventID(t *testing.T) {
	t.Parallel()
	e, srv, u, bot := setupStream(t, map[string]any{"name": "Resumed"})
	_, events, cancel := openStream(t, srv, u, bot.Id, nil)
	first, _ := nextStatus(t, events)
	cancel()

	// Two changes while disconnected.
	e.activate(bot.Id)
	require.Equal(t, http.StatusAccepted, e.post(u, botPath(bot.Id, "/train"), nil).code)

	_, events, _ = openStream(t, srv, u, bot.Id, map[string]string{"Last-Event-ID": first.id})
	_, ev := nextStatus(t, events)
	require.Equal(t, api.BotStatusActive, ev.ToStatus)
	_, ev = nextStatus(t, events)
	require.Equal(t, api.BotStatusTraining, ev.ToStatus)
}

func TestStatusStreamSendsEveryMissedEventAfterLastEventID(t *testing.T) {
	t.Parallel()
	e, srv, u, bot := setupStream(t, map[string]any{"name": "Busy"})
	// 249 changes after the first status, the last to active: 250 events, more than two
	// pages of catching up.
	_, err := e.pool.Exec(context.Background(), `DO $$ BEGIN
		FOR i IN 1..249 LOOP
			UPDATE bots SET status = CASE status WHEN 'training' THEN 'active' ELSE 'training' END::bot_status
			WHERE id = '`+bot.Id.String()+`';
		END LOOP;
	END $$`)
	require.NoError(t, err)

	_, events, _ := openStream(t, srv, u, bot.Id, map[string]string{"Last-Event-ID": "0"})
	var last int64
	for i := range 250 {
		ev, se := nextStatus(t, events)
		require.Equal(t, "status", ev.event, "event %d", i)
		require.Greater(t, se.Id, last, "events come in order, each once")
		last = se.Id
	}

	// The stream is live after catching up: the next change follows.
	require.Equal(t, http.StatusAccepted, e.post(u, botPath(bot.Id, "/train"), nil).code)
	_, se := nextStatus(t, events)
	require.Greater(t, se.Id, last)
	require.Equal(t, api.BotStatusTraining, se.ToStatus)
}

// replicaDrill is the setting of the replica tests: two servers, a and b, on one database,
// each with its own status feed as two processes behind a load balancer would have, allowing
// one stream per user. The owner and a viewer each watch the owner's public bot on b, and
// other is another public bot of the owner's.
type replicaDrill struct {
	a, b                      *env
	srvB                      *httptest.Server
	owner, viewer             user
	bot, other                api.BotResponse
	ownerEvents, viewerEvents <-chan sse
}

func newReplicaDrill(t *testing.T, botName, otherName string) replicaDrill {
	t.Helper()
	url := dbtest.URL(t)
	limits := httpapi.Limits{StreamsPerUser: 1}
	d := replicaDrill{
		a:     setupWith(t, envConfig{databaseURL: url, limits: limits}),
		b:     setupWith(t, envConfig{databaseURL: url, limits: limits}),
		owner: newUser(t), viewer: newUser(t),
	}
	d.srvB = d.b.listen()
	d.bot = d.a.createBot(d.owner, map[string]any{"name": botName, "is_public": true})
	d.other = d.a.createBot(d.owner, map[string]any{"name": otherName, "is_public": true})
	d.ownerEvents, _ = watch(t, d.srvB, d.owner, d.bot.Id)
	d.viewerEvents, _ = watch(t, d.srvB, d.viewer, d.bot.Id)
	return d
}

// requireGone reads a stream until its gone event for bot, and then until the stream ends.
func requireGone(t *testing.T, events <-chan sse, bot uuid.UUID) {
	t.Helper()
	ev, _ := nextStatus(t, events)
	require.Equal(t, "gone", ev.event)
	require.JSONEq(t, `{"bot_id":"`+bot.String()+`"}`, ev.data)
	for ev := range events {
		require.NotEmpty(t, ev.comment, "nothing but heartbeats may follow the gone event: %+v", ev)
	}
}

// requireStreamSlot waits until u may open a stream on srv again, which the end of an
// earlier stream allows when u held all of its slots.
func requireStreamSlot(t *testing.T, srv *httptest.Server, u user, bot uuid.UUID) {
	t.Helper()
	waitUntil(t, "a stream slot is free", func() bool {
		res, events, cancel := openStream(t, srv, u, bot, nil)
		defer cancel()
		if res.StatusCode == http.StatusOK {
			nextStatus(t, events)
			return true
		}
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
		return false
	})
}

func TestStatusStreamOnAnotherReplicaEndsWhenTheBotIsDeleted(t *testing.T) {
	t.Parallel()
	d := newReplicaDrill(t, "Deleted elsewhere", "Still here")
	// Each holds the one stream a user may hold here.
	d.b.get(d.owner, botPath(d.other.Id, "/status/stream")).problem(t, http.StatusTooManyRequests)

	require.Equal(t, http.StatusOK, d.a.delete(d.owner, botPath(d.bot.Id), map[string]string{"If-Match": "*"}).code)
	requireGone(t, d.ownerEvents, d.bot.Id)
	requireGone(t, d.viewerEvents, d.bot.Id)

	requireStreamSlot(t, d.srvB, d.owner, d.other.Id)
	requireStreamSlot(t, d.srvB, d.viewer, d.other.Id)
}

func TestStatusStreamOnAnotherReplicaEndsForViewersWhenTheBotIsMadePrivate(t *testing.T) {
	t.Parallel()
	d := newReplicaDrill(t, "Going private", "Staying public")
	d.b.get(d.viewer, botPath(d.other.Id, "/status/stream")).problem(t, http.StatusTooManyRequests)

	require.Equal(t, http.StatusOK, d.a.put(d.owner, botPath(d.bot.Id), map[string]any{"is_public": false}, nil).code)
	requireGone(t, d.viewerEvents, d.bot.Id)
	requireStreamSlot(t, d.srvB, d.viewer, d.other.Id)

	// The owner still sees the bot: the stream goes on with the next change.
	d.a.activate(d.bot.Id)
	ev, se := nextStatus(t, d.ownerEvents)
	require.Equal(t, "status", ev.event)
	require.Equal(t, api.BotStatusActive, se.ToStatus)
}

func TestStatusStreamOfABotTheCallerCannotSeeIsNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, other := newUser(t), newUser(t)
	bot := e.createBot(owner, map[string]any{"name": "Private"})
	e.get(other, botPath(bot.Id, "/status/stream")).problem(t, http.StatusNotFound)
	e.get(owner, botPath(uuid.New(), "/status/stream")).problem(t, http.StatusNotFound)
	e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/status/stream")}).problem(t, http.StatusUnauthorized)

	public := e.createBot(owner, map[string]any{"name": "Public then deleted", "is_public": true})
	require.Equal(t, http.StatusOK, e.delete(owner, botPath(public.Id), map[string]string{"If-Match": "*"}).code)
	for _, u := range []user{owner, other} {
		e.get(u, botPath(public.Id, "/status/stream")).problem(t, http.StatusNotFound)
	}
}

func TestClosingAStreamFreesItsSubscription(t *testing.T) {
	t.Parallel()
	e, srv, _, bot := setupStream(t, map[string]any{"name": "Short visit", "is_public": true})

	// Four viewers with five streams each, the most one user may hold.
	const streams = 20
	cancels := make([]context.CancelFunc, streams)
	viewers := []user{newUser(t), newUser(t), newUser(t), newUser(t)}
	for i := range cancels {
		_, cancels[i] = watch(t, srv, viewers[i%len(viewers)], bot.Id)
	}
	require.Equal(t, streams, e.feed.Subscribers())
	// Idle streams hold no database connection: the pool is not even near one per stream.
	require.Less(t, int(e.pool.Stat().AcquiredConns()), streams)

	for _, cancel := range cancels {
		cancel()
	}
	waitUntil(t, "no stream is subscribed", func() bool { return e.feed.Subscribers() == 0 })
}

func TestAUserMayHoldOnlySoManyStreams(t *testing.T) {
	t.Parallel()
	e, srv, u, bot := setupStream(t, map[string]any{"name": "Popular", "is_public": true})

	cancels := make([]context.CancelFunc, config.DefaultLimits().StreamsPerUser)
	for i := range cancels {
		_, cancels[i] = watch(t, srv, u, bot.Id)
	}
	p := e.get(u, botPath(bot.Id, "/status/stream")).problem(t, http.StatusTooManyRequests)
	require.Equal(t, "/problems/too-many-streams", p.Type)
	// Another user is not affected.
	watch(t, srv, newUser(t), bot.Id)

	// Closing one stream frees its slot.
	cancels[0]()
	requireStreamSlot(t, srv, u, bot.Id)
}
