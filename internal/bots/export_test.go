package bots

import (
	"context"

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

// ExplainMiss is explainMiss on the service's pool: why a write of the caller's bot id under
// pre (a restore when restoring) matched no row, as told after the write.
func (s *Service) ExplainMiss(ctx context.Context, caller, id uuid.UUID, restoring bool, pre Precondition) error {
	return s.explainMiss(ctx, s.pool, caller, id, restoring, pre)
}

// ExplainAliasMiss is explainAliasMiss in a transaction of the service's pool: why a write of
// the alias name of the caller's bot id under c (a put of version, or a delete when version
// is nil) matched no row, as told after the write.
func (s *Service) ExplainAliasMiss(ctx context.Context, caller, id uuid.UUID, name string, c AliasCondition, version *int32) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	return s.explainAliasMiss(ctx, tx, caller, id, name, c, version)
}

// ErrAliasWriteRaced is errAliasWriteRaced: a put without a precondition that PutAlias runs
// once more.
var ErrAliasWriteRaced = errAliasWriteRaced
