package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"time"

	"github.com/google/uuid"

	gen "github.com/chatsphere/bots/gen/client"
)

// Version is one immutable configuration of a bot, as the API returns it. Every change of a
// bot's model, temperature or system prompt records a new version; its configuration never
// changes, and once it is StatusActive nothing about it changes again.
type Version struct {
	// Number orders a bot's versions from 1.
	Number int32
	// Model, Temperature and SystemPrompt are the configuration.
	Model        string
	Temperature  float64
	SystemPrompt string
	// Status is the version's own training status; StatusMessage says why it is in error.
	Status        Status
	StatusMessage string
	CreatedAt     time.Time
	// CreatedBy is the user whose write recorded the version.
	CreatedBy uuid.UUID
	// Source is the write that recorded it: "create", "update", "duplicate", "revert" or
	// "train".
	Source string
	// RevertedFrom is, for a revert, the number of the version whose configuration it
	// copies; nil otherwise.
	RevertedFrom *int32
	// ETag identifies this state of the version; set by Version and Revert, empty in
	// Versions.
	ETag string
}

// PatchOp is one operation of a JSON Patch (RFC 6902) between two configurations: Op is
// always "replace", Path one of "/model", "/temperature", "/system_prompt", and Value the
// field's value in the target version.
type PatchOp struct {
	Op    string
	Path  string
	Value any
}

// Versions iterates over every version of the bot botID, newest first, reading one page
// after another as the loop asks for more, with the retries of Get. An error ends the
// iteration: it is yielded once, with a zero Version.
func (c *Client) Versions(ctx context.Context, botID uuid.UUID) iter.Seq2[Version, error] {
	return pages(ctx, c, toVersion, func(ctx context.Context, skip int) (*http.Response, error) {
		return c.api.ListBotVersions(ctx, botID, &gen.ListBotVersionsParams{Skip: ptr(int32(skip))})
	})
}

// Version reads version number of the bot botID, with its ETag. A bot the caller may not see,
// or a number it does not have, is a *Problem with Status 404.
func (c *Client) Version(ctx context.Context, botID uuid.UUID, number int32) (Version, error) {
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.GetBotVersion(ctx, botID, number, nil)
	})
	return decodeTo(r, err, http.StatusOK, toVersion)
}

// Diff returns the JSON Patch that turns the configuration of version against into that of
// version number: one replace per field that differs, none when they are equal. An against
// of 0 means the previous version, number-1 (version 1 has none: a *Problem with Status 422).
func (c *Client) Diff(ctx context.Context, botID uuid.UUID, number, against int32) ([]PatchOp, error) {
	params := &gen.GetBotVersionDiffParams{}
	if against != 0 {
		params.Against = ptr(against)
	}
	r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) {
		return c.api.GetBotVersionDiff(ctx, botID, number, params)
	})
	patch, err := decode[gen.VersionPatch](r, err, http.StatusOK)
	if err != nil {
		return nil, err
	}
	ops := make([]PatchOp, len(patch))
	for i, op := range patch {
		ops[i] = PatchOp{Op: string(op.Op), Path: string(op.Path), Value: op.Value}
	}
	return ops, nil
}

// Revert records a new latest version of the caller's bot botID with the configuration of
// version number, and returns it. When version number is active the new version is active at
// once (an instant rollback); otherwise it trains. Aliases do not move (see SetAlias).
//
// With a non-empty etag (a Bot.ETag) the revert happens only if the bot has not changed since
// it was read (a *Problem with Status 412 otherwise). Like Train, Revert is retried on 503
// and 429 but not on a connection error, whose replay would record a second version.
func (c *Client) Revert(ctx context.Context, botID uuid.UUID, number int32, etag string) (Version, error) {
	params := &gen.RevertBotVersionParams{}
	if etag != "" {
		params.IfMatch = ptr(etag)
	}
	r, err := c.send(ctx, false, func(ctx context.Context) (*http.Response, error) {
		return c.api.RevertBotVersion(ctx, botID, number, params)
	})
	return decodeTo(r, err, http.StatusCreated, toVersion)
}

// toVersion converts the generated model at the one boundary where the SDK meets it.
func toVersion(v gen.BotVersion, etag string) Version {
	out := Version{
		Number: v.Number, Model: v.Model, Temperature: v.Temperature, SystemPrompt: v.SystemPrompt,
		Status: Status(v.Status), CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		Source: string(v.Source), ETag: etag,
	}
	if m, err := v.StatusMessage.Get(); err == nil {
		out.StatusMessage = m
	}
	if n, err := v.RevertedFrom.Get(); err == nil {
		out.RevertedFrom = &n
	}
	return out
}

// decode reads an answer expected to have status want and a JSON body of type T; any other
// answer is its *Problem.
func decode[T any](r reply, err error, want int) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	if r.status != want {
		return v, problemOf(r)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return v, fmt.Errorf("bots api: read %T: %w", v, err)
	}
	return v, nil
}

// decodeTo is decode of the generated model G, converted with conv at the boundary where the
// SDK meets it, with the answer's ETag: every answer that carries one resource reads it so.
func decodeTo[G, T any](r reply, err error, want int, conv func(G, string) T) (T, error) {
	g, err := decode[G](r, err, want)
	if err != nil {
		var zero T
		return zero, err
	}
	return conv(g, r.header.Get("ETag")), nil
}

// page is what every paged list of the API answers: items and the total over all pages.
type page[T any] struct {
	Items []T   `json:"items"`
	Total int64 `json:"total"`
}

// pages iterates over every item of a paged list, reading the page that starts at skip with
// get as the loop asks for more, and converting each item with conv.
func pages[T, U any](ctx context.Context, c *Client, conv func(T, string) U, get func(ctx context.Context, skip int) (*http.Response, error)) iter.Seq2[U, error] {
	return func(yield func(U, error) bool) {
		var zero U
		for skip := 0; ; {
			r, err := c.send(ctx, true, func(ctx context.Context) (*http.Response, error) { return get(ctx, skip) })
			p, err := decode[page[T]](r, err, http.StatusOK)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(conv(item, ""), nil) {
					return
				}
			}
			skip += len(p.Items)
			if len(p.Items) == 0 || int64(skip) >= p.Total {
				return
			}
		}
	}
}
