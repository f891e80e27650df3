package client

import (
	"context"
	"iter"
	"net/http"

	gen "github.com/chatsphere/bots/gen/client"
)

// Sort is the order of a list; the Desc forms sort descending. Names sort ignoring case.
type Sort string

// The orders a list can be sorted in.
const (
	SortCreatedAt     Sort = "created_at"
	SortCreatedAtDesc Sort = "-created_at"
	SortUpdatedAt     Sort = "updated_at"
	SortUpdatedAtDesc Sort = "-updated_at"
	SortName          Sort = "name"
	SortNameDesc      Sort = "-name"
)

// MaxPageSize is the most items one page of a list may hold, the service's bound on its
// limit parameter.
const MaxPageSize = 100

// ListOptions filters and sorts a list; the zero value lists every bot the caller can see in
// the service's default order.
type ListOptions struct {
	// Status keeps only bots in this status; empty: any.
	Status Status
	// Model keeps only bots on this model id; empty: any.
	Model string
	// IsPublic keeps only public (true) or only private (false) bots; nil: both.
	IsPublic *bool
	// Query keeps only bots whose name or description contains it, compared ignoring case
	// as names are; empty: no search.
	Query string
	// Sort is the order; empty: the service's default.
	Sort Sort
	// PageSize is how many bots each request asks for, 1 to MaxPageSize; 0: the service's
	// default.
	PageSize int
}

// All iterates over every bot that matches opts, reading one page after another as the loop
// asks for more; breaking out of the loop stops the reading. Each page is read with the same
// retries as Get. An error ends the iteration: it is yielded once, with a zero Bot.
//
// Pages are read by position (skip and limit), so a bot created or deleted while the loop
// runs may shift the pages: one may be seen twice or not at all. The bots carry no ETag.
func (c *Client) All(ctx context.Context, opts ListOptions) iter.Seq2[Bot, error] {
	params := opts.params()
	return pages(ctx, c, toBot, func(ctx context.Context, skip int) (*http.Response, error) {
		p := params
		p.Skip = ptr(int32(skip))
		return c.api.ListBots(ctx, &p)
	})
}

// params are the query parameters of opts.
func (opts ListOptions) params() gen.ListBotsParams {
	params := gen.ListBotsParams{IsPublic: opts.IsPublic}
	if opts.PageSize != 0 {
		params.Limit = ptr(int32(opts.PageSize))
	}
	if opts.Status != "" {
		params.Status = ptr(gen.BotStatus(opts.Status))
	}
	if opts.Model != "" {
		params.Model = ptr(opts.Model)
	}
	if opts.Query != "" {
		params.Q = ptr(opts.Query)
	}
	if opts.Sort != "" {
		params.Sort = ptr(gen.ListBotsParamsSort(opts.Sort))
	}
	return params
}
