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
	ID        int64           `json:"id"`
	BotID     string          `json:"bot_id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	RequestID string          `json:"request_id,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

func runEvents(ctx context.Context, env Env, args []string) error {
	f := newFlags("events")
	typ := f.String("type", "", "only the events of this `type` (bot.updated, bot.status_changed, version.created, ...)")
	c, id, _, done, err := f.startBot(ctx, env, args, 1, 1)
	if done {
		return err
	}
	views := []changeView{}
	for e, err := range c.Events(ctx, id, *typ) {
		if err != nil {
			return apiError(err)
		}
		views = append(views, changeViewOf(e))
	}
	if ok, err := encode(env.Stdout, *f.output, views); ok {
		return err
	}
	rows := [][]string{{"ID", "TYPE", "ACTOR", "TIME", "DATA"}}
	for _, v := range views {
		rows = append(rows, []string{fmt.Sprint(v.ID), v.Type, v.Actor, v.CreatedAt.UTC().Format(time.RFC3339), cut(string(v.Data), 80)})
	}
	return table(env.Stdout, rows)
}

func changeViewOf(e client.Event) changeView {
	return changeView{ID: e.ID, BotID: e.BotID.String(), Type: e.Type, Actor: e.Actor, RequestID: e.RequestID,
		CreatedAt: e.CreatedAt, Data: e.Data}
}

// cut shortens s to at most n characters, marking a cut with "…"; -o json prints it whole.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
