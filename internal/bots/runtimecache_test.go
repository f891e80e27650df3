package bots

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// A read from the database that raced with a forget does not keep what it read: it may have
// read the bot before the change committed.
func TestARaceWithAForgetKeepsNothing(t *testing.T) {
	t.Parallel()
	c := newRuntimeCache(1 << 20)
	c.listen()
	key := runtimeBotKey{bot: uuid.New(), caller: uuid.New()}
	stale := runtimeBot{found: true, aliases: map[string]int32{"production": 1}}

	mark := c.mark()
	c.forget(key.bot) // the write commits while the read is under way
	c.keepBot(mark, key, stale)
	_, ok := c.bot(key)
	require.False(t, ok)

	mark = c.mark()
	c.keepBot(mark, key, stale)
	got, ok := c.bot(key)
	require.True(t, ok, "without a forget, the read is kept")
	require.Equal(t, stale, got)

	other := runtimeBotKey{bot: key.bot, caller: uuid.New()}
	c.keepBot(c.mark(), other, runtimeBot{})
	c.forget(key.bot)
	_, ok = c.bot(key)
	require.False(t, ok, "a forget drops the bot for every caller")
	_, ok = c.bot(other)
	require.False(t, ok)
}

// A public bot read by many callers keeps at most maxCallersPerBot of them.
func TestABotKeepsABoundedNumberOfCallers(t *testing.T) {
	t.Parallel()
	c := newRuntimeCache(1 << 20)
	c.listen()
	bot := uuid.New()
	for range maxCallersPerBot + 10 {
		c.keepBot(c.mark(), runtimeBotKey{bot: bot, caller: uuid.New()}, runtimeBot{found: true})
	}
	m, ok := c.bots.get(bot)
	require.True(t, ok)
	require.Len(t, m, maxCallersPerBot)
}

// The cache holds what its budget allows, in bytes, and lets the least recently read go.
func TestTheRuntimeCacheKeepsToItsBudget(t *testing.T) {
	t.Parallel()
	l := newWeightedLRU[int](1000, func(s string) int { return len(s) })
	put := func(k int, v string) {
		l.update(k, func(string, bool) (string, bool) { return v, true })
	}
	for k := range 10 {
		put(k, string(make([]byte, 100)))
	}
	entries, bytes := l.size()
	require.Equal(t, 10, entries)
	require.Equal(t, 1000, bytes)

	_, ok := l.get(0) // read: no longer the least recently used
	require.True(t, ok)
	put(10, string(make([]byte, 250))) // three must go: 1, 2 and 3
	for _, gone := range []int{1, 2, 3} {
		_, ok := l.get(gone)
		require.False(t, ok, gone)
	}
	_, ok = l.get(0)
	require.True(t, ok)
	entries, bytes = l.size()
	require.Equal(t, 8, entries)
	require.Equal(t, 950, bytes)

	put(10, "short") // replaced: its old size is given back
	_, bytes = l.size()
	require.Equal(t, 705, bytes)
	l.remove(10)
	_, bytes = l.size()
	require.Equal(t, 700, bytes)
	l.purge()
	entries, bytes = l.size()
	require.Zero(t, entries)
	require.Zero(t, bytes)

	put(1, string(make([]byte, 2000))) // larger than the budget: not kept
	entries, bytes = l.size()
	require.Zero(t, entries)
	require.Zero(t, bytes)
}
