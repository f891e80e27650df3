package httpapi

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chatsphere/bots/gen/api"
)

// ProblemListener returns ln with its connections answering net/http's own error replies
// with problems. net/http refuses some requests before any handler runs (a malformed request
// line or header, headers over MaxHeaderBytes, an unsupported Transfer-Encoding) and writes a
// fixed text/plain reply straight to the connection; there is no hook for it. The connections
// of this listener recognise exactly those replies and write the same status as an
// application/problem+json answer instead, so that every error the service writes is a
// problem. Everything else passes through untouched.
// maxHeaderBytes is the server's MaxHeaderBytes, quoted in the answer to headers over it.
func ProblemListener(ln net.Listener, maxHeaderBytes int) net.Listener {
	return problemListener{Listener: ln, maxHeaderBytes: maxHeaderBytes}
}

type problemListener struct {
	net.Listener
	maxHeaderBytes int
}

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c, maxHeaderBytes: l.maxHeaderBytes}, nil
}

// problemConn rewrites net/http's pre-handler error replies.
type problemConn struct {
	net.Conn
	maxHeaderBytes int
}

func (c *problemConn) Write(p []byte) (int, error) {
	reply, ok := problemReply(p, c.maxHeaderBytes, time.Now())
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(reply); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets net/http half-close the connection after a 431, as it does on a bare
// *net.TCPConn, so that the client reads the answer before the connection goes away.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// netHTTPErrorHeaders is what net/http's server writes between the status line and the text
// of an error reply it makes before routing (see errorHeaders in net/http's conn.serve). Its
// own responses always carry Date and sort Connection before Content-Type, so no response of
// a handler looks like this.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// expectationFailed is net/http's answer to an Expect header other than 100-continue, written
// before the handler runs: a bare 417 with Date and Content-Length: 0. No operation of the API
// answers 417, so only net/http writes it.
var expectationFailed = regexp.MustCompile("^HTTP/1\\.1 417 Expectation Failed\r\nConnection: close\r\nDate: [^\r\n]+\r\nContent-Length: 0\r\n\r\n$")

const proto = "HTTP/1.1 "

// problemReply returns the problem answer for p when p is exactly one of net/http's
// pre-handler error replies: "HTTP/1.1 <code> <reason>[: <text>]", the headers above, and as
// body the status line again or, for 501, "Unsupported transfer encoding"; or its 417.
func problemReply(p []byte, maxHeaderBytes int, now time.Time) ([]byte, bool) {
	if !bytes.HasPrefix(p, []byte(proto)) || len(p) <= len(proto) || p[len(proto)] != '4' && p[len(proto)] != '5' {
		return nil, false // not the start of an error answer: most writes end here
	}
	if expectationFailed.Match(p) {
		return problemResponse(http.StatusExpectationFailed,
			"the request's Expect header cannot be met; only Expect: 100-continue is supported", now), true
	}
	end := bytes.Index(p, []byte(netHTTPErrorHeaders))
	if end < 0 || bytes.IndexByte(p[:end], '\n') >= 0 {
		return nil, false
	}
	status, body := string(p[len(proto):end]), string(p[end+len(netHTTPErrorHeaders):])
	if len(status) < 4 || status[3] != ' ' {
		return nil, false
	}
	code, err := strconv.Atoi(status[:3])
	if err != nil || code < 400 || code > 599 || !strings.HasPrefix(status[4:], http.StatusText(code)) {
		return nil, false
	}
	if body != status && !(code == http.StatusNotImplemented && body == "Unsupported transfer encoding") {
		return nil, false
	}
	reason := strings.TrimPrefix(strings.TrimPrefix(status[4:], http.StatusText(code)), ": ")
	return problemResponse(code, preHandlerDetail(code, reason, maxHeaderBytes), now), true
}

// problemResponse is a whole HTTP/1.1 answer with a /problems/bad-request problem, closing the
// connection as net/http does after these errors.
func problemResponse(code int, detail string, now time.Time) []byte {
	doc := problemJSON(api.Problem{
		Type:   kindBadRequest.typ,
		Title:  http.StatusText(code),
		Status: int32(code),
		Detail: detail,
	})
	var b bytes.Buffer
	b.WriteString(proto + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	b.WriteString("Content-Type: application/problem+json\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(doc)) + "\r\n")
	b.WriteString("Connection: close\r\n")
	b.WriteString("Date: " + now.UTC().Format(http.TimeFormat) + "\r\n\r\n")
	b.Write(doc)
	return b.Bytes()
}

// preHandlerDetail explains a request net/http refused; reason is the text net/http gave
// after the status, if any ("invalid header value", "missing required Host header", ...).
func preHandlerDetail(code int, reason string, maxHeaderBytes int) string {
	switch {
	case code == http.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request line and headers are too large; together they must be at most %d bytes", maxHeaderBytes)
	case code == http.StatusNotImplemented:
		return "the request's Transfer-Encoding is not supported; send the body with Content-Length or as chunked only"
	case code == http.StatusHTTPVersionNotSupported:
		return "the request's HTTP version is not supported; use HTTP/1.1"
	case reason != "":
		return "the request cannot be read: " + reason
	}
	return "the request cannot be read: its request line or a header is malformed"
}
