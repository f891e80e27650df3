package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/cli"
	"github.com/chatsphere/bots/internal/dbtest"
)

// answerAfter is a person at a terminal who types answer; before runs first, once, while the
// question is on the screen.
type answerAfter struct {
	answer string
	before func()
	read   *strings.Reader
}

func (a *answerAfter) Read(p []byte) (int, error) {
	if a.read == nil {
		a.before()
		a.read = strings.NewReader(a.answer)
	}
	return a.read.Read(p)
}

// delivered waits until the one delivery of the webhook id is recorded as delivered, and
// returns the deliveries as `webhooks deliveries -o json` prints them.
func (u *user) delivered(id string) []map[string]any {
	u.t.Helper()
	var deliveries []map[string]any
	for waiting := ctx(u.t); ; time.Sleep(50 * time.Millisecond) {
		require.NoError(u.t, json.Unmarshal([]byte(u.ok("webhooks", "deliveries", id, "-o", "json")), &deliveries))
		if len(deliveries) == 1 && deliveries[0]["state"] == "delivered" {
			return deliveries
		}
		require.NoError(u.t, waiting.Err(), "the delivery was not recorded as delivered: %v", deliveries)
	}
}

func TestWebhookCommands(t *testing.T) {
	t.Parallel()
	url, dsn := startServerOn(t, dbtest.URL(t))

	t.Run("CreateListGetRotateAndRemove", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		r := u.run("webhooks", "create", "--url", "https://hooks.example.com/a", "--events", "bot.created,bot.deleted", "--description", "Pager", "-o", "json")
		require.Equal(t, 0, r.code, r.seen())
		require.Contains(t, r.stderr, "Keep the secret: it is not shown again.")
		var created map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &created))
		require.Regexp(t, `^whsec_`, created["secret"])
		require.Equal(t, []any{"bot.created", "bot.deleted"}, created["events"])
		require.Equal(t, true, created["enabled"])
		require.Equal(t, "Pager", created["description"])
		id := created["id"].(string)
		u.ok("webhooks", "create", "--url", "https://hooks.example.com/b", "--disabled")

		require.Regexp(t, `^ID +URL +EVENTS +ENABLED +UPDATED\n`+id+` +https://hooks\.example\.com/a +bot\.created,bot\.deleted +yes +\S+\n\S+ +https://hooks\.example\.com/b +\* +no +\S+\n$`,
			u.ok("webhooks", "list"), "oldest first; every type by default")
		var listed []map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(u.ok("webhooks", "list", "-o", "yaml")), &listed))
		require.Len(t, listed, 2)
		require.NotContains(t, listed[0], "secret")

		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "get", id, "-o", "json")), &got))
		require.NotContains(t, got, "secret", "the secret is shown only once")
		require.NotEmpty(t, got["etag"])
		require.Regexp(t, `(?m)^url: +https://hooks\.example\.com/a$`, u.ok("webhooks", "get", id))

		rotated := u.run("webhooks", "rotate", id)
		require.Equal(t, 0, rotated.code, rotated.seen())
		require.Regexp(t, `(?m)^secret: +whsec_\S+$`, rotated.stdout)
		require.NotContains(t, rotated.stdout, created["secret"].(string))

		require.Equal(t, 2, u.run("webhooks", "rm", id).code, "without a terminal, rm needs --yes")
		declined := u.runWith(terminal("n\n"), "webhooks", "rm", id)
		require.Equal(t, 1, declined.code, declined.seen())
		require.Contains(t, declined.stderr, "Delete the webhook to https://hooks.example.com/a")
		require.Equal(t, "deleted webhook "+id+"\n", u.ok("webhooks", "rm", id, "--yes"))
		gone := u.run("webhooks", "get", id)
		require.Equal(t, 1, gone.code, gone.seen())
		require.Contains(t, gone.seen(), "404 Not Found")
	})

	t.Run("EventsMayHaveSpacesAfterTheirCommas", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		var created map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "create", "--url", "https://hooks.example.com/a",
			"--events", " bot.created, bot.updated ,bot.deleted", "-o", "json")), &created))
		require.Equal(t, []any{"bot.created", "bot.updated", "bot.deleted"}, created["events"])
	})

	t.Run("RemoveKeepsAWebhookChangedSinceTheQuestion", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		var created map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "create", "--url", "https://hooks.example.com/a", "-o", "json")), &created))
		id, err := uuid.Parse(created["id"].(string))
		require.NoError(t, err)
		// Someone disables the webhook while the person reads the question, then they answer yes.
		changeThenYes := func(e cli.Env) cli.Env {
			e.Terminal, e.Stdin = true, &answerAfter{answer: "y\n", before: func() {
				_, err := u.sdk().UpdateWebhook(ctx(t), id, func(w *client.Webhook) error { w.Enabled = false; return nil })
				require.NoError(t, err)
			}}
			return e
		}
		r := u.runWith(changeThenYes, "webhooks", "rm", id.String())
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.err.Error(), "webhooks rm: not deleted: the webhook changed since you confirmed")
		require.NotContains(t, r.seen(), "If-Match", "the person sent no If-Match")
		w, err := u.sdk().Webhook(ctx(t), id)
		require.NoError(t, err, "the webhook is kept")
		require.False(t, w.Enabled)
	})

	t.Run("DeliveriesShowHowTheSendingWent", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		t.Cleanup(receiver.Close)
		var hook map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "create", "--url", receiver.URL, "--events", "bot.created", "-o", "json")), &hook))
		id := hook["id"].(string)
		u.createBots("Announced")

		deliveries := u.delivered(id)
		require.Equal(t, "bot.created", deliveries[0]["event_type"])
		require.EqualValues(t, 204, deliveries[0]["last_status"])
		require.Nil(t, deliveries[0]["next_attempt_at"])
		require.Regexp(t, `^ID +EVENT +TYPE +STATE +ATTEMPTS +STATUS +LATENCY +NEXT +CREATED +ERROR\n\d+ +\d+ +bot\.created +delivered +1 +204 +\d+ms +- +\S+\n$`,
			u.ok("webhooks", "deliveries", id))
	})

	t.Run("RedeliverSendsTheEventAgain", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		got := make(chan string, 4)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Get("webhook-id")
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(receiver.Close)
		var hook map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "create", "--url", receiver.URL, "--events", "bot.created", "-o", "json")), &hook))
		id := hook["id"].(string)
		u.createBots("Sent twice")
		first := <-got
		deliveries := u.delivered(id)
		delivery := fmt.Sprint(deliveries[0]["id"])

		out := u.ok("webhooks", "redeliver", id, delivery)
		require.Regexp(t, `^ID +EVENT +TYPE +STATE +ATTEMPTS +STATUS +LATENCY +NEXT +CREATED +ERROR\n\d+ +`+fmt.Sprint(deliveries[0]["event_id"])+` +bot\.created +pending +0 +- +- +`, out)
		require.NotRegexp(t, `\n`+delivery+` `, out, "a new delivery")
		select {
		case again := <-got:
			require.Equal(t, first, again, "the same message")
		case <-ctx(t).Done():
			t.Fatal("the event was not sent again")
		}

		other := newUser(t, url).run("webhooks", "redeliver", id, delivery)
		require.Equal(t, 1, other.code, other.seen())
		require.Contains(t, other.seen(), "404 Not Found")
	})

	t.Run("GetAndListShowAWebhookTheServiceDisabled", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		var hook map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "create", "--url", "https://hooks.example.com/failing", "-o", "json")), &hook))
		require.Nil(t, hook["failing_since"])
		require.Nil(t, hook["disabled_reason"])
		id := hook["id"].(string)
		require.NotContains(t, u.ok("webhooks", "get", id), "failing since:")

		// Only the service writes these, as its worker does when it disables a webhook.
		conn, err := pgx.Connect(ctx(t), dsn)
		require.NoError(t, err)
		defer conn.Close(ctx(t))
		_, err = conn.Exec(ctx(t), `UPDATE webhooks SET enabled = false, failing_since = '2026-01-01T00:00:00Z',
			disabled_at = '2026-01-04T00:00:00Z', disabled_reason = 'every attempt since 2026-01-01T00:00:00Z failed: the endpoint answered 503'
			WHERE id = $1`, id)
		require.NoError(t, err)

		got := u.ok("webhooks", "get", id)
		require.Regexp(t, `(?m)^failing since: +2026-01-01T00:00:00Z$`, got)
		require.Regexp(t, `(?m)^disabled at: +2026-01-04T00:00:00Z$`, got)
		require.Regexp(t, `(?m)^disabled because: +every attempt since 2026-01-01T00:00:00Z failed: the endpoint answered 503$`, got)
		var view map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("webhooks", "get", id, "-o", "json")), &view))
		require.Equal(t, "2026-01-01T00:00:00Z", view["failing_since"])
		require.Contains(t, view["disabled_reason"], "answered 503")
		require.Regexp(t, `\n`+id+` +https://hooks\.example\.com/failing +\* +no \(failing\) +\S+\n$`, u.ok("webhooks", "list"))
	})

	t.Run("AWrongCommandLineSendsNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		for _, args := range [][]string{
			{"webhooks"}, {"webhooks", "frob"}, {"webhooks", "get"}, {"webhooks", "get", "not-an-id"},
			{"webhooks", "create"}, {"webhooks", "list", "--url", "https://hooks.example.com/a"},
			{"webhooks", "get", "0d5c2f6e-3b1a-4c8e-9f7d-2a6b4c8e0f1a", "--yes"},
			{"webhooks", "redeliver", "0d5c2f6e-3b1a-4c8e-9f7d-2a6b4c8e0f1a"}, {"webhooks", "redeliver", "0d5c2f6e-3b1a-4c8e-9f7d-2a6b4c8e0f1a", "x"},
			{"webhooks", "redeliver", "0d5c2f6e-3b1a-4c8e-9f7d-2a6b4c8e0f1a", "0"}, {"webhooks", "get", "0d5c2f6e-3b1a-4c8e-9f7d-2a6b4c8e0f1a", "1"},
		} {
			r := u.run(args...)
			require.Equal(t, 2, r.code, "%v is a usage error: %s", args, r.seen())
		}
		refused := u.run("webhooks", "create", "--url", "https://hooks.example.com/a", "--events", "bot.renamed")
		require.Equal(t, 1, refused.code, refused.seen())
		require.Contains(t, refused.seen(), "422")
	})
}
