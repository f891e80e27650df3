package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/training"
)

// httpConn is one load worker's keep-alive HTTP/1.1 connection to the server. The requests
// are written by hand and the answers read with http.ReadResponse: net/http's client would
// spend more CPU per request than the server's own handler (a transport with two goroutines
// per connection), and on a shared machine every cycle the load generator spends is one the
// server under test does not get.
type httpConn struct {
	addr     string // host:port
	conn     net.Conn
	r        *bufio.Reader
	buf      []byte
	deadline time.Time
}

func newHTTPConn(base string) *httpConn { return &httpConn{addr: strings.TrimPrefix(base, "http://")} }

// call sends one request and fails unless it gets want; it returns the ETag of the answer.
func (h *httpConn) call(ctx context.Context, method, path, token string, body any, header map[string]string, want int) (string, error) {
	if h.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", h.addr)
		if err != nil {
			return "", err
		}
		h.conn, h.r, h.deadline = c, bufio.NewReaderSize(c, 16<<10), time.Time{}
	}
	// The end of the run ends a request in flight; no deadline (the zero time) clears it.
	if d, _ := ctx.Deadline(); !d.Equal(h.deadline) {
		_ = h.conn.SetDeadline(d)
		h.deadline = d
	}
	b := append(h.buf[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, h.addr...)
	b = append(b, "\r\nAuthorization: Bearer "...)
	b = append(b, token...)
	for k, v := range header {
		b = append(b, "\r\n"...)
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, v...)
	}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return "", err
		}
		b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(raw)), 10)
		b = append(b, "\r\n\r\n"...)
		b = append(b, raw...)
	} else {
		b = append(b, "\r\n\r\n"...)
	}
	h.buf = b
	res, err := h.roundTrip(b, method)
	if err != nil || res.Close {
		h.close() // the next call connects again
	}
	if err != nil {
		return "", err
	}
	if res.StatusCode != want {
		return "", &statusError{method: method, path: path, code: res.StatusCode}
	}
	return res.Header.Get("ETag"), nil
}

// statusError is an answer with another status than the one a call wanted.
type statusError struct {
	method, path string
	code         int
}

func (e *statusError) Error() string { return fmt.Sprintf("%s %s: %d", e.method, e.path, e.code) }

func (h *httpConn) roundTrip(req []byte, method string) (*http.Response, error) {
	if _, err := h.conn.Write(req); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(h.r, &http.Request{Method: method})
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, err
}

func (h *httpConn) close() {
	if h.conn != nil {
		_ = h.conn.Close()
		h.conn = nil
	}
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
func httpScenario(ctx context.Context, name string, h *httpConn, data *sample, w *worker) error {
	switch name {
	case "get":
		b := data.randomBot(w)
		_, err := h.call(ctx, http.MethodGet, "/api/v1/bots/"+b.ID.String(), data.token(b.Owner), nil, nil, http.StatusOK)
		return err
	case "list":
		owner, q := listQuery(w, data)
		_, err := h.call(ctx, http.MethodGet, "/api/v1/bots?"+q, data.token(owner), nil, nil, http.StatusOK)
		return err
	case "create":
		b := data.randomBot(w)
		_, err := h.call(ctx, http.MethodPost, "/api/v1/bots", data.token(b.Owner),
			map[string]any{"name": newName(w), "model": "gpt-4o-mini", "description": "made by the benchmark"}, nil, http.StatusCreated)
		return err
	case "update":
		i := data.owned(w)
		b, url := data.bots[i], "/api/v1/bots/"+data.bots[i].ID.String()
		if data.versions[i] < 0 { // learn the current ETag after a failure
			tag, err := h.call(ctx, http.MethodGet, url, data.token(b.Owner), nil, nil, http.StatusOK)
			if err != nil {
				return err
			}
			data.versions[i], _ = strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
		}
		tag, err := h.call(ctx, http.MethodPut, url, data.token(b.Owner),
			map[string]any{"temperature": float64(w.rng.IntN(11)) / 10, "description": "updated by the benchmark"}, // within every model's range
			map[string]string{"If-Match": `"` + strconv.FormatInt(data.versions[i], 10) + `"`}, http.StatusOK)
		if err != nil {
			data.versions[i] = -1
			return err
		}
		data.versions[i], _ = strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
		return nil
	case "duplicate":
		b := data.randomBot(w)
		_, err := h.call(ctx, http.MethodPost, "/api/v1/bots/"+b.ID.String()+"/duplicate", data.token(b.Owner),
			map[string]any{"name": newName(w)}, nil, http.StatusCreated)
		return err
	case "config":
		return httpConfig(ctx, h, data, w)
	case "versions":
		return httpVersions(ctx, h, data, w)
	case "alias":
		return httpAlias(ctx, h, data, w)
	case "mixed":
		switch r := w.rng.IntN(100); {
		case r < 50:
			return httpScenario(ctx, "get", h, data, w)
		case r < 80:
			return httpScenario(ctx, "list", h, data, w)
		case r < 90:
			return httpScenario(ctx, "create", h, data, w)
		default:
			return httpScenario(ctx, "update", h, data, w)
		}
	}
	return fmt.Errorf("unknown scenario %q", name)
}

// ceiling runs the database work of each scenario through the bot service on a pool of the
// server's size: the same SQL in the same transactions, without HTTP (a create or duplicate
// runs in a transaction of its own, as for a request without an Idempotency-Key). Like the server it
// trains the bots it creates, with as many workers on the same pool, on a queue of its own:
// otherwise the server's workers would train them on connections of their own, and the
// ceiling's writes would have more connections than the server's.
type ceiling struct {
	pool *pgxpool.Pool
	svc  *bots.Service
	jobs *training.Client
}

// ceilingQueue is the River queue of the trainings the ceiling queues.
const ceilingQueue = "bench_ceiling"

func newCeiling(ctx context.Context, dbURL string) (*ceiling, error) {
	pool, err := newPool(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	// The server's training settings: its defaults, or what this environment (which the
	// server inherits) sets. Purges are left to the server.
	cfg, err := config.Load(os.Getenv, false)
	if err != nil {
		pool.Close()
		return nil, err
	}
	cfg.Training.PurgeInterval = 0
	jobs, err := training.NewClient(pool, training.CatalogTrainer{}, cfg.Training, discardLogger(), training.OnQueue(ceilingQueue))
	if err != nil {
		pool.Close()
		return nil, err
	}
	c := &ceiling{pool: pool, svc: bots.NewService(pool, jobs), jobs: jobs}
	if err := jobs.Start(ctx, c.svc); err != nil {
		pool.Close()
		return nil, err
	}
	return c, nil
}

func (c *ceiling) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.jobs.Stop(ctx)
	c.pool.Close()
}

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
		_, err := bots.InTx(ctx, c.pool, func(tx pgx.Tx) (bots.Bot, error) {
			return c.svc.CreateTx(ctx, tx, b.Owner, bots.CreateParams{Name: newName(w), Model: "gpt-4o-mini", Description: &desc, Temperature: 0.7})
		})
		return err
	case "update":
		i := data.owned(w)
		b := data.bots[i]
		if data.versions[i] < 0 {
			bot, err := c.svc.Get(ctx, b.Owner, b.ID)
			if err != nil {
				return err
			}
			data.versions[i] = bot.Version
		}
		temp, desc := float64(w.rng.IntN(11))/10, "updated by the benchmark" // within every model's range
		bot, err := c.svc.Update(ctx, b.Owner, b.ID, bots.UpdateParams{
			Temperature: &temp, SetDescription: true, Description: &desc,
			Precondition: bots.Precondition{Required: true, Versions: []int64{data.versions[i]}},
		})
		if err != nil {
			data.versions[i] = -1
			return err
		}
		data.versions[i] = bot.Version
		return nil
	case "duplicate":
		b := data.randomBot(w)
		name := newName(w)
		_, err := bots.InTx(ctx, c.pool, func(tx pgx.Tx) (bots.Bot, error) {
			return c.svc.DuplicateTx(ctx, tx, b.Owner, b.ID, bots.DuplicateParams{Name: &name}, bots.Precondition{})
		})
		return err
	case "config":
		return c.config(ctx, data, w)
	case "versions":
		return c.versions(ctx, data, w)
	case "alias":
		return c.alias(ctx, data, w)
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
