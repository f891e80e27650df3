package client_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

func TestAll(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	// setup returns a client for a new user with n bots named "Bot 0" to "Bot n-1", every
	// second one public.
	setup := func(t *testing.T, n int, opts ...client.Option) (*client.Client, map[uuid.UUID]string) {
		c := newClient(t, srv.URL, opts...)
		made := map[uuid.UUID]string{}
		for i := range n {
			b, err := c.Create(ctx(t), client.CreateParams{Name: fmt.Sprintf("Bot %d", i), Model: "gpt-4o-mini", IsPublic: ptr(i%2 == 0)})
			require.NoError(t, err)
			made[b.ID] = b.Name
		}
		return c, made
	}

	t.Run("EveryBotIsSeenOnceOverSeveralPages", func(t *testing.T) {
		t.Parallel()
		lists := &countingTransport{}
		c, made := setup(t, 7, client.WithHTTPClient(&http.Client{Transport: lists}))
		seen := map[uuid.UUID]int{}
		for b, err := range c.All(ctx(t), client.ListOptions{PageSize: 3}) {
			require.NoError(t, err)
			seen[b.ID]++
			require.Equal(t, made[b.ID], b.Name)
		}
		require.Len(t, seen, 7)
		for id, n := range seen {
			require.Equal(t, 1, n, "bot %s", id)
		}
		require.Equal(t, int64(3), lists.n.Load(), "7 bots by 3 are 3 pages")
	})

	t.Run("FiltersAndSortApply", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, 5)
		var names []string
		for b, err := range c.All(ctx(t), client.ListOptions{IsPublic: ptr(true), Sort: client.SortNameDesc, PageSize: 2}) {
			require.NoError(t, err)
			names = append(names, b.Name)
		}
		require.Equal(t, []string{"Bot 4", "Bot 2", "Bot 0"}, names)
	})

	t.Run("BreakingOutStopsTheIteration", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, 4)
		n := 0
		for _, err := range c.All(ctx(t), client.ListOptions{PageSize: 1}) {
			require.NoError(t, err)
			n++
			if n == 2 {
				break
			}
		}
		require.Equal(t, 2, n)
	})

	t.Run("AnInvalidOptionIsYieldedOnceAsAProblem", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, 1)
		errs := 0
		for b, err := range c.All(ctx(t), client.ListOptions{PageSize: 1000}) {
			var p *client.Problem
			require.ErrorAs(t, err, &p)
			require.Equal(t, http.StatusUnprocessableEntity, p.Status)
			require.Equal(t, uuid.Nil, b.ID)
			errs++
		}
		require.Equal(t, 1, errs)
	})

	t.Run("MaxPageSizeIsTheServicesBound", func(t *testing.T) {
		t.Parallel()
		c, made := setup(t, 1)
		for b, err := range c.All(ctx(t), client.ListOptions{PageSize: client.MaxPageSize}) {
			require.NoError(t, err)
			require.Contains(t, made, b.ID)
		}
		refused := 0
		for _, err := range c.All(ctx(t), client.ListOptions{PageSize: client.MaxPageSize + 1}) {
			var p *client.Problem
			require.ErrorAs(t, err, &p)
			require.Equal(t, http.StatusUnprocessableEntity, p.Status)
			refused++
		}
		require.Equal(t, 1, refused)
	})
}

// countingTransport counts the GET requests it sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}
