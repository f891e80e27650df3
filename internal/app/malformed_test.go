package app_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// rawExchange sends raw bytes on a new connection to the server and reads one answer per
// request sent; the connection is closed when t ends.
func (s *appServer) rawExchange(t *testing.T, raw string, answers int) []*http.Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.base, "http://"), appWaitLimit)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(appWaitLimit)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	var out []*http.Response
	for range answers {
		res, err := http.ReadResponse(r, nil)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body = io.NopCloser(strings.NewReader(string(body)))
		res.ContentLength = int64(len(body))
		out = append(out, res)
	}
	return out
}

// requireProblem checks that res is a problem document with the given status, valid against
// openapi.yaml's Problem schema, and returns it.
func requireProblem(t *testing.T, res *http.Response, status int) api.Problem {
	t.Helper()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, status, res.StatusCode, "body: %s", body)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "body: %s", body)
	require.Equal(t, strconv.Itoa(len(body)), res.Header.Get("Content-Length"))
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(body, &doc), "body: %s", body)
	require.NoError(t, spec.Components.Schemas["Problem"].Value.VisitJSON(doc), "body: %s", body)
	var p api.Problem
	require.NoError(t, json.Unmarshal(body, &p))
	require.Equal(t, int32(status), p.Status)
	require.Equal(t, http.StatusText(status), p.Title)
	require.NotEmpty(t, p.Detail)
	return p
}

// Errors net/http answers before any handler runs are problems too, like every other error.
func TestServeAnswersMalformedRequestsWithProblems(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cases := []struct {
		name    string
		request string
		status  int
		detail  string
	}{
		{"HeadersOverTheLimit", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, "too large"},
		{"MalformedPathEscape", "GET /api/v1/bots/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
			http.StatusBadRequest, "cannot be read"},
		{"ControlCharacterInAHeaderValue", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x7fb\r\n\r\n",
			http.StatusBadRequest, "cannot be read"},
		{"MissingHost", "GET /healthz HTTP/1.1\r\n\r\n",
			http.StatusBadRequest, "missing required Host header"},
		{"UnsupportedTransferEncoding", "POST /api/v1/bots HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
			http.StatusNotImplemented, "Transfer-Encoding"},
		{"UnknownExpectation", "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n",
			http.StatusExpectationFailed, "Expect"},
		{"UnsupportedHTTPVersion", "GET /healthz HTTP/2.5\r\nHost: x\r\n\r\n",
			http.StatusHTTPVersionNotSupported, "HTTP version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := s.rawExchange(t, c.request, 1)[0]
			p := requireProblem(t, res, c.status)
			require.Equal(t, "/problems/bad-request", p.Type)
			require.Contains(t, p.Detail, c.detail)
			require.True(t, res.Close, "the connection must be closed after a request that cannot be read")
			require.NotEmpty(t, res.Header.Get("Date"))
		})
	}

	t.Run("MissingDocsAsset", func(t *testing.T) {
		t.Parallel()
		res := s.rawExchange(t, "GET /docs/missing HTTP/1.1\r\nHost: x\r\n\r\n", 1)[0]
		require.Equal(t, "/problems/not-found", requireProblem(t, res, http.StatusNotFound).Type)
	})

	t.Run("AfterAnAnswerOnTheSameConnection", func(t *testing.T) {
		t.Parallel()
		answers := s.rawExchange(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: \x7f\r\n\r\n", 2)
		require.Equal(t, http.StatusOK, answers[0].StatusCode)
		require.Equal(t, "application/json", answers[0].Header.Get("Content-Type"))
		requireProblem(t, answers[1], http.StatusBadRequest)
	})
}
