package client

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	gen "github.com/chatsphere/bots/gen/client"
)

// Problem is an answer of the API that is not a success, as an error. The service sends every
// such answer as an RFC 9457 problem detail (application/problem+json); an answer with another
// body (from a proxy, say) becomes a Problem built from its status line, with the start of its
// body as Detail. Match it with errors.As:
//
//	var p *client.Problem
//	if errors.As(err, &p) && p.Status == http.StatusUnprocessableEntity {
//		for _, f := range p.Errors { fmt.Println(f.Field, f.Message) }
//	}
type Problem struct {
	// Type names the kind of problem, for example "/problems/validation" or
	// "/problems/name-taken"; the table in the API's description lists them. It is
	// "about:blank" for an answer that was not a problem detail.
	Type string
	// Status is the HTTP status code.
	Status int
	// Title is a short summary of the kind of problem.
	Title string
	// Detail says what went wrong with this request, for a person to read.
	Detail string
	// Errors lists every offending field of a 422.
	Errors []FieldError
	// Instance is the path of the request.
	Instance string
	// RequestID identifies the request in the service's logs; quote it when reporting a
	// problem. It falls back to the X-Request-Id header.
	RequestID string
}

// FieldError is one field, parameter or header a request got wrong.
type FieldError struct {
	// Field is the field, parameter or header name, for example "temperature".
	Field string
	// Location says where the field is: "body", "query", "path" or "header".
	Location string
	// Message says what is wrong, for example "must be at most 2".
	Message string
}

// Error reads as the status, the detail, the field errors and the request id, so that a
// logged error says everything the service said.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bots api: %d %s", p.Status, p.Title)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for i, f := range p.Errors {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, f.Field, f.Message)
		if i == len(p.Errors)-1 {
			b.WriteString(")")
		}
	}
	if p.RequestID != "" {
		b.WriteString(" [request id " + p.RequestID + "]")
	}
	return b.String()
}

// detailLimit bounds how much of a body that is not a problem detail ends up in Detail.
const detailLimit = 200

// problemOf turns an answer that is not a success into a *Problem.
func problemOf(r reply) *Problem {
	p := &Problem{Status: r.status}
	var body gen.Problem
	if isProblem(r.header.Get("Content-Type")) && json.Unmarshal(r.body, &body) == nil {
		p.Type, p.Title, p.Detail = body.Type, body.Title, body.Detail
		if body.Errors != nil {
			for _, f := range *body.Errors {
				p.Errors = append(p.Errors, FieldError{Field: f.Field, Location: string(f.Location), Message: f.Message})
			}
		}
		if body.Instance != nil {
			p.Instance = *body.Instance
		}
		if body.RequestId != nil {
			p.RequestID = *body.RequestId
		}
	} else {
		detail := strings.TrimSpace(string(r.body))
		if len(detail) > detailLimit {
			detail = strings.ToValidUTF8(detail[:detailLimit], "") + "…"
		}
		p.Detail = detail
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(r.status)
	}
	if p.RequestID == "" {
		p.RequestID = r.header.Get("X-Request-Id")
	}
	return p
}

func isProblem(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/problem+json"
}
