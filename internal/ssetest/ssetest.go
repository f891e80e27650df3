// Package ssetest lets a test drop a server-sent-event stream right after its first event, as a
// network that fails mid-stream would, so that tests of stream clients (the SDK's WatchStatus,
// the CLI's watch) can check how they resume or give up. It forwards to the real server rather
// than faking one, so that what the client sees before the cut is what the service sends.
package ssetest

import (
	"bufio"
	"net/http"
	"strings"
)

// ForwardFirstEvent forwards the request r, with its headers, to the server at target (a base
// URL such as an httptest.Server's) and copies the answer's status, content type and lines to w
// until the first event is complete; it flushes what it copied and returns. The caller then cuts
// the connection, normally with panic(http.ErrAbortHandler), and may first do what else its test
// needs, such as closing its listener so that reconnects find nobody.
//
// An event is complete at the blank line after its data: a block without a data field, such as
// a heartbeat comment, is no event (an EventSource does not dispatch it), so it is passed on
// without ending the forwarding.
//
// If target cannot be reached, or its answer ends before an event is complete, ForwardFirstEvent
// does not return: it cuts the connection itself with panic(http.ErrAbortHandler), since a test
// that wanted one whole event cannot go on.
func ForwardFirstEvent(w http.ResponseWriter, r *http.Request, target string) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), nil)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer res.Body.Close()
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	body := bufio.NewReader(res.Body)
	for data := false; ; {
		line, err := body.ReadString('\n')
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write([]byte(line))
		line = strings.TrimRight(line, "\r\n")
		if line == "" && data {
			break
		}
		field, _, _ := strings.Cut(line, ":")
		data = data || field == "data"
	}
	w.(http.Flusher).Flush()
}
