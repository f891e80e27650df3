package httpapi

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

// A query on a connection that broke before it (the database restarted or failed over) is a
// 503 the client may retry, not a 500: nothing of it reached the database.
func TestAQueryOnABrokenConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	conn, err := pgx.Connect(context.Background(), dbtest.URL(t))
	require.NoError(t, err)
	require.NoError(t, conn.Close(context.Background()))
	_, err = conn.Exec(context.Background(), "SELECT 1")
	require.Error(t, err)
	require.True(t, unavailable(err), "%v", err)
	require.False(t, unavailable(errors.New("some bug")))
	require.False(t, unavailable(fmt.Errorf("get bot: %w", context.DeadlineExceeded)), "a deadline that expired is no outage")
}
