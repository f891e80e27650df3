package httpapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// readLimiter keeps one user from taking a server process's database from the others; writes
// have their own rate limit (limits.go). It bounds two things per user:
//
//   - the requests in progress at once (status streams aside, which hold no connection): the
//     pool hands out its connections first come, first served, so a user with a hundred
//     requests in flight would make everyone else queue behind them;
//   - the rate of lists and searches, the reads whose cost grows with the number of bots the
//     user has (a search reads every one of them), so that a user with thousands of bots cannot
//     keep the database's cores busy with them.
//
// Both answer 429 with Retry-After. Memory stays bounded: a user is counted in flight only
// while a request of theirs runs, and the list buckets are those of the write limiter, which
// drops idle ones beyond maxTrackedUsers.
type readLimiter struct {
	// inflight is nil when requests in progress are not limited.
	inflight    *streamCounter
	maxInflight int
	lists       *writeLimiter
}

// listOperations are the operations, by method and openapi.yaml path, that count against the
// list rate.
var listOperations = map[string]bool{"GET /api/v1/bots": true}

func newReadLimiter(l Limits) *readLimiter {
	r := &readLimiter{maxInflight: l.InflightPerUser, lists: newWriteLimiter(l.ListRate, l.ListBurst)}
	if l.InflightPerUser > 0 {
		// The stream counter counts anything per user against a maximum.
		r.inflight = newStreamCounter(l.InflightPerUser)
	}
	return r
}

// admit lets a request of user run, or returns the problem that refuses it. The caller must
// call release when the request has ended.
func (r *readLimiter) admit(ctx context.Context, user uuid.UUID, op operation) (release func(), err error) {
	release = func() {}
	if r.inflight != nil && !op.streaming {
		if !r.inflight.acquire(user) {
			return nil, tooMany(ctx, fmt.Sprintf("too many requests at once: at most %d of yours may be in progress; retry in 1 second", r.maxInflight), time.Second)
		}
		release = func() { r.inflight.release(user) }
	}
	if listOperations[op.route.Method+" "+op.route.Path] {
		if ok, wait := r.lists.allow(user, time.Now()); !ok {
			release()
			secs := int(math.Ceil(wait.Seconds()))
			unit := "seconds"
			if secs == 1 {
				unit = "second"
			}
			return nil, tooMany(ctx, fmt.Sprintf("too many lists and searches; retry in %d %s", secs, unit), wait)
		}
	}
	return release, nil
}

// tooMany is a 429 rate-limited problem that says, in Retry-After, when to try again.
func tooMany(ctx context.Context, detail string, wait time.Duration) *problemError {
	p := fail(ctx, kindRateLimited, detail)
	p.header = http.Header{"Retry-After": {strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))}}
	return p
}
