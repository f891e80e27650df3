package bots

import (
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
)

// runtimeCache keeps in memory what the runtime read path (RuntimeConfig) reads: active
// versions, which never change, and per bot and caller what a read depends on (whether the
// caller may see the bot, its latest active version, its aliases), which changes.
//
// What changes is forgotten, bot by bot: by this process right after each of its writes
// commits (so a replica reads its own writes), and by every process when the database
// announces the bot on the bot_config channel (statusfeed delivers it here). A read that
// raced with a forget does not keep what it read: mark and keepBot compare a counter of
// forgets. While the notification feed is down, forgets could be missed, so the cache is
// emptied and bypassed until the feed listens again (and emptied once more then).
type runtimeCache struct {
	// size bounds each of the two caches, in entries; 0 turns the cache off.
	size     int
	versions *lru.Cache[versionKey, runtimeVersion]
	bots     *lru.Cache[uuid.UUID, *botEntries]

	// forgets counts the forgets; listening says whether the feed is up.
	forgets   atomic.Uint64
	listening atomic.Bool

	hits, misses atomic.Uint64
}

type versionKey struct {
	bot    uuid.UUID
	number int32
}

type runtimeBotKey struct {
	bot, caller uuid.UUID
}

// botEntries holds one bot's entries, by caller: a public bot is read by many. It is removed
// as a whole when the bot is forgotten.
type botEntries struct {
	mu       sync.Mutex
	byCaller map[uuid.UUID]runtimeBot
}

// maxCallersPerBot bounds the callers kept per bot, so that a public bot read by everyone
// costs a bounded amount of memory; further callers read from the database.
const maxCallersPerBot = 64

func newRuntimeCache(size int) *runtimeCache {
	c := &runtimeCache{size: size}
	if size > 0 {
		var err error
		if c.versions, err = lru.New[versionKey, runtimeVersion](size); err != nil {
			panic(err) // only for a size that is not positive
		}
		if c.bots, err = lru.New[uuid.UUID, *botEntries](size); err != nil {
			panic(err)
		}
	}
	return c
}

// on reports whether reads may use the cache.
func (c *runtimeCache) on() bool { return c.size > 0 && c.listening.Load() }

func (c *runtimeCache) count(hit bool) {
	if hit {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
}

func (c *runtimeCache) bot(key runtimeBotKey) (runtimeBot, bool) {
	if !c.on() {
		return runtimeBot{}, false
	}
	var (
		b  runtimeBot
		ok bool
	)
	if e, found := c.bots.Get(key.bot); found {
		e.mu.Lock()
		b, ok = e.byCaller[key.caller]
		e.mu.Unlock()
	}
	c.count(ok)
	return b, ok
}

// mark is taken before a read from the database; keepBot keeps what the read found only if
// nothing was forgotten since.
func (c *runtimeCache) mark() uint64 { return c.forgets.Load() }

func (c *runtimeCache) keepBot(mark uint64, key runtimeBotKey, b runtimeBot) {
	if !c.on() {
		return
	}
	fresh := &botEntries{byCaller: map[uuid.UUID]runtimeBot{}}
	e, found, _ := c.bots.PeekOrAdd(key.bot, fresh)
	if !found {
		e = fresh
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Checked under the entry's lock, after the entry is in the cache: a forget either came
	// before (and the mark shows it) or removes this entry after.
	if c.forgets.Load() != mark || len(e.byCaller) >= maxCallersPerBot {
		return
	}
	e.byCaller[key.caller] = b
}

func (c *runtimeCache) version(key versionKey) (runtimeVersion, bool) {
	if !c.on() {
		return runtimeVersion{}, false
	}
	v, ok := c.versions.Get(key)
	c.count(ok)
	return v, ok
}

func (c *runtimeCache) keepVersion(key versionKey, v runtimeVersion) {
	if c.on() {
		c.versions.Add(key, v)
	}
}

// forget drops what the cache holds of a bot that changed; it is called after the change
// committed.
func (c *runtimeCache) forget(bot uuid.UUID) {
	if c.size == 0 {
		return
	}
	c.forgets.Add(1)
	c.bots.Remove(bot)
}

// lost is called when the notification feed's connection is down: forgets may be missed
// until it is back, so nothing is served from or kept in the cache meanwhile.
func (c *runtimeCache) lost() {
	if c.size == 0 {
		return
	}
	c.listening.Store(false)
	c.forgets.Add(1)
	c.bots.Purge()
}

// listen is called once the feed listens again: anything may have changed meanwhile.
func (c *runtimeCache) listen() {
	if c.size == 0 {
		return
	}
	c.forgets.Add(1)
	c.bots.Purge()
	c.listening.Store(true)
}
