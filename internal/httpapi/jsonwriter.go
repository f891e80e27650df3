package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/chatsphere/bots/gen/api"
)

// problemJSON encodes a problem without encoding/json's HTML escaping, so that a detail such
// as "Bearer <token>" reads as written.
func problemJSON(p api.Problem) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // a problem holds strings and numbers only
	return buf.Bytes()
}

// jsonWriter writes the JSON of a response (and of status events) without encoding/json's
// HTML escaping: \u003c, \u003e and \u0026 go out as <, > and &. The generated strict
// handlers encode with json.NewEncoder, whose escaping cannot be turned off from outside
// (oapi-codegen/oapi-codegen#1244), and nullable fields escape on their own through
// json.Marshal, so the escapes are undone here, on the way out, for every JSON answer.
//
// Only escapes are rewritten: a backslash that is itself escaped is copied as is, also across
// writes, so the JSON stays the same document, only shorter.
type jsonWriter struct {
	http.ResponseWriter
	head bool // a HEAD request: its Content-Length describes a body that is not sent

	decided bool
	rewrite bool
	open    bool // the last write ended inside an escape
	buf     []byte
}

// Unwrap lets http.ResponseController reach the connection's writer (Flush for streams).
func (w *jsonWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *jsonWriter) WriteHeader(code int) {
	w.decide()
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonWriter) Write(p []byte) (int, error) {
	w.decide()
	if !w.rewrite || !w.open && bytes.IndexByte(p, '\\') < 0 {
		return w.ResponseWriter.Write(p)
	}
	w.buf, w.open = unescapeHTML(w.buf[:0], p, w.open)
	if _, err := w.ResponseWriter.Write(w.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// decide looks at the headers once, before they are sent: JSON bodies and event streams are
// rewritten, unless they are sent in a content coding (a gzipped body is no JSON text; what
// sends one wrote it without the escapes). A rewritten body may be shorter than a
// Content-Length set for it, so that header is dropped and net/http measures the body itself.
func (w *jsonWriter) decide() {
	if w.decided {
		return
	}
	w.decided = true
	if coding := w.Header().Get("Content-Encoding"); coding != "" && !strings.EqualFold(coding, "identity") {
		return
	}
	mediaType, _, _ := strings.Cut(w.Header().Get("Content-Type"), ";")
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case "application/json", "application/problem+json", "application/json-patch+json", "text/event-stream":
		w.rewrite = true
		if !w.head {
			w.Header().Del("Content-Length")
		}
	}
}

// unescapeHTML appends src to dst with the escapes \u003c, \u003e and \u0026 written as <, >
// and &. open says that src starts inside an escape (the backslash ended the previous write);
// the result says the same of src's end.
func unescapeHTML(dst, src []byte, open bool) ([]byte, bool) {
	i := 0
	if open && len(src) > 0 {
		dst = append(dst, src[0])
		i = 1
	}
	for i < len(src) {
		j := bytes.IndexByte(src[i:], '\\')
		if j < 0 {
			return append(dst, src[i:]...), false
		}
		dst = append(dst, src[i:i+j]...)
		i += j
		if i+1 == len(src) {
			return append(dst, '\\'), true
		}
		if i+6 <= len(src) {
			switch string(src[i : i+6]) {
			case `\u003c`:
				dst, i = append(dst, '<'), i+6
				continue
			case `\u003e`:
				dst, i = append(dst, '>'), i+6
				continue
			case `\u0026`:
				dst, i = append(dst, '&'), i+6
				continue
			}
		}
		dst, i = append(dst, src[i], src[i+1]), i+2
	}
	return dst, false
}
