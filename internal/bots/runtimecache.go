package bots

import (
	"sync/atomic"

	"github.com/google/uuid"
)

// runtimeCache keeps in memory what the runtime read path (RuntimeConfig) reads: active
// versions, which never change, and per bot and caller what a read by alias or number depends
// on (whether the caller may see the bot, its aliases), which changes.
//
// What changes is forgotten, bot by bot: by this process right after each of its writes
// commits (so a replica reads its own writes), and by every process when the database
// announces the bot on the bot_config channel (statusfeed delivers it here). A read that
// raced with a forget does not keep what it read: mark and keepBot compare a counter of
// forgets. While the notification feed is down, forgets could be missed, so the cache is
// emptied and bypassed until the feed listens again (and emptied once more then).
type runtimeCache struct {
	// enabled is false when the cache is off (a budget of 0).
	enabled  bool
	versions *weightedLRU[versionKey, runtimeVersion]
	// bots holds, by bot, what each caller that read it may see; a map is never changed once
	// in the cache (a new caller makes a new map), so readers use it without a lock.
	bots *weightedLRU[uuid.UUID, map[uuid.UUID]runtimeBot]

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

// maxCallersPerBot bounds the callers kept per bot, so that a public bot read by everyone
// costs a bounded amount of memory; further callers read from the database.
const maxCallersPerBot = 64

// The estimated bytes of the cache's entries: the strings and JSON they hold, and what Go's
// maps, strings and slices add around them.
const (
	versionOverhead = 160
	botOverhead     = 120
	callerOverhead  = 110
	aliasOverhead   = 60
)

// newRuntimeCache returns a cache that holds at most about budget bytes: three quarters for
// versions, a quarter for bots.
func newRuntimeCache(budget int) *runtimeCache {
	c := &runtimeCache{enabled: budget > 0}
	c.versions = newWeightedLRU[versionKey](budget/4*3, func(v runtimeVersion) int {
		return versionOverhead + len(v.Model) + len(v.SystemPrompt) + len(v.prepared)
	})
	c.bots = newWeightedLRU[uuid.UUID](budget/4, func(m map[uuid.UUID]runtimeBot) int {
		w := botOverhead
		for _, b := range m {
			w += callerOverhead
			for name := range b.aliases {
				w += aliasOverhead + len(name)
			}
		}
		return w
	})
	return c
}

// on reports whether reads may use the cache.
func (c *runtimeCache) on() bool { return c.enabled && c.listening.Load() }

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
	if m, found := c.bots.get(key.bot); found {
		b, ok = m[key.caller]
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
	c.bots.update(key.bot, func(old map[uuid.UUID]runtimeBot, found bool) (map[uuid.UUID]runtimeBot, bool) {
		// Checked under the cache's lock, which forget takes to remove the bot after
		// counting: a forget either came before (and the mark shows it) or removes this entry
		// after.
		if c.forgets.Load() != mark || len(old) >= maxCallersPerBot {
			return nil, false
		}
		m := make(map[uuid.UUID]runtimeBot, len(old)+1)
		for k, v := range old {
			m[k] = v
		}
		m[key.caller] = b
		return m, true
	})
}

func (c *runtimeCache) version(key versionKey) (runtimeVersion, bool) {
	if !c.on() {
		return runtimeVersion{}, false
	}
	v, ok := c.versions.get(key)
	c.count(ok)
	return v, ok
}

func (c *runtimeCache) keepVersion(key versionKey, v runtimeVersion) {
	if c.on() {
		c.versions.update(key, func(runtimeVersion, bool) (runtimeVersion, bool) { return v, true })
	}
}

// forget drops what the cache holds of a bot that changed; it is called after the change
// committed.
func (c *runtimeCache) forget(bot uuid.UUID) {
	if !c.enabled {
		return
	}
	c.forgets.Add(1)
	c.bots.remove(bot)
}

// lost is called when the notification feed's connection is down: forgets may be missed
// until it is back, so nothing is served from or kept in the cache meanwhile.
func (c *runtimeCache) lost() {
	if !c.enabled {
		return
	}
	c.listening.Store(false)
	c.forgets.Add(1)
	c.bots.purge()
}

// listen is called once the feed listens again: anything may have changed meanwhile.
func (c *runtimeCache) listen() {
	if !c.enabled {
		return
	}
	c.forgets.Add(1)
	c.bots.purge()
	c.listening.Store(true)
}
