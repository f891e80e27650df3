package httpapi

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// problemRow is one row of the problem table in openapi.yaml's info.description:
// | `/problems/validation` | 422 | a field, parameter or header breaks the contract |
var problemRow = regexp.MustCompile("(?m)^\\| `(/problems/[a-z0-9-]+)` \\| ([^|]+?) \\| (.+?) \\|$")

// problemPage is what a problem type URI shows: RFC 9457 suggests that a type URI resolves
// to documentation for people.
var problemPage = template.Must(template.New("problem").Parse(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{.Type}}: ChatSphere bot management API</title>
</head>
<body>
  <h1>{{.Type}}</h1>
  <p>Status: {{.Status}}</p>
  <p>{{.Meaning}}.</p>
  <p>Problems are <code>application/problem+json</code> documents
  (<a href="https://www.rfc-editor.org/rfc/rfc9457">RFC 9457</a>); their <code>detail</code>
  says what went wrong with the request. All problem types and operations are described in
  <a href="/docs">the API documentation</a>.</p>
</body>
</html>
`))

// problemPages renders a page for each problem type of the table in the API's description,
// so that the table stays the one list of types.
func problemPages(description string) (map[string][]byte, error) {
	rows := problemRow.FindAllStringSubmatch(description, -1)
	if len(rows) == 0 {
		return nil, errors.New("the OpenAPI document's description has no table of problem types")
	}
	pages := make(map[string][]byte, len(rows))
	for _, row := range rows {
		var buf bytes.Buffer
		status := strings.TrimSpace(row[2])
		if code, err := strconv.Atoi(status); err == nil {
			status += " " + http.StatusText(code)
		}
		meaning := row[3]
		if r, size := utf8.DecodeRuneInString(meaning); unicode.IsLower(r) {
			meaning = string(unicode.ToUpper(r)) + meaning[size:]
		}
		err := problemPage.Execute(&buf, map[string]any{
			"Type": row[1], "Status": status, "Meaning": markdownCode(meaning),
		})
		if err != nil {
			return nil, err
		}
		pages[row[1]] = buf.Bytes()
	}
	return pages, nil
}

// markdownCode renders text with its `code` spans as <code> elements and everything else
// escaped; it is all the Markdown the table's cells use.
func markdownCode(text string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(text, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(part))
		}
	}
	return template.HTML(b.String())
}
