package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// floodReaderConnections are the connections of the user whose reads the flood scenario
// measures: a handful, as one person's client (or one browser) has.
const floodReaderConnections = 4

// floodSearch is the flooder's request: the first page of a search, which reads every one
// of the flooder's bots.
const floodSearch = "/api/v1/bots?limit=20&q=support"

// Flood is the flood scenario: one user's GET /api/v1/bots/{id}, alone and then while another
// user, the one with the most bots, sends searches over many connections as fast as the
// server answers. It runs against a server of its own, with the per-user limits this
// environment sets (the defaults unless INFLIGHT_PER_USER, LIST_RATE or LIST_BURST is set),
// where the other scenarios' server has them off.
type Flood struct {
	// Connections are the flooder's; the reader has floodReaderConnections.
	Connections int
	// Alone and During are the reader's GETs without and with the flood; Kept is During's
	// requests per second over Alone's.
	Alone, During Measure
	Kept          float64
	// DBCoresAlone and DBCoresDuring are the cores PostgreSQL kept busy in each window.
	DBCoresAlone, DBCoresDuring float64
	// Searches, Limited and Errors count the flooder's answers in the During window: 200,
	// 429, anything else; SearchRPS and LimitedRPS are the first two per second.
	Searches, Limited, Errors int
	SearchRPS, LimitedRPS     float64
	// FirstError is one of the flooder's errors (not 429s), to tell what went wrong.
	FirstError string `json:",omitempty"`
}

// floodUsers picks the flooder, the user with the most bots, and a reader, another user, with
// the reader's sampled bots.
func floodUsers(data *sample) (flooder, reader uuid.UUID, readerBots []uuid.UUID, err error) {
	flooder = data.heavy[0]
	for _, b := range data.bots {
		if b.Owner != flooder && reader == uuid.Nil {
			reader = b.Owner
		}
		if b.Owner == reader && reader != uuid.Nil {
			readerBots = append(readerBots, b.ID)
		}
	}
	if reader == uuid.Nil {
		return flooder, reader, nil, errors.New("the flood scenario needs bots of two users")
	}
	return flooder, reader, readerBots, nil
}

// runFlood runs the flood scenario on a server of its own.
func runFlood(ctx context.Context, o Options, dbURL string, pool *pgxpool.Pool, data *sample) (*Flood, error) {
	flooder, reader, readerBots, err := floodUsers(data)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(dbURL, false)
	if err != nil {
		return nil, err
	}
	defer func() { _ = srv.Stop() }()

	readerConns := make([]*httpConn, floodReaderConnections)
	for i := range readerConns {
		readerConns[i] = newHTTPConn(srv.URL())
	}
	floodConns := make([]*httpConn, o.FloodConnections)
	for i := range floodConns {
		floodConns[i] = newHTTPConn(srv.URL())
	}
	defer func() {
		for _, c := range append(readerConns, floodConns...) {
			c.close()
		}
	}()
	readerToken, flooderToken := data.token(reader), data.token(flooder)
	get := func(ctx context.Context, w *worker) error {
		id := readerBots[w.rng.IntN(len(readerBots))]
		_, err := readerConns[w.id].call(ctx, http.MethodGet, "/api/v1/bots/"+id.String(), readerToken, nil, nil, http.StatusOK)
		return err
	}
	ro := o
	ro.Concurrency = floodReaderConnections
	// measure warms the reader up, then measures it and PostgreSQL's cores.
	measure := func() (Measure, float64) {
		warm := ro
		warm.Duration = o.Warmup
		drive(ctx, warm, get)
		before, start := sampleCPU(srv.Pid()), time.Now()
		m := drive(ctx, ro, get)
		after := sampleCPU(srv.Pid())
		m.CPU = cpuBetween(before, after, m.Requests)
		return m, float64(after.db-before.db) / float64(time.Since(start))
	}

	f := &Flood{Connections: o.FloodConnections}
	if err := settle(ctx, pool); err != nil {
		return nil, err
	}
	f.Alone, f.DBCoresAlone = measure()

	// The flooder sends its next search as soon as it has an answer, 429 or not: it is the
	// worst case, a client that ignores Retry-After.
	var searches, limited, failed atomic.Int64
	var firstErr atomic.Value
	floodCtx, stopFlood := context.WithCancel(ctx)
	defer stopFlood()
	var wg sync.WaitGroup
	for _, c := range floodConns {
		wg.Go(func() {
			for floodCtx.Err() == nil {
				_, err := c.call(floodCtx, http.MethodGet, floodSearch, flooderToken, nil, nil, http.StatusOK)
				var status *statusError
				switch {
				case err == nil:
					searches.Add(1)
				case errors.As(err, &status) && status.code == http.StatusTooManyRequests:
					limited.Add(1)
				case floodCtx.Err() == nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	// The reader's warm-up is the flood's: both are measured in the same window.
	warm := ro
	warm.Duration = o.Warmup
	drive(ctx, warm, get)
	s0, l0, e0 := searches.Load(), limited.Load(), failed.Load()
	before, start := sampleCPU(srv.Pid()), time.Now()
	f.During = drive(ctx, ro, get)
	after, elapsed := sampleCPU(srv.Pid()), time.Since(start)
	s1, l1, e1 := searches.Load(), limited.Load(), failed.Load()
	stopFlood()
	wg.Wait()
	f.During.CPU = cpuBetween(before, after, f.During.Requests)
	f.DBCoresDuring = float64(after.db-before.db) / float64(elapsed)
	f.Searches, f.Limited, f.Errors = int(s1-s0), int(l1-l0), int(e1-e0)
	f.SearchRPS, f.LimitedRPS = float64(f.Searches)/elapsed.Seconds(), float64(f.Limited)/elapsed.Seconds()
	if e, ok := firstErr.Load().(string); ok {
		f.FirstError = e
	}
	if f.Alone.RPS > 0 {
		f.Kept = f.During.RPS / f.Alone.RPS
	}
	return f, ctx.Err()
}

func printFlood(out io.Writer, f *Flood) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(out, "flood: one user's GET /api/v1/bots/{id} over %d connections, alone and while the user with the most bots searches over %d:\n",
		floodReaderConnections, f.Connections)
	fmt.Fprintf(out, "  alone:   %6.0f req/s, p50 %s, p99 %s, %d errors; PostgreSQL %.2f cores\n",
		f.Alone.RPS, ms(f.Alone.P50), ms(f.Alone.P99), f.Alone.Errors, f.DBCoresAlone)
	fmt.Fprintf(out, "  flooded: %6.0f req/s (%.0f%% of alone), p50 %s, p99 %s, %d errors; PostgreSQL %.2f cores\n",
		f.During.RPS, 100*f.Kept, ms(f.During.P50), ms(f.During.P99), f.During.Errors, f.DBCoresDuring)
	fmt.Fprintf(out, "  flooder: %6.0f searches/s answered, %.0f/s refused with 429, %d other errors\n",
		f.SearchRPS, f.LimitedRPS, f.Errors)
	for side, m := range map[string]Measure{"alone": f.Alone, "flooded": f.During} {
		if m.FirstError != "" {
			fmt.Fprintf(out, "flood %s: %d errors, for example: %s\n", side, m.Errors, m.FirstError)
		}
	}
	if f.FirstError != "" {
		fmt.Fprintf(out, "flood flooder: %d errors, for example: %s\n", f.Errors, f.FirstError)
	}
}
