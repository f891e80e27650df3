package client_test

import (
	"iter"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/ssetest"
)

// transition is what a test asserts of a status event.
type transition struct{ from, to client.Status }

func TestWatchStatus(t *testing.T) {
	t.Parallel()
	srv := startServerWithWorkers(t)

	t.Run("SeesANewBotBecomeActive", func(t *testing.T) {
		t.Parallel()
		c, bot := newBot(t, srv.URL, client.CreateParams{Name: "Watched", Model: "gpt-4o-mini"})
		// The stream starts with the latest event: the creation, or the end of training when
		// the worker was quicker than the watch.
		var last client.StatusEvent
		for e, err := range c.WatchStatus(ctx(t), bot.ID) {
			require.NoError(t, err)
			require.Equal(t, bot.ID, e.BotID)
			require.Greater(t, e.ID, last.ID)
			last = e
			if e.To != client.StatusTraining {
				break
			}
		}
		require.Equal(t, transition{client.StatusTraining, client.StatusActive}, transition{last.From, last.To})
	})

	t.Run("ResumesAfterADroppedConnectionWithoutMissingOrRepeating", func(t *testing.T) {
		t.Parallel()
		seen, p := watchRetrained(t, srv, cutThenAway(srv.URL, 1))
		var got []transition
		for i, e := range seen {
			got = append(got, transition{e.From, e.To})
			if i > 0 {
				require.Greater(t, e.ID, seen[i-1].ID, "no event is seen twice")
			}
		}
		require.Equal(t, retrained, got)

		p.mu.Lock()
		streams := p.requests(http.MethodGet)
		p.mu.Unlock()
		require.Len(t, streams, 2, "one reconnect")
		require.Empty(t, streams[0].Header.Get("Last-Event-ID"))
		require.Equal(t, strconv.FormatInt(seen[0].ID, 10), streams[1].Header.Get("Last-Event-ID"))
	})

	t.Run("ResumesAfterTheServiceIsAwayForMoreTriesThanTheAttempts", func(t *testing.T) {
		t.Parallel()
		// The next three reconnects find nobody: more tries than the two attempts, well
		// within the budget.
		seen, _ := watchRetrained(t, srv, cutThenAway(srv.URL, 4), client.WithRetry(2, time.Minute))
		var got []transition
		for _, e := range seen {
			got = append(got, transition{e.From, e.To})
		}
		require.Equal(t, retrained, got)
	})

	t.Run("AServiceAwayForTheWholeBudgetEndsTheWatchWithErrUnreachable", func(t *testing.T) {
		t.Parallel()
		tok, _, bot := newUserBot(t, srv, "Abandoned")
		p := newProxy(t, srv.URL, http.MethodGet, cutThenAway(srv.URL, math.MaxInt))
		proxied, err := client.New(p.URL, tok, client.WithRetry(client.DefaultAttempts, 300*time.Millisecond))
		require.NoError(t, err)
		requireOneEventThenUnreachable(t, proxied.WatchStatus(ctx(t), bot.ID))
	})

	t.Run("ADeletedBotEndsTheWatchWithErrGone", func(t *testing.T) {
		t.Parallel()
		c, bot := newBot(t, srv.URL, client.CreateParams{Name: "Deleted", Model: "gpt-4o-mini"})
		events, errs := 0, []error{}
		for _, err := range c.WatchStatus(ctx(t), bot.ID) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			events++
			if events == 1 {
				require.NoError(t, c.Delete(ctx(t), bot.ID, ""))
			}
		}
		require.Len(t, errs, 1, "the error is the last value")
		require.ErrorIs(t, errs[0], client.ErrGone)
	})

	t.Run("ABotTheCallerCannotSeeIsAProblem", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv.URL)
		var errs []error
		for _, err := range c.WatchStatus(ctx(t), uuid.New()) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		var p *client.Problem
		require.ErrorAs(t, errs[0], &p)
		require.Equal(t, http.StatusNotFound, p.Status)
	})
}

// requireOneEventThenUnreachable ranges over a watch and requires that it yields one event,
// then an error that matches ErrUnreachable as its last value.
func requireOneEventThenUnreachable(t *testing.T, watch iter.Seq2[client.StatusEvent, error]) {
	t.Helper()
	var events int
	var errs []error
	for _, err := range watch {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		events++
	}
	require.Equal(t, 1, events)
	require.Len(t, errs, 1, "the error is the last value")
	require.ErrorIs(t, errs[0], client.ErrUnreachable)
}

// waitActive watches the bot id until training made it active.
func waitActive(t *testing.T, c *client.Client, id uuid.UUID) {
	t.Helper()
	for e, err := range c.WatchStatus(ctx(t), id) {
		require.NoError(t, err)
		if e.To == client.StatusActive {
			return
		}
	}
}

// retrained is what a watch of an active bot that is trained again sees.
var retrained = []transition{
	{client.StatusTraining, client.StatusActive},
	{client.StatusActive, client.StatusTraining},
	{client.StatusTraining, client.StatusActive},
}

// watchRetrained watches an active bot of a new user through a proxy with handle, trains it
// again once the watch saw its first event (while handle may have cut the stream), and
// returns every event the watch saw until the bot is active again, and the proxy.
func watchRetrained(t *testing.T, srv *server, handle rule, opts ...client.Option) ([]client.StatusEvent, *proxy) {
	t.Helper()
	tok, direct, bot := newUserBot(t, srv, "Resumed")
	waitActive(t, direct, bot.ID)

	p := newProxy(t, srv.URL, http.MethodGet, handle)
	proxied, err := client.New(p.URL, tok, opts...)
	require.NoError(t, err)
	var seen []client.StatusEvent
	for e, err := range proxied.WatchStatus(ctx(t), bot.ID) {
		require.NoError(t, err)
		seen = append(seen, e)
		if len(seen) == 1 {
			// Changed while the stream is cut: the resumed stream must bring both changes.
			_, err := direct.Train(ctx(t), bot.ID)
			require.NoError(t, err)
		}
		if len(seen) > 1 && e.To == client.StatusActive {
			break // trained again
		}
	}
	return seen, p
}

// newUserBot creates a bot named name on gpt-4o-mini for a new user of srv, and returns the
// user's token and a client that calls srv directly, for a test that also goes through a
// proxy as that user.
func newUserBot(t *testing.T, srv *server, name string) (string, *client.Client, client.Bot) {
	t.Helper()
	tok := token(t)
	direct, err := client.New(srv.URL, tok)
	require.NoError(t, err)
	bot, err := direct.Create(ctx(t), client.CreateParams{Name: name, Model: "gpt-4o-mini"})
	require.NoError(t, err)
	return tok, direct, bot
}

// cutThenAway is a proxy rule that cuts the first stream after its first event (see
// cutAfterFirstEvent), and then closes the connection of every request up to the until-th
// without an answer, as a service that is away; later requests pass.
func cutThenAway(target string, until int) rule {
	cut := cutAfterFirstEvent(target)
	return func(n int, w http.ResponseWriter, r *http.Request, fwd http.Handler) bool {
		if n >= 2 && n <= until {
			panic(http.ErrAbortHandler)
		}
		return cut(n, w, r, fwd)
	}
}

// cutAfterFirstEvent is a proxy rule that forwards the first request to the server at target
// but cuts the connection after the first event of its answer, as a dropped network would.
func cutAfterFirstEvent(target string) rule {
	return func(n int, w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
		if n != 1 {
			return false
		}
		ssetest.ForwardFirstEvent(w, r, target)
		panic(http.ErrAbortHandler)
	}
}
