package bots

import (
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// SetKnownUsersBound gives the service a memory of users with a small bound, so that a test
// can go far past it cheaply.
func (s *Service) SetKnownUsersBound(bound int) {
	known, err := lru.New[uuid.UUID, struct{}](bound)
	if err != nil {
		panic(err)
	}
	s.knownUsers = known
}

// KnownUsers is the service's memory of the users whose row exists.
func (s *Service) KnownUsers() *lru.Cache[uuid.UUID, struct{}] { return s.knownUsers }

// AgeStatusCount makes a bots-by-status collector's count older than it reuses a count for.
func AgeStatusCount(c prometheus.Collector) {
	sc := c.(*statusCollector)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.at = sc.at.Add(-statusCountTTL - 1)
}

// Pool is the service's pool.
func (s *Service) Pool() *pgxpool.Pool { return s.pool }
