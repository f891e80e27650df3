package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatsphere/bots/client"
)

// changeView is an event as -o json and -o yaml print it: the API's field names.
type changeView struct {
	ID        int64           `json:"id" yaml:"id"`
	BotID     string          `json:"bot_id" yaml:"bot_id"`
	Type      string          `json:"type" yaml:"type"`
	Actor     string          `json:"actor" yaml:"actor"`
	RequestID *string         `json:"request_id" yaml:"request_id"`
	CreatedAt time.Time       `json:"created_at" yaml:"created_at"`
	Data      json.RawMessage `json:"data" yaml:"-"`
	// DataYAML is Data for YAML, which would print raw JSON as a list of bytes.
	DataYAML any `json:"-" yaml:"data"`
}

func runEvents(ctx context.Context, env Env, args []string) error {
	f := newFlags("events")
	typ := f.String("type", "", "only the events of this `type` (bot.updated, bot.status_changed, version.created, ...)")
	c, id, _, done, err := f.startBot(ctx, env, args, 1, 1)
	if done {
		return err
	}
	events, err := collect(c.Events(ctx, id, *typ))
	if err != nil {
		return err
	}
	header := []string{"ID", "TYPE", "ACTOR", "TIME", "DATA"}
	return printList(env.Stdout, *f.output, events, changeViewOf, header, func(e client.Event) []string {
		return []string{fmt.Sprint(e.ID), e.Type, e.Actor, e.CreatedAt.UTC().Format(time.RFC3339), cut(string(e.Data), 80)}
	})
}

func changeViewOf(e client.Event) changeView {
	v := changeView{ID: e.ID, BotID: e.BotID.String(), Type: e.Type, Actor: e.Actor, RequestID: null(e.RequestID),
		CreatedAt: e.CreatedAt, Data: e.Data}
	_ = json.Unmarshal(e.Data, &v.DataYAML)
	return v
}

// cut shortens s to at most n characters, marking a cut with "…"; -o json prints it whole.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
