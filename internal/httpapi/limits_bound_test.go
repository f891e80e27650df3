package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The write buckets stay within maxTrackedUsers even when many more users than that write
// at once, so that none of their buckets is idle yet.
func TestWriteBucketsAreBoundedUnderManyActiveUsers(t *testing.T) {
	t.Parallel()
	l := newWriteLimiter(10, 20)
	now := time.Now()
	first := uuid.New()
	ok, _ := l.allow(first, now)
	require.True(t, ok)
	for range maxTrackedUsers + 10_000 {
		ok, _ := l.allow(uuid.New(), now)
		require.True(t, ok, "a user's first write is allowed")
	}
	require.LessOrEqual(t, l.tracked(), maxTrackedUsers)
}

// A user who keeps writing keeps their bucket while others come and go: the bound forgets
// the users who wrote least recently.
func TestWriteBucketsForgetTheLeastRecentWriters(t *testing.T) {
	t.Parallel()
	l := newWriteLimiter(1, 2)
	now := time.Now()
	busy := uuid.New()
	for i := range maxTrackedUsers + 1000 {
		if i%1000 == 0 {
			_, _ = l.allow(busy, now)
		}
		_, _ = l.allow(uuid.New(), now)
	}
	// busy has spent more than its burst of 2 at this instant: still limited.
	ok, wait := l.allow(busy, now)
	require.False(t, ok)
	require.Positive(t, wait)
}

// Stream slots are given back: however many users opened and closed streams, none is kept.
func TestStreamCountsHoldOnlyOpenStreams(t *testing.T) {
	t.Parallel()
	c := newStreamCounter(2)
	open := uuid.New()
	require.True(t, c.acquire(open))
	for range 10_000 {
		u := uuid.New()
		require.True(t, c.acquire(u))
		c.release(u)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Equal(t, map[uuid.UUID]int{open: 1}, c.open)
}
