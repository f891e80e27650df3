package bots

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var botsByStatus = prometheus.NewDesc("bots",
	"Bots that are not deleted, by status.", []string{"status"}, nil)

// statusCountTTL is how long a count of bots by status is reused.
const statusCountTTL = 30 * time.Second

// statusCountTimeout bounds one count: a scrape waits no longer for the database.
const statusCountTimeout = time.Second

// statusCountRetryAfter is how long a failed count is remembered: scrapes meanwhile go on
// without the counts rather than wait on a database that just failed to answer.
const statusCountRetryAfter = 5 * time.Second

// NewStatusCollector returns a collector of the bots that are not deleted, by status.
// Counting reads every live bot, so a count is reused for statusCountTTL: scrapes stay cheap
// however large the table grows. One scrape at a time counts, for at most
// statusCountTimeout; scrapes that come meanwhile do not wait for it, and serve the count
// before (or none). When the count fails, the failure is logged, the scrape goes on without
// the counts, and so do the scrapes of the next statusCountRetryAfter.
func NewStatusCollector(svc *Service, logger *slog.Logger) prometheus.Collector {
	return &statusCollector{svc: svc, logger: logger, timeout: statusCountTimeout, retryAfter: statusCountRetryAfter}
}

type statusCollector struct {
	svc        *Service
	logger     *slog.Logger
	timeout    time.Duration // statusCountTimeout, but in tests
	retryAfter time.Duration // statusCountRetryAfter, but in tests

	mu         sync.Mutex
	at         time.Time
	counts     map[Status]int64 // nil: none to serve, as after a failed count
	failedAt   time.Time
	refreshing bool
}

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- botsByStatus }

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.current()
	if counts == nil {
		return
	}
	for _, s := range []Status{StatusTraining, StatusActive, StatusError} {
		ch <- prometheus.MustNewConstMetric(botsByStatus, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

// current returns the counts to serve, counting again when the last count is too old, no
// other scrape is counting and no count failed in the last statusCountRetryAfter.
func (c *statusCollector) current() map[Status]int64 {
	c.mu.Lock()
	stale := c.counts == nil || time.Since(c.at) > statusCountTTL
	if !stale || c.refreshing || time.Since(c.failedAt) < c.retryAfter {
		defer c.mu.Unlock()
		return c.counts
	}
	c.refreshing = true
	timeout := c.timeout
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	counts, err := c.svc.StatusCounts(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err != nil {
		// A scrape during a database outage still serves the other metrics.
		c.logger.Warn("count bots by status for metrics", slog.String("error", err.Error()))
		c.counts, c.failedAt = nil, time.Now()
		return nil
	}
	c.counts, c.at = counts, time.Now()
	return counts
}

var configCacheRequests = prometheus.NewDesc("bots_config_cache_requests_total",
	"Lookups of the runtime read path's cache (GET /api/v1/bots/{id}/config), by result: hit, or miss (read from the database); none while the cache is off or bypassed.",
	[]string{"result"}, nil)

// NewRuntimeCacheCollector returns a collector of the runtime read path's cache hits and
// misses.
func NewRuntimeCacheCollector(svc *Service) prometheus.Collector {
	return runtimeCacheCollector{svc}
}

type runtimeCacheCollector struct{ svc *Service }

var configCacheBytes = prometheus.NewDesc("bots_config_cache_bytes",
	"About how much memory the runtime read path's cache holds (CONFIG_CACHE_MB bounds it).", nil, nil)

var configCacheInUse = prometheus.NewDesc("bots_config_cache_in_use",
	"1 while the runtime read path serves from its cache, 0 while it is off or bypassed because the notification feed is not listening.", nil, nil)

func (runtimeCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- configCacheRequests
	ch <- configCacheBytes
	ch <- configCacheInUse
}

func (c runtimeCacheCollector) Collect(ch chan<- prometheus.Metric) {
	inUse := 0.0
	if c.svc.RuntimeCacheListening() {
		inUse = 1
	}
	ch <- prometheus.MustNewConstMetric(configCacheInUse, prometheus.GaugeValue, inUse)
	ch <- prometheus.MustNewConstMetric(configCacheBytes, prometheus.GaugeValue, float64(c.svc.RuntimeCacheBytes()))
	hits, misses := c.svc.RuntimeCacheStats()
	ch <- prometheus.MustNewConstMetric(configCacheRequests, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(configCacheRequests, prometheus.CounterValue, float64(misses), "miss")
}

// NewStandbyReadsCollector returns a collector of the reads that may go to the standby of
// DATABASE_READ_URL, by the server that answered them: a rising count on the primary shows a
// standby that fails. Without a standby it reports nothing.
func NewStandbyReadsCollector(svc *Service) prometheus.Collector { return standbyReadsCollector{svc} }

type standbyReadsCollector struct{ svc *Service }

var standbyReads = prometheus.NewDesc("bots_standby_reads_total",
	"Reads that may go to the standby of DATABASE_READ_URL, by the server that answered: standby, or primary when the standby failed or rested after a failure.", []string{"server"}, nil)

func (standbyReadsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- standbyReads }

func (c standbyReadsCollector) Collect(ch chan<- prometheus.Metric) {
	if c.svc.reads == nil {
		return
	}
	standby, primary := c.svc.ReadStats()
	ch <- prometheus.MustNewConstMetric(standbyReads, prometheus.CounterValue, float64(standby), "standby")
	ch <- prometheus.MustNewConstMetric(standbyReads, prometheus.CounterValue, float64(primary), "primary")
}
