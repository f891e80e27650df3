// Package statusfeed wakes up this process's status streams when a bot's status changes in
// any process, or when a change may have taken a caller's access to the bot away (a delete, a
// public bot made private). One connection LISTENs on the bot_status channel that the
// database's triggers notify at commit, and fans the notifications out in memory, so that
// idle streams hold no database connection.
//
// A notification only says "this bot changed": streams read the changes themselves from the
// status history, scoped to their caller, so none is lost when notifications are coalesced or
// the connection drops, and a stream whose caller may no longer see the bot ends.
//
// The same connection LISTENs on the bot_config channel for the runtime read path's cache
// (see Forgetter): a bot announced there is forgotten, and the cache is told when the
// connection is lost and when it listens again.
package statusfeed

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
)

// Channel is the PostgreSQL notification channel of status and access changes.
const Channel = "bot_status"

// ConfigChannel is the PostgreSQL notification channel of the changes that the runtime read
// path caches: a bot's visibility, aliases and active versions. The payload is the bot's id.
const ConfigChannel = "bot_config"

// Forgetter is the runtime read path's cache (bots.Service).
type Forgetter interface {
	// ForgetConfig drops what the cache holds of a bot that changed.
	ForgetConfig(bot uuid.UUID)
	// ConfigFeedLost says that changes may be missed from now on.
	ConfigFeedLost()
	// ConfigFeedListening says that the feed listens (again): anything may have changed.
	ConfigFeedListening()
}

// Feed dispatches status change notifications to subscribers by bot.
type Feed struct {
	listener pgxlisten.Listener
	logger   *slog.Logger
	cache    Forgetter

	mu   sync.Mutex
	subs map[uuid.UUID]map[chan struct{}]struct{}
}

// New returns a Feed that listens on connections made by connect and keeps cache, when it
// is not nil, told of configuration changes.
func New(connect func(context.Context) (*pgx.Conn, error), logger *slog.Logger, cache Forgetter) *Feed {
	f := &Feed{logger: logger, cache: cache, subs: make(map[uuid.UUID]map[chan struct{}]struct{})}
	f.listener = pgxlisten.Listener{
		Connect: connect,
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() != nil {
				return // Run's context ended: the feed is stopping, not failing
			}
			if cache != nil && !errors.As(err, new(handlerError)) {
				// Anything but a handler's error ends the connection: the listener connects
				// again after ReconnectDelay.
				cache.ConfigFeedLost()
			}
			logger.LogAttrs(ctx, slog.LevelWarn, "status feed", slog.String("error", err.Error()))
		},
		ReconnectDelay: time.Second,
	}
	f.listener.Handle(Channel, f)
	if cache != nil {
		f.listener.Handle(ConfigChannel, configHandler{cache})
	}
	return f
}

// handlerError is an error of a notification handler, which does not end the connection.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// configHandler passes bot_config notifications on to the cache.
type configHandler struct{ cache Forgetter }

// HandleNotification implements pgxlisten.Handler.
func (h configHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	bot, err := uuid.Parse(n.Payload)
	if err != nil {
		return handlerError{err}
	}
	h.cache.ForgetConfig(bot)
	return nil
}

// HandleBacklog implements pgxlisten.BacklogHandler: the channel is listened to (again).
func (h configHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h.cache.ConfigFeedListening()
	return nil
}

// Run listens until ctx ends, reconnecting after connection losses.
func (f *Feed) Run(ctx context.Context) error {
	return f.listener.Listen(ctx)
}

// Subscribe returns a channel that receives a signal whenever the bot's status may have
// changed, and a function that ends the subscription. Signals are coalesced: one pending
// signal stands for any number of changes.
func (f *Feed) Subscribe(bot uuid.UUID) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	if f.subs[bot] == nil {
		f.subs[bot] = make(map[chan struct{}]struct{})
	}
	f.subs[bot][ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs[bot], ch)
		if len(f.subs[bot]) == 0 {
			delete(f.subs, bot)
		}
		f.mu.Unlock()
	}
}

// Subscribers returns how many subscriptions are open.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.subs {
		n += len(s)
	}
	return n
}

// HandleNotification implements pgxlisten.Handler.
func (f *Feed) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	var payload struct {
		BotID uuid.UUID `json:"bot_id"`
	}
	if err := json.Unmarshal([]byte(n.Payload), &payload); err != nil {
		return handlerError{err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs[payload.BotID] {
		signal(ch)
	}
	return nil
}

// HandleBacklog implements pgxlisten.BacklogHandler: after a (re)connection, changes may have
// been missed, so every subscriber looks again.
func (f *Feed) HandleBacklog(context.Context, string, *pgx.Conn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, subs := range f.subs {
		for ch := range subs {
			signal(ch)
		}
	}
	return nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
