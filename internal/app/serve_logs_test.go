package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/auth"
)

func TestServeRequestLogs(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	user := uuid.New()
	token := issueToken(t, s.env, user)

	t.Run("ClientRequestIDIsEchoedAndLogged", func(t *testing.T) {
		t.Parallel()
		id := "client-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/healthz", "", id, nil)
		require.Equal(t, http.StatusOK, res.code)
		require.Equal(t, id, res.header.Get("X-Request-Id"))

		line := s.logs.requestLog(t, id)
		require.Equal(t, "GET", line["method"])
		require.Equal(t, "/healthz", line["route"])
		require.EqualValues(t, 200, line["status"])
	})

	t.Run("MissingRequestIDIsGenerated", func(t *testing.T) {
		t.Parallel()
		first := s.call(t, http.MethodGet, "/healthz", "", "", nil)
		second := s.call(t, http.MethodGet, "/healthz", "", "", nil)
		a, b := first.header.Get("X-Request-Id"), second.header.Get("X-Request-Id")
		require.NotEmpty(t, a)
		require.NotEmpty(t, b)
		require.NotEqual(t, a, b, "two requests got the same generated id")
		s.logs.requestLog(t, a)
		s.logs.requestLog(t, b)
	})

	t.Run("OverlongRequestIDIsReplaced", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("r", 1000)
		res := s.call(t, http.MethodGet, "/healthz", "", long, nil)
		require.Equal(t, http.StatusOK, res.code)
		id := res.header.Get("X-Request-Id")
		require.NotEmpty(t, id)
		require.NotEqual(t, long, id)
		line := s.logs.requestLog(t, id)
		require.NotContains(t, fmt.Sprint(line), long)
	})

	t.Run("ARequestIDIsKeptOnlyIfItIsAtMost128PrintableASCIICharacters", func(t *testing.T) {
		t.Parallel()
		for sent, kept := range map[string]bool{
			strings.Repeat("k", 128): true,
			"a~!#$%&'*+-.^_`|0Z":     true,
			strings.Repeat("k", 129): false,
			"with space":             false,
			"h\u00e9llo":             false,
		} {
			res := s.call(t, http.MethodGet, "/healthz", "", sent, nil)
			require.Equal(t, http.StatusOK, res.code)
			got := res.header.Get("X-Request-Id")
			if kept {
				require.Equal(t, sent, got)
				continue
			}
			require.NotEqual(t, sent, got)
			_, err := uuid.Parse(got)
			require.NoError(t, err, "a refused id is replaced by a new UUID")
		}
	})

	t.Run("EachRequestLogsOneLineWithEveryField", func(t *testing.T) {
		t.Parallel()
		id := "fields-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/api/v1/bots", token, id, nil)
		require.Equal(t, http.StatusOK, res.code, "body: %s", res.body)

		line := s.logs.requestLog(t, id)
		require.Equal(t, "request", line["msg"])
		require.Equal(t, "GET", line["method"])
		require.Equal(t, "/api/v1/bots", line["route"])
		require.EqualValues(t, 200, line["status"])
		duration, ok := line["duration_ms"].(float64)
		require.True(t, ok, "duration_ms is not a number: %v", line["duration_ms"])
		require.GreaterOrEqual(t, duration, 0.0)
		require.Equal(t, user.String(), line["user_id"])
		require.Equal(t, id, line["request_id"])

		count := 0
		for _, e := range s.logs.entries(t) {
			if e["msg"] == "request" && e["request_id"] == id {
				count++
			}
		}
		require.Equal(t, 1, count, "a request must log exactly one line")
	})

	t.Run("RouteIsTheTemplateNotThePath", func(t *testing.T) {
		t.Parallel()
		id := "route-" + uuid.NewString()
		missing := uuid.New()
		res := s.call(t, http.MethodGet, "/api/v1/bots/"+missing.String(), token, id, nil)
		require.Equal(t, http.StatusNotFound, res.code, "body: %s", res.body)

		line := s.logs.requestLog(t, id)
		require.Equal(t, "/api/v1/bots/:bot_id", line["route"])
		require.EqualValues(t, 404, line["status"])
		require.NotContains(t, fmt.Sprint(line), missing.String(), "the raw path leaked into the log line")
	})

	t.Run("UnknownPathIsNotLoggedAsItsOwnRoute", func(t *testing.T) {
		t.Parallel()
		id := "unknown-" + uuid.NewString()
		segment := "nowhere-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/"+segment, "", id, nil)
		require.Equal(t, http.StatusNotFound, res.code)

		line := s.logs.requestLog(t, id)
		require.EqualValues(t, 404, line["status"])
		route, _ := line["route"].(string)
		require.NotEmpty(t, route)
		require.NotContains(t, route, segment, "each unknown path would become its own metrics series")
	})

	t.Run("AnonymousRequestLogsNoUser", func(t *testing.T) {
		t.Parallel()
		id := "anonymous-" + uuid.NewString()
		res := s.call(t, http.MethodGet, "/readyz", "", id, nil)
		require.Equal(t, http.StatusOK, res.code)
		line := s.logs.requestLog(t, id)
		require.Empty(t, line["user_id"])
	})

	t.Run("RefusedTokenLogsNoUser", func(t *testing.T) {
		t.Parallel()
		id := "refused-" + uuid.NewString()
		other, err := auth.Issue([]byte("a-different-secret-a-different-secret"), uuid.New(), time.Hour, time.Now())
		require.NoError(t, err)
		res := s.call(t, http.MethodGet, "/api/v1/bots", other, id, nil)
		require.Equal(t, http.StatusUnauthorized, res.code)
		require.Equal(t, id, res.header.Get("X-Request-Id"))

		line := s.logs.requestLog(t, id)
		require.EqualValues(t, 401, line["status"])
		require.Empty(t, line["user_id"])
		require.Equal(t, "/api/v1/bots", line["route"])
	})

	t.Run("ErrorResponsesCarryTheRequestID", func(t *testing.T) {
		t.Parallel()
		id := "problem-" + uuid.NewString()
		res := s.call(t, http.MethodPost, "/api/v1/bots", token, id, map[string]any{"name": "x", "model": "no-such-model"})
		require.Equal(t, http.StatusUnprocessableEntity, res.code, "body: %s", res.body)
		require.Equal(t, id, res.header.Get("X-Request-Id"))
		line := s.logs.requestLog(t, id)
		require.EqualValues(t, 422, line["status"])
		require.Equal(t, user.String(), line["user_id"])
	})
}
