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
	c := newRuntimeCache(10)
	c.listen()
	key := runtimeBotKey{bot: uuid.New(), caller: uuid.New()}
	stale := runtimeBot{found: true, latestActive: 1}

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
	c := newRuntimeCache(10)
	c.listen()
	bot := uuid.New()
	for range maxCallersPerBot + 10 {
		c.keepBot(c.mark(), runtimeBotKey{bot: bot, caller: uuid.New()}, runtimeBot{found: true})
	}
	e, ok := c.bots.Peek(bot)
	require.True(t, ok)
	require.Len(t, e.byCaller, maxCallersPerBot)
}
