package client

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	gen "github.com/chatsphere/bots/gen/client"
)

// Delete deletes the bot id; its owner can bring it back with Restore. The service wants a
// delete confirmed: with a non-empty etag (a Bot.ETag) Delete sends it as If-Match, so that
// a bot changed since it was read is not deleted (a *Problem with Status 412); with an empty
// etag it confirms with ?confirm=true and deletes the bot as it is.
//
// Like Update's write, Delete is retried on 503 and 429 but not on a connection error: the
// delete may have been carried out, and its replay would answer 404 for a bot that is gone.
func (c *Client) Delete(ctx context.Context, id uuid.UUID, etag string) error {
	params := &gen.DeleteBotParams{}
	if etag != "" {
		params.IfMatch = ptr(etag)
	} else {
		params.Confirm = ptr(true)
	}
	return c.remove(ctx, http.StatusOK, func(ctx context.Context) (*http.Response, error) {
		return c.api.DeleteBot(ctx, id, params)
	})
}

// remove sends a delete and checks its answer: status want, or a *Problem.
// It is retried on 503 and 429 but not on a connection error: the delete may have been carried
// out, and its replay would answer 404 for what the first request deleted.
func (c *Client) remove(ctx context.Context, want int, fn call) error {
	r, err := c.send(ctx, false, fn)
	if err != nil {
		return err
	}
	if r.status != want {
		return problemOf(r)
	}
	return nil
}

// Restore brings back the caller's deleted bot id, with the status it had. A bot that is not
// deleted, or whose name another of the caller's bots took in the meantime, is a *Problem
// with Status 409. It is not retried on a connection error, whose replay would answer 409
// for a bot the first request restored.
func (c *Client) Restore(ctx context.Context, id uuid.UUID) (Bot, error) {
	r, err := c.send(ctx, false, func(ctx context.Context) (*http.Response, error) {
		return c.api.RestoreBot(ctx, id, nil)
	})
	return decodeTo(r, err, http.StatusOK, toBot)
}

// Train puts the bot id (back) into training and returns it in StatusTraining; training runs
// in the background (see WatchStatus to follow it). It is not retried on a connection error:
// the first request may have started a training, and a replay would record another version.
func (c *Client) Train(ctx context.Context, id uuid.UUID) (Bot, error) {
	r, err := c.send(ctx, false, func(ctx context.Context) (*http.Response, error) {
		return c.api.TrainBot(ctx, id, nil)
	})
	return decodeTo(r, err, http.StatusAccepted, toBot)
}
