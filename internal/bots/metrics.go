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

// NewStatusCollector returns a collector of the bots that are not deleted, by status.
// Counting reads every live bot, so a count is reused for statusCountTTL: scrapes stay cheap
// however large the table grows. When the database cannot be reached, the failure is logged
// and the scrape goes on without the counts.
func NewStatusCollector(svc *Service, logger *slog.Logger) prometheus.Collector {
	return &statusCollector{svc: svc, logger: logger}
}

type statusCollector struct {
	svc    *Service
	logger *slog.Logger

	mu     sync.Mutex
	at     time.Time
	counts map[Status]int64
}

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
	for _, s := range []Status{StatusTraining, StatusActive, StatusError} {
		ch <- prometheus.MustNewConstMetric(botsByStatus, prometheus.GaugeValue, float64(c.counts[s]), string(s))
	}
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
