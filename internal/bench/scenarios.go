package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/training"
)

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute},
}

// call sends one request and fails unless it gets want; it returns the ETag of the answer.
func call(ctx context.Context, method, url, token string, body any, header map[string]string, want int) (string, error) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return "", fmt.Errorf("%s %s: %d", method, url, res.StatusCode)
	}
	return res.Header.Get("ETag"), nil
}

// listQuery picks one of the list variants: the first page, a deep page, a filter, a search.
func listQuery(w *worker, data *sample) (uuid.UUID, string) {
	user := data.heavy[w.rng.IntN(len(data.heavy))]
	switch w.rng.IntN(4) {
	case 0:
		return user, "limit=20"
	case 1:
		return user, "limit=20&skip=" + strconv.Itoa(w.rng.IntN(2000))
	case 2:
		return user, "limit=20&status=active&sort=-updated_at"
	default:
		return data.randomBot(w).Owner, "limit=20&q=support"
	}
}

func newName(w *worker) string {
	w.created++
	return fmt.Sprintf("bench %d-%d-%d", w.id, time.Now().UnixNano(), w.created)
}

// httpScenario runs one request of a scenario against the server.
func httpScenario(ctx context.Context, name, base string, data *sample, w *worker) error {
	switch name {
	case "get":
		b := data.randomBot(w)
		_, err := call(ctx, http.MethodGet, base+"/api/v1/bots/"+b.ID.String(), data.token(b.Owner), nil, nil, http.StatusOK)
		return err
	case "list":
		owner, q := listQuery(w, data)
		_, err := call(ctx, http.MethodGet, base+"/api/v1/bots?"+q, data.token(owner), nil, nil, http.StatusOK)
		return err
	case "create":
		b := data.randomBot(w)
		_, err := call(ctx, http.MethodPost, base+"/api/v1/bots", data.token(b.Owner),
			map[string]any{"name": newName(w), "model": "gpt-4o-mini", "description": "made by the benchmark"}, nil, http.StatusCreated)
		return err
	case "update":
		owned := data.ownedBots(w)
		o := &owned[w.rng.IntN(len(owned))]
		url := base + "/api/v1/bots/" + o.bot.ID.String()
		if o.version < 0 { // learn the current ETag once
			tag, err := call(ctx, http.MethodGet, url, data.token(o.bot.Owner), nil, nil, http.StatusOK)
			if err != nil {
				return err
			}
			o.version, _ = strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
		}
		tag, err := call(ctx, http.MethodPut, url, data.token(o.bot.Owner),
			map[string]any{"temperature": float64(w.rng.IntN(21)) / 10, "description": "updated by the benchmark"},
			map[string]string{"If-Match": `"` + strconv.FormatInt(o.version, 10) + `"`}, http.StatusOK)
		if err != nil {
			o.version = -1
			return err
		}
		o.version, _ = strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
		return nil
	case "duplicate":
		b := data.randomBot(w)
		_, err := call(ctx, http.MethodPost, base+"/api/v1/bots/"+b.ID.String()+"/duplicate", data.token(b.Owner),
			map[string]any{"name": newName(w)}, nil, http.StatusCreated)
		return err
	case "mixed":
		switch r := w.rng.IntN(100); {
		case r < 50:
			return httpScenario(ctx, "get", base, data, w)
		case r < 80:
			return httpScenario(ctx, "list", base, data, w)
		case r < 90:
			return httpScenario(ctx, "create", base, data, w)
		default:
			return httpScenario(ctx, "update", base, data, w)
		}
	}
	return fmt.Errorf("unknown scenario %q", name)
}

// ceiling runs the database work of each scenario through the bot service on a pool of the
// server's size: the same SQL in the same transactions, without HTTP.
type ceiling struct {
	pool *pgxpool.Pool
	svc  *bots.Service
}

func newCeiling(ctx context.Context, dbURL string) (*ceiling, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	jobs, err := training.NewClient(pool, nil, training.Config{MaxAttempts: 1, JobTimeout: time.Second, RescueAfter: time.Minute}, discardLogger())
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &ceiling{pool: pool, svc: bots.NewService(pool, jobs)}, nil
}

func (c *ceiling) close() { c.pool.Close() }

func (c *ceiling) scenario(ctx context.Context, name string, data *sample, w *worker) error {
	switch name {
	case "get":
		b := data.randomBot(w)
		_, err := c.svc.Get(ctx, b.Owner, b.ID)
		return err
	case "list":
		owner, q := listQuery(w, data)
		p := bots.ListParams{Limit: 20, Sort: bots.SortCreatedDesc}
		switch {
		case q == "limit=20":
		case q == "limit=20&status=active&sort=-updated_at":
			s := bots.StatusActive
			p.Status, p.Sort = &s, bots.SortUpdatedDesc
		case q == "limit=20&q=support":
			s := "support"
			p.Q = &s
		default:
			skip, _ := strconv.Atoi(q[len("limit=20&skip="):])
			p.Skip = int32(skip)
		}
		_, err := c.svc.List(ctx, owner, p)
		return err
	case "create":
		b := data.randomBot(w)
		desc := "made by the benchmark"
		_, err := c.svc.Create(ctx, b.Owner, bots.CreateParams{Name: newName(w), Model: "gpt-4o-mini", Description: &desc, Temperature: 0.7})
		return err
	case "update":
		owned := data.ownedBots(w)
		o := &owned[w.rng.IntN(len(owned))]
		if o.version < 0 {
			bot, err := c.svc.Get(ctx, o.bot.Owner, o.bot.ID)
			if err != nil {
				return err
			}
			o.version = bot.Version
		}
		temp, desc := float64(w.rng.IntN(21))/10, "updated by the benchmark"
		bot, err := c.svc.Update(ctx, o.bot.Owner, o.bot.ID, bots.UpdateParams{
			Temperature: &temp, SetDescription: true, Description: &desc,
			Precondition: bots.Precondition{Required: true, Versions: []int64{o.version}},
		})
		if err != nil {
			o.version = -1
			return err
		}
		o.version = bot.Version
		return nil
	case "duplicate":
		b := data.randomBot(w)
		name := newName(w)
		_, err := c.svc.Duplicate(ctx, b.Owner, b.ID, bots.DuplicateParams{Name: &name})
		return err
	case "mixed":
		switch r := w.rng.IntN(100); {
		case r < 50:
			return c.scenario(ctx, "get", data, w)
		case r < 80:
			return c.scenario(ctx, "list", data, w)
		case r < 90:
			return c.scenario(ctx, "create", data, w)
		default:
			return c.scenario(ctx, "update", data, w)
		}
	}
	return fmt.Errorf("unknown scenario %q", name)
}
