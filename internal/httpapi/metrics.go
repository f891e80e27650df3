package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatsphere/bots/internal/bots"
)

// metrics is the server's Prometheus registry. Each server has its own, so that several can
// run in one process (as the tests do).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
}

func newMetrics(pool *pgxpool.Pool, svc *bots.Service, logger *slog.Logger) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "status"}),
	}
	m.registry.MustRegister(
		m.requests,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		poolCollector{pool: pool},
		&statusCollector{svc: svc, logger: logger},
	)
	return m
}

func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(methodLabel(method), route, strconv.Itoa(status)).Observe(elapsed.Seconds())
}

// methodLabel is the metrics label of a request method: the method itself when it is one of
// HTTP's standard methods (RFC 9110, and PATCH), "other" for anything else. net/http accepts
// any token as a method, so without this every made-up method would add series to every
// request metric.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

var (
	poolConns = prometheus.NewDesc("db_pool_connections",
		"Connections of the database pool, by state.", []string{"state"}, nil)
	poolMax = prometheus.NewDesc("db_pool_max_connections",
		"The most connections the pool opens.", nil, nil)
	poolAcquires = prometheus.NewDesc("db_pool_acquires_total",
		"Connections taken from the pool, by outcome.", []string{"outcome"}, nil)
	poolAcquireWait = prometheus.NewDesc("db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a pool connection.", nil, nil)
	botsByStatus = prometheus.NewDesc("bots",
		"Bots that are not deleted, by status.", []string{"status"}, nil)
)

// poolCollector reads the pool's statistics at scrape time.
type poolCollector struct{ pool *pgxpool.Pool }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolConns
	ch <- poolMax
	ch <- poolAcquires
	ch <- poolAcquireWait
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.CanceledAcquireCount()), "canceled")
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()), "waited")
	ch <- prometheus.MustNewConstMetric(poolAcquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

// statusCollector counts bots by status. Counting reads every live bot, so a count is reused
// for statusCountTTL: scrapes stay cheap however large the table grows.
type statusCollector struct {
	svc    *bots.Service
	logger *slog.Logger

	mu     sync.Mutex
	at     time.Time
	counts map[bots.Status]int64
}

const statusCountTTL = 30 * time.Second

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- botsByStatus }

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || time.Since(c.at) > statusCountTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		counts, err := c.svc.StatusCounts(ctx)
		if err != nil {
			// A scrape during a database outage still serves the other metrics.
			c.logger.Warn("count bots by status for metrics", slog.String("error", err.Error()))
			return
		}
		c.counts, c.at = counts, time.Now()
	}
	for _, s := range []bots.Status{bots.StatusTraining, bots.StatusActive, bots.StatusError} {
		ch <- prometheus.MustNewConstMetric(botsByStatus, prometheus.GaugeValue, float64(c.counts[s]), string(s))
	}
}
