package app_test

import (
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/dbtest"
)

// DATABASE_READ_URL sends lists to its server. A read target that is the primary itself needs
// no synchronous standby; one that does not answer leaves the reads to the primary.
func TestServeWithAReadURL(t *testing.T) {
	t.Parallel()

	t.Run("OnThePrimaryItselfAClientReadsItsOwnWrites", func(t *testing.T) {
		t.Parallel()
		url := dbtest.URL(t)
		s := startServer(t, "DATABASE_URL", url, "DATABASE_READ_URL", url)
		line := s.logs.waitFor(t, "the read target", func(e map[string]any) bool {
			return e["msg"] == "reads of lists and latest configurations go to DATABASE_READ_URL"
		})
		require.Equal(t, false, line["standby"])
		listsItsOwnWrite(t, s, "standby")
	})

	t.Run("ThatDoesNotAnswerTheReadsGoToThePrimary", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		nobody := fmt.Sprintf("postgres://postgres@%s/chatsphere?sslmode=disable&connect_timeout=2", ln.Addr())
		require.NoError(t, ln.Close())
		s := startServer(t, "DATABASE_READ_URL", nobody)
		s.logs.waitFor(t, "the warning", func(e map[string]any) bool {
			return e["msg"] == "DATABASE_READ_URL does not answer; its reads go to DATABASE_URL until it does"
		})
		listsItsOwnWrite(t, s, "primary")
	})
}

// listsItsOwnWrite creates a bot through s and lists it at once, and checks that the metrics
// count the list as answered by server.
func listsItsOwnWrite(t *testing.T, s *appServer, server string) {
	t.Helper()
	token := issueToken(t, s.env, uuid.New())
	created := s.call(t, http.MethodPost, "/api/v1/bots", token, "", map[string]any{"name": "Support", "model": "gpt-4o"})
	require.Equal(t, http.StatusCreated, created.code, "body: %s", created.body)
	var bot struct{ ID uuid.UUID }
	created.json(t, &bot)

	list := s.call(t, http.MethodGet, "/api/v1/bots", token, "", nil)
	require.Equal(t, http.StatusOK, list.code, "body: %s", list.body)
	var page struct{ Items []struct{ ID uuid.UUID } }
	list.json(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, bot.ID, page.Items[0].ID)

	metrics := s.call(t, http.MethodGet, "/metrics", "", "", nil)
	require.Contains(t, string(metrics.body), fmt.Sprintf(`bots_standby_reads_total{server=%q} 1`, server))
}
