package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/client"
)

// botView is a bot as -o json and -o yaml print it: the API's field names, plus its ETag.
type botView struct {
	ID            string    `json:"id" yaml:"id"`
	OwnerID       string    `json:"owner_id" yaml:"owner_id"`
	Name          string    `json:"name" yaml:"name"`
	Description   *string   `json:"description" yaml:"description"`
	Model         string    `json:"model" yaml:"model"`
	Temperature   float64   `json:"temperature" yaml:"temperature"`
	SystemPrompt  string    `json:"system_prompt" yaml:"system_prompt"`
	IsPublic      bool      `json:"is_public" yaml:"is_public"`
	Status        string    `json:"status" yaml:"status"`
	StatusMessage *string   `json:"status_message" yaml:"status_message"`
	ConfigVersion int32     `json:"config_version" yaml:"config_version"`
	CreatedAt     time.Time `json:"created_at" yaml:"created_at"`
	UpdatedAt     time.Time `json:"updated_at" yaml:"updated_at"`
	ETag          string    `json:"etag,omitempty" yaml:"etag,omitempty"`
}

func viewOf(b client.Bot) botView {
	return botView{
		ID: b.ID.String(), OwnerID: b.OwnerID.String(), Name: b.Name, Description: b.Description,
		Model: b.Model, Temperature: b.Temperature, SystemPrompt: b.SystemPrompt, IsPublic: b.IsPublic,
		Status: string(b.Status), StatusMessage: null(b.StatusMessage), ConfigVersion: b.ConfigVersion,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, ETag: b.ETag,
	}
}

// null is s as the API sends it: the SDK reads the API's null as "", and the API sends no
// empty string for the fields that go through null (a status message, a request id, a
// previous status).
func null[S ~string](s S) *string {
	if s == "" {
		return nil
	}
	return ptr(string(s))
}

// encode writes v as JSON or YAML; it reports whether format was one of them.
func encode(w io.Writer, format string, v any) (bool, error) {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return true, enc.Encode(v)
	case "yaml":
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return true, err
		}
		return true, enc.Close()
	}
	return false, nil
}

// encodeList is encode of items as a list of their views, made by view: a list even when
// empty, never null.
func encodeList[T, V any](w io.Writer, format string, items []T, view func(T) V) (bool, error) {
	views := make([]V, len(items))
	for i, item := range items {
		views[i] = view(item)
	}
	return encode(w, format, views)
}

// printList writes items as a JSON or YAML list of their views, made by view, or as a table:
// header, then the row of each item.
func printList[T, V any](w io.Writer, format string, items []T, view func(T) V, header []string, row func(T) []string) error {
	if ok, err := encodeList(w, format, items, view); ok {
		return err
	}
	rows := [][]string{header}
	for _, item := range items {
		rows = append(rows, row(item))
	}
	return table(w, rows)
}

// collect reads every item of a list of the SDK, every page; an error stops it and is
// returned readable at a terminal.
func collect[T any](list iter.Seq2[T, error]) ([]T, error) {
	items := []T{}
	for item, err := range list {
		if err != nil {
			return nil, apiError(err)
		}
		items = append(items, item)
	}
	return items, nil
}

// table writes rows aligned in columns, without the padding an empty last cell would leave.
// Every cell goes through oneLine: a cell may hold any text the API sent.
func table(w io.Writer, rows [][]string) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, cell := range r {
			cells[i] = oneLine(cell)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(b.String()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " \n")); err != nil {
			return err
		}
	}
	return nil
}

// printBots writes bots as a table with one row per bot, or as a JSON or YAML list.
func printBots(w io.Writer, format string, bots []client.Bot) error {
	header := []string{"ID", "NAME", "MODEL", "TEMP", "STATUS", "VERSION", "PUBLIC", "UPDATED"}
	return printList(w, format, bots, viewOf, header, func(b client.Bot) []string {
		return []string{b.ID.String(), b.Name, b.Model, fmt.Sprint(b.Temperature), string(b.Status),
			fmt.Sprint(b.ConfigVersion), yesNo(b.IsPublic), b.UpdatedAt.UTC().Format(time.RFC3339)}
	})
}

// printBot writes one bot as a table of its fields, or as a JSON or YAML object.
func printBot(w io.Writer, format string, b client.Bot) error {
	if ok, err := encode(w, format, viewOf(b)); ok {
		return err
	}
	desc := ""
	if b.Description != nil {
		desc = *b.Description
	}
	status := string(b.Status)
	if b.StatusMessage != "" {
		status += ": " + b.StatusMessage
	}
	return table(w, [][]string{
		{"id:", b.ID.String()},
		{"name:", b.Name},
		{"description:", desc},
		{"model:", b.Model},
		{"temperature:", fmt.Sprint(b.Temperature)},
		{"system prompt:", b.SystemPrompt},
		{"public:", yesNo(b.IsPublic)},
		{"status:", status},
		{"version:", fmt.Sprint(b.ConfigVersion)},
		{"created:", b.CreatedAt.UTC().Format(time.RFC3339)},
		{"updated:", b.UpdatedAt.UTC().Format(time.RFC3339)},
	})
}

// oneLine makes s safe to show as one table cell or on one line at a terminal, whoever wrote
// it (another user's public bot, say). A line break shows as ⏎ and a tab as a space: they would
// break the columns. Every character shownEscaped names, and a byte that is not UTF-8, shows
// escaped as strconv.QuoteToGraphic writes it (\x1b, \u202e).
func oneLine(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\r' && strings.HasPrefix(s[i:], "\r\n"):
			b.WriteString("⏎")
			size = 2
		case r == '\r' || r == '\n':
			b.WriteString("⏎")
		case r == '\t':
			b.WriteByte(' ')
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case shownEscaped(r):
			q := strconv.QuoteRuneToGraphic(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// shownEscaped reports whether oneLine escapes r: control and format characters (Unicode Cc
// and Cf: escape sequences, BEL, bidi embeddings, overrides and isolates, invisible spaces)
// and line or paragraph separators, which raw could move the cursor, retitle the terminal,
// reorder or hide text. The joiners and the tag characters stay: emoji sequences (👩‍💻, the
// flags of regions) and several scripts are written with them.
func shownEscaped(r rune) bool {
	switch {
	case r == '\u200c', r == '\u200d', r >= 0xE0020 && r <= 0xE007F:
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// apiError makes an error of the SDK readable at a terminal. A *client.Problem is spelt out on
// several lines: the title and detail, each field error, and the request id to quote when
// reporting it.
func apiError(err error) error {
	var p *client.Problem
	var ue *url.Error
	switch {
	case errors.As(err, &p):
		return &problemError{p: p}
	case errors.As(err, &ue) && !errors.Is(err, context.Canceled):
		return fmt.Errorf("cannot reach the service (%w); is it running there? BOTS_API_URL or --api-url says where", err)
	}
	return err
}

// problemError is a *client.Problem written for a person; errors.As still finds the Problem.
type problemError struct{ p *client.Problem }

func (e *problemError) Unwrap() error { return e.p }

func (e *problemError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.p.Status, e.p.Title)
	if e.p.Detail != "" {
		b.WriteString(": " + e.p.Detail)
	}
	for _, f := range e.p.Errors {
		fmt.Fprintf(&b, "\n  %s %s: %s", f.Location, f.Field, f.Message)
	}
	if e.p.RequestID != "" {
		b.WriteString("\n  request id: " + e.p.RequestID)
	}
	return b.String()
}
