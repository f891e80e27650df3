// Package dbpool reports the database pool's statistics as Prometheus metrics, read from the
// pool itself at scrape time.
package dbpool

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	conns = prometheus.NewDesc("db_pool_connections",
		"Connections of the database pool, by state.", []string{"state"}, nil)
	maxConns = prometheus.NewDesc("db_pool_max_connections",
		"The most connections the pool opens.", nil, nil)
	acquires = prometheus.NewDesc("db_pool_acquires_total",
		"Connections taken from the pool, by outcome.", []string{"outcome"}, nil)
	acquireWait = prometheus.NewDesc("db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a pool connection.", nil, nil)
)

// NewCollector returns a collector of pool's connections by state, its size, its acquires
// by outcome and the time spent waiting for a connection: what shows a pool too small for
// its load.
func NewCollector(pool *pgxpool.Pool) prometheus.Collector { return collector{pool: pool} }

type collector struct{ pool *pgxpool.Pool }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- conns
	ch <- maxConns
	ch <- acquires
	ch <- acquireWait
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(conns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(conns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(conns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(maxConns, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(acquires, prometheus.CounterValue, float64(s.AcquireCount()), "acquired")
	ch <- prometheus.MustNewConstMetric(acquires, prometheus.CounterValue, float64(s.CanceledAcquireCount()), "canceled")
	ch <- prometheus.MustNewConstMetric(acquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()), "waited")
	ch <- prometheus.MustNewConstMetric(acquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
