package bots_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// The users a process remembers are bounded, however many come by: the least recently seen
// are forgotten, and a forgotten user who comes back is ensured again.
func TestKnownUsersAreBounded(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	s := bots.NewService(pool, nil)

	// The same structure with a small bound, so that many more users than it holds are cheap.
	const bound = 50
	s.SetKnownUsersBound(bound)

	users := make([]uuid.UUID, 20*bound)
	for i := range users {
		users[i] = uuid.New()
		require.NoError(t, s.EnsureUser(t.Context(), users[i]))
		require.LessOrEqual(t, s.KnownUsers().Len(), bound)
	}
	require.Equal(t, bound, s.KnownUsers().Len())
	require.False(t, s.KnownUsers().Contains(users[0]), "the first user is forgotten")
	require.True(t, s.KnownUsers().Contains(users[len(users)-1]), "the last user is remembered")

	// A user seen again is remembered again; their row was there all along.
	require.NoError(t, s.EnsureUser(t.Context(), users[0]))
	require.True(t, s.KnownUsers().Contains(users[0]))
	var rows int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM users").Scan(&rows))
	require.Equal(t, len(users), rows)
}
