// Package client is the Go SDK of the ChatSphere bots API. It is built on the client that
// oapi-codegen generates from the contract (package gen/client) and adds only what the
// protocol needs and a generator cannot know:
//
//   - Errors are values: every answer that is not a success comes back as a *Problem (the
//     RFC 9457 problem detail the service sends, with its field errors and request id), which
//     callers match with errors.As. The generated client returns such answers with a nil
//     error and a dozen response fields to inspect.
//   - Creates and duplicates carry an Idempotency-Key, one per call, and are retried with that
//     same key on connection errors (an answer whose body breaks off included), 503 and 429
//     (honouring Retry-After), so a retry never makes a second bot. Reads retry likewise.
//     While the service cannot be reached, retries go on with a growing backoff until the
//     budget of waiting is spent (30 seconds by default: a restart of the service or of its
//     database); an answer asking for a retry is tried a bounded number of times (4). See
//     WithRetry. Retries stop when the context ends, and a call that got no answer for the
//     whole budget returns an error matching ErrUnreachable.
//   - Reads return the bot's ETag next to it (Bot.ETag), and Update is a conditional write:
//     it reads the bot, applies a function, sends If-Match, and on 412 reads again and
//     retries a bounded number of times, so concurrent writers never overwrite each other.
//   - All iterates over every page of a list as a Go iterator, with the list's filters and
//     sort.
//   - Delete is confirmed by the bot's ETag (If-Match) or, without one, by ?confirm=true;
//     Delete, Restore and Train, like Update's write, are not retried on connection errors.
//   - WatchStatus follows a bot's status stream (Server-Sent Events) as a Go iterator,
//     reconnecting with Last-Event-ID after a dropped connection so that no change is missed
//     or seen twice (by the retry rule above, counted afresh after each event or heartbeat),
//     and ends with ErrGone when the bot is deleted, or ErrUnreachable when the service stayed
//     away for the whole budget.
//   - Versions, Diff and Revert read a bot's immutable configurations and go back to one
//     (an instant rollback when it is active); SetAlias, Aliases and DeleteAlias name the
//     version a chat runtime runs, and Config reads it, by alias, by number or as the latest
//     active version. Events reads a bot's record of changes (its owner only).
//   - CreateWebhook, Webhooks, Webhook, UpdateWebhook (the conditional write of Update),
//     DeleteWebhook, RotateWebhookSecret and WebhookDeliveries manage the endpoints the events
//     of the caller's bots are sent to, and VerifyWebhook checks a delivery's signature and
//     timestamp in the receiver, as Standard Webhooks specifies.
//   - The SDK's own types (Bot, CreateParams, ...) use plain Go pointers for optional fields,
//     so callers need not use the nullable package the generated models depend on.
//
// A minimal program:
//
//	c, err := client.New("http://localhost:8080", os.Getenv("BOTS_TOKEN"))
//	if err != nil { ... }
//	bot, err := c.Create(ctx, client.CreateParams{Name: "Support", Model: "gpt-4o-mini"})
//	var p *client.Problem
//	if errors.As(err, &p) && p.Status == http.StatusConflict { ... } // the name is taken
//
// The package depends on the generated client (with oapi-codegen's runtime and nullable
// packages it uses), github.com/google/uuid and the standard library; it never links the
// server. A program that lists bots through it builds to 9.2 MB (6.3 MB stripped).
package client
