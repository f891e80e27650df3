package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestSlots(t *testing.T) {
	t.Parallel()

	t.Run("AUserHoldsAtMostMaxAndOthersAreNotHeldBack", func(t *testing.T) {
		t.Parallel()
		s := newSlots(2)
		a, b := uuid.New(), uuid.New()
		ctx := context.Background()
		require.NoError(t, s.acquire(ctx, a, time.Millisecond))
		require.NoError(t, s.acquire(ctx, a, time.Millisecond))
		require.ErrorIs(t, s.acquire(ctx, a, time.Millisecond), errNoSlot)
		require.NoError(t, s.acquire(ctx, b, time.Millisecond))
		s.release(a)
		require.NoError(t, s.acquire(ctx, a, time.Millisecond), "the slot came back")
	})

	t.Run("AWaitingRequestTakesTheSlotThatComesFree", func(t *testing.T) {
		t.Parallel()
		s := newSlots(1)
		u := uuid.New()
		require.NoError(t, s.acquire(context.Background(), u, 0))
		got := make(chan error, 1)
		go func() { got <- s.acquire(context.Background(), u, time.Minute) }()
		s.release(u)
		require.NoError(t, <-got)
	})

	t.Run("AWaitEndsWithItsRequest", func(t *testing.T) {
		t.Parallel()
		s := newSlots(1)
		u := uuid.New()
		require.NoError(t, s.acquire(context.Background(), u, 0))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, s.acquire(ctx, u, time.Minute), context.Canceled)
	})

	t.Run("NoUserIsTrackedOnceTheirRequestsEnd", func(t *testing.T) {
		t.Parallel()
		s := newSlots(1)
		users := make([]uuid.UUID, 1000)
		for i := range users {
			users[i] = uuid.New()
			require.NoError(t, s.acquire(context.Background(), users[i], 0))
		}
		// Refused requests leave nothing behind either.
		require.ErrorIs(t, s.acquire(context.Background(), users[0], 0), errNoSlot)
		require.Len(t, s.users, len(users))
		for _, u := range users {
			s.release(u)
		}
		require.Empty(t, s.users)
	})
}
