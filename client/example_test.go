package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/chatsphere/bots/client"
)

// The examples read the API's address and a token from BOTS_API_URL and BOTS_TOKEN, as the
// bots command line does. In this package's tests they run against a real server that
// TestMain starts, and their output is checked.

// Create a bot, change it without overwriting anyone else's change, and list bots.
func Example() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(ctx, client.CreateParams{Name: "Support", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	bot, err = c.Update(ctx, bot.ID, func(b *client.Bot) error {
		b.Temperature = 0.2
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.Name, bot.Temperature)
	for b, err := range c.All(ctx, client.ListOptions{Query: "support"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listed:", b.Name)
	}
	// Output:
	// Support 0.2
	// listed: Support
}

// Every answer that is not a success is a *Problem; a 422 lists the fields at fault.
func ExampleProblem() {
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	temperature := 3.0
	_, err = c.Create(context.Background(), client.CreateParams{Name: "Hot", Model: "gpt-4o-mini", Temperature: &temperature})
	var p *client.Problem
	if errors.As(err, &p) && p.Status == http.StatusUnprocessableEntity {
		fmt.Println(p.Type)
		for _, f := range p.Errors {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
	// Output:
	// /problems/validation
	// temperature: must be at most 2
}

// Update reads the bot, applies the function and writes with If-Match; when another writer
// got there first it reads again and applies the function to the new state.
func ExampleClient_Update() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	description := "Answers billing questions."
	bot, err := c.Create(ctx, client.CreateParams{Name: "Billing", Model: "gpt-4o-mini", Description: &description})
	if err != nil {
		log.Fatal(err)
	}
	bot, err = c.Update(ctx, bot.ID, func(b *client.Bot) error {
		b.Description = nil // clears the description
		b.IsPublic = true
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.Description == nil, bot.IsPublic)
	// Output: true true
}

// All reads page after page as the loop asks for more; filters and sort apply to the whole
// list.
func ExampleClient_All() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"Report A", "Report B", "Report C"} {
		if _, err := c.Create(ctx, client.CreateParams{Name: name, Model: "gpt-4o-mini"}); err != nil {
			log.Fatal(err)
		}
	}
	// Two bots a page: the loop reads two pages.
	for b, err := range c.All(ctx, client.ListOptions{Query: "report", Sort: client.SortNameDesc, PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.Name)
	}
	// Output:
	// Report C
	// Report B
	// Report A
}

// WatchStatus follows a bot's status until the caller has seen enough; here, until a new
// bot's training ends.
func ExampleClient_WatchStatus() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(ctx, client.CreateParams{Name: "Watched", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	for e, err := range c.WatchStatus(ctx, bot.ID) {
		if err != nil {
			log.Fatal(err)
		}
		if e.To != client.StatusTraining {
			fmt.Println("trained:", e.To)
			break
		}
	}
	// Output: trained: active
}

// A change of a bot's model, temperature or system prompt records a new version; Diff shows
// what changed and Revert goes back. Reverting to an active version is an instant rollback.
func ExampleClient_Revert() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(ctx, client.CreateParams{Name: "Rolled back", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	trained(ctx, c, bot)
	bot, err = c.Update(ctx, bot.ID, func(b *client.Bot) error {
		b.SystemPrompt = "Answer in one sentence."
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	patch, err := c.Diff(ctx, bot.ID, bot.ConfigVersion, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, op := range patch {
		fmt.Println(op.Op, op.Path, op.Value)
	}
	// An empty ETag reverts the bot as it is now; bot.ETag would revert only if nothing
	// changed it since the update (its training may have ended in between).
	v, err := c.Revert(ctx, bot.ID, 1, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version", v.Number, v.Source, "of version", *v.RevertedFrom, v.Status)
	for v, err := range c.Versions(ctx, bot.ID) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v.Number, v.Source)
	}
	// Output:
	// replace /system_prompt Answer in one sentence.
	// version 3 revert of version 1 active
	// 3 revert
	// 2 update
	// 1 create
}

// A chat runtime reads the configuration it runs by alias; moving the alias releases a
// version (or rolls one back) without touching the runtime.
func ExampleClient_Config() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(ctx, client.CreateParams{Name: "Released", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	trained(ctx, c, bot)
	if _, err := c.SetAlias(ctx, bot.ID, "production", 1); err != nil {
		log.Fatal(err)
	}
	cfg, err := c.Config(ctx, bot.ID, client.ConfigOptions{Alias: "production"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Alias, "runs version", cfg.Version, "on", cfg.Model)
	aliases, err := c.Aliases(ctx, bot.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range aliases {
		fmt.Println(a.Name, "->", a.Version)
	}
	// Output:
	// production runs version 1 on gpt-4o-mini
	// production -> 1
}

// Delete asks for the bot's ETag, so that a bot changed since it was read is not deleted;
// the owner can bring a deleted bot back.
func ExampleClient_Delete() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(ctx, client.CreateParams{Name: "Short-lived", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	trained(ctx, c, bot) // the end of training changes the bot, and so its ETag
	if bot, err = c.Get(ctx, bot.ID); err != nil {
		log.Fatal(err)
	}
	if err := c.Delete(ctx, bot.ID, bot.ETag); err != nil {
		log.Fatal(err)
	}
	_, err = c.Get(ctx, bot.ID)
	var p *client.Problem
	fmt.Println(errors.As(err, &p) && p.Status == http.StatusNotFound)
	bot, err = c.Restore(ctx, bot.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.Name, "is back")
	// Output:
	// true
	// Short-lived is back
}

// Retries of reads, creates and duplicates are bounded: here, while the service cannot be
// reached, up to a minute of waiting between tries, and up to 6 tries while it answers 503
// or 429. A create is retried with the same Idempotency-Key, so a retry never makes a second
// bot.
func ExampleWithRetry() {
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"),
		client.WithRetry(6, time.Minute), client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(context.Background(), client.CreateParams{Name: "Patient", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.Name)
	// Output: Patient
}

// trained waits until the bot's training ends.
func trained(ctx context.Context, c *client.Client, bot client.Bot) {
	for e, err := range c.WatchStatus(ctx, bot.ID) {
		if err != nil {
			log.Fatal(err)
		}
		if e.To != client.StatusTraining {
			return
		}
	}
}

// A receiver verifies each delivery before it trusts it: here an http.Handler on 127.0.0.1,
// registered as a webhook for the caller's new bots. (The service accepts such a URL only when
// it runs with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE, as in development; in production
// the URL is https and public.)
func ExampleVerifyWebhook() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("BOTS_API_URL"), os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	// The receiver listens before the webhook is registered, so the URL is known; it serves
	// once the secret is, and connections wait until then.
	receiver := httptest.NewUnstartedServer(nil)
	defer receiver.Close()
	hook, err := c.CreateWebhook(ctx, client.WebhookParams{URL: "http://" + receiver.Listener.Addr().String() + "/hooks",
		Events: []string{"bot.created"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.DeleteWebhook(ctx, hook.ID, "")
	types := make(chan string, 1)
	receiver.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := client.VerifyWebhook(hook.Secret, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized) // forged, damaged or stale: not processed
			return
		}
		// The body is the event as Client.Events reads it; deduplicate by webhook-id.
		var event struct {
			Type  string `json:"type"`
			BotID string `json:"bot_id"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		select {
		case types <- event.Type:
		default: // a repeated delivery
		}
	})
	receiver.Start()

	if _, err := c.Create(ctx, client.CreateParams{Name: "Announced", Model: "gpt-4o-mini"}); err != nil {
		log.Fatal(err)
	}
	select {
	case typ := <-types:
		fmt.Println("verified:", typ)
	case <-time.After(time.Minute):
		log.Fatal("no verified delivery within a minute")
	}
	// Output: verified: bot.created
}
