package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Deliveries is what the benchmark's webhook receiver saw over the whole run: how many
// deliveries arrived and how long after its event each did. An event's time is its write
// transaction's start (bot_events.created_at), so a latency includes the rest of that
// write, a millisecond or two, on top of the time from commit to receiver.
type Deliveries struct {
	Endpoints      int
	Received       int
	P50, P99, Max  time.Duration
	DrainedWithin  time.Duration
	DecodeFailures int `json:",omitempty"`
}

// receiver answers every delivery 204 at once and records when it came.
type receiver struct {
	srv *http.Server
	url string

	mu        sync.Mutex
	latencies []time.Duration
	failures  int
}

// startReceiver listens on loopback for the deliveries of the benchmark's webhooks.
func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	came := time.Now()
	var event struct {
		CreatedAt time.Time `json:"created_at"`
	}
	raw, err := io.ReadAll(req.Body)
	r.mu.Lock()
	if err == nil && json.Unmarshal(raw, &event) == nil && !event.CreatedAt.IsZero() {
		r.latencies = append(r.latencies, came.Sub(event.CreatedAt))
	} else {
		r.failures++
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) close() { _ = r.srv.Close() }

// stats summarises what the receiver saw.
func (r *receiver) stats(endpoints int, drained time.Duration) *Deliveries {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := slices.Clone(r.latencies)
	slices.Sort(all)
	d := &Deliveries{Endpoints: endpoints, Received: len(all), DrainedWithin: drained, DecodeFailures: r.failures}
	if len(all) > 0 {
		d.P50, d.P99, d.Max = all[len(all)/2], all[min(len(all)-1, len(all)*99/100)], all[len(all)-1]
	}
	return d
}

// subscribe replaces every webhook of the dataset with endpoints webhooks per user, each
// subscribed to every event and sending to url, so that each create is delivered that many
// times; 0 leaves none. Earlier runs' webhooks and deliveries go in any case.
func subscribe(ctx context.Context, pool *pgxpool.Pool, endpoints int, url string) error {
	if _, err := pool.Exec(ctx, "DELETE FROM webhooks"); err != nil {
		return fmt.Errorf("remove earlier webhooks: %w", err)
	}
	if endpoints == 0 {
		return nil
	}
	_, err := pool.Exec(ctx, `
		INSERT INTO webhooks (id, owner_id, url, events, secret)
		SELECT gen_random_uuid(), u.id, $1, ARRAY['*'],
		       decode(md5(random()::text) || md5(random()::text), 'hex')
		FROM users u, generate_series(1, $2::int)`, url, endpoints)
	if err != nil {
		return fmt.Errorf("subscribe webhooks: %w", err)
	}
	return nil
}

// printDeliveries prints the receiver's figures under the table.
func printDeliveries(out io.Writer, d *Deliveries) {
	ms := func(x time.Duration) string { return fmt.Sprintf("%.1fms", float64(x.Microseconds())/1000) }
	fmt.Fprintf(out, "webhooks: %d endpoints per user; %d deliveries received; from event to receiver p50 %s, p99 %s, max %s; "+
		"queue empty %s after the last scenario\n", d.Endpoints, d.Received, ms(d.P50), ms(d.P99), ms(d.Max), d.DrainedWithin.Round(time.Millisecond))
	if d.DecodeFailures > 0 {
		fmt.Fprintf(out, "webhooks: %d deliveries without an event's created_at\n", d.DecodeFailures)
	}
}
