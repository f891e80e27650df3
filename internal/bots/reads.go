package bots

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/gen/db"
)

// ReadPool sends the reads that may go to a synchronous hot standby (lists and the latest
// active version of a configuration read) to pool. The primary's connections must commit with
// synchronous_commit = remote_apply (dbpool.ReadYourWrites) in every process, so that every
// write acknowledged, shown to others or notified is already applied there. What the runtime
// cache keeps is read on the primary all the same: a write of a process without remote_apply
// (or a commit whose wait for the standby was cancelled) would reach the cache's notification
// before the standby, and a value cached from the standby then would be served until the bot
// changed again, where a stale list lasts one read. The cache takes most of those reads off
// the primary anyway.
func ReadPool(pool *pgxpool.Pool) Option {
	return func(s *Service) { s.reads = &standby{pool: pool} }
}

// standbyRest is how long reads stay on the primary after the standby failed one: a standby
// that is down costs one failed attempt per this period, not one per read.
const standbyRest = 5 * time.Second

// standby is the read-only target of ReadPool, and when it last failed.
type standby struct {
	pool *pgxpool.Pool
	// restUntil is the Unix nanoseconds until which reads skip the standby.
	restUntil atomic.Int64
	// served and fellBack count the reads the standby answered and those the primary answered
	// instead, for ReadStats.
	served, fellBack atomic.Uint64
}

// ReadStats returns how many reads the standby answered and how many the primary answered in
// its stead because it failed or rested after a failure; both are 0 without ReadPool.
func (s *Service) ReadStats() (standby, primary uint64) {
	if s.reads == nil {
		return 0, 0
	}
	return s.reads.served.Load(), s.reads.fellBack.Load()
}

// read runs fn, which only reads, on the standby when there is one, and on the primary without
// one, while it rests, or when the standby failed to answer: a standby that is down, starting,
// promoted away or cancelling queries for its replay costs a read no error.
func (s *Service) read(ctx context.Context, fn func(db.DBTX) error) error {
	r := s.reads
	if r == nil {
		return fn(s.pool)
	}
	if time.Now().UnixNano() >= r.restUntil.Load() {
		err := fn(r.pool)
		if !standbyFailed(ctx, err) {
			r.served.Add(1)
			return err
		}
		r.restUntil.Store(time.Now().Add(standbyRest).UnixNano())
	}
	r.fellBack.Add(1)
	return fn(s.pool)
}

// standbyFailed says whether err means that the standby could not answer, rather than that it
// answered (with no rows, or an error any server would give) or that the caller gave up.
func standbyFailed(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, pgx.ErrNoRows) {
		return false
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return true // no answer at all: refused, reset, timed out
	}
	// 08: connection exceptions; 57P: the server is shutting down, starting or was told to
	// end the session; 40001: on a standby, a query cancelled by a conflict with its replay.
	return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "40001"
}
