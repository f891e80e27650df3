package bots

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SetStatusCountTimes sets how long a bots-by-status collector's count may wait for the
// database, and how long it remembers a count that failed.
func SetStatusCountTimes(c prometheus.Collector, timeout, retryAfter time.Duration) {
	sc := c.(*statusCollector)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.timeout, sc.retryAfter = timeout, retryAfter
}
