package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// readLimiter keeps one user from taking a server process's database from the others; writes
// have their own rate limit (limits.go). It bounds, per user:
//
//   - lists and searches, the reads whose cost grows with the number of bots the user has (a
//     search reads every one of them): how many a second, and one at a time, so that a user
//     with thousands of bots keeps at most one of the database's connections and cores busy
//     with them, however long each one takes;
//   - the requests in progress at once (status streams aside, which hold no connection): the
//     pool hands out its connections first come, first served, so a user with a hundred
//     requests in flight would make everyone else queue behind them.
//
// A request over a limit waits for its user's next turn, using no CPU, for up to admitWait.
// When the turn is further off, the request is refused with 429 and Retry-After, but only at
// the end of that wait: a client that ignores Retry-After and asks again at once, on many
// connections, gets one answer per connection and admitWait, and cannot make the server spend
// its cores on refusals instead of on other users' requests.
//
// Memory stays bounded: a user's slots exist only while a request of theirs runs or waits,
// and the list buckets are kept like the write limiter's: those of the maxTrackedUsers users
// who listed last.
type readLimiter struct {
	lists *writeLimiter
	// listing holds each user's one list in progress; nil, as lists is then, when lists are
	// not limited.
	listing *slots
	// inflight is nil when requests in progress are not limited.
	inflight *slots
}

// admitWait is the longest a request waits for its user's turn.
const admitWait = time.Second

// listOperations are the operations, by method and openapi.yaml path, that count against the
// list rate.
var listOperations = map[string]bool{"GET /api/v1/bots": true}

func newReadLimiter(l Limits) *readLimiter {
	r := &readLimiter{lists: newWriteLimiter(l.ListRate, l.ListBurst)}
	if l.ListRate > 0 {
		r.listing = newSlots(1)
	}
	if l.InflightPerUser > 0 {
		r.inflight = newSlots(l.InflightPerUser)
	}
	return r
}

// admit lets a request of user run, waiting for the user's turn if needed, or returns the
// problem that refuses it. The caller must call release when the request has ended.
func (r *readLimiter) admit(ctx context.Context, user uuid.UUID, op operation) (release func(), err error) {
	release = func() {}
	list := r.listing != nil && listOperations[op.route.Method+" "+op.route.Path]
	if list {
		now := time.Now()
		res := r.lists.reserve(user, now)
		delay := res.DelayFrom(now)
		if delay > admitWait {
			res.CancelAt(now)
			_ = pause(ctx, admitWait)
			return nil, tooMany(ctx, "too many lists and searches", delay-admitWait)
		}
		if !pause(ctx, delay) {
			res.Cancel()
			return nil, ctx.Err()
		}
		if err := r.listing.acquire(ctx, user, admitWait); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, tooMany(ctx, "your lists and searches run one at a time, and those before this one are still running", time.Second)
		}
		release = func() { r.listing.release(user) }
	}
	if r.inflight == nil || op.streaming {
		return release, nil
	}
	if err := r.inflight.acquire(ctx, user, admitWait); err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, tooMany(ctx, fmt.Sprintf("too many requests at once: at most %d of yours may be in progress", r.inflight.max), time.Second)
	}
	listRelease := release
	return func() {
		r.inflight.release(user)
		listRelease()
	}, nil
}

// pause waits for d, or until ctx is done; it reports whether it waited the whole time.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// tooMany is a 429 rate-limited problem whose detail and Retry-After say when to try again.
func tooMany(ctx context.Context, reason string, wait time.Duration) *problemError {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	p := fail(ctx, kindRateLimited, fmt.Sprintf("%s; retry in %d %s", reason, secs, unit))
	p.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	return p
}

// slots are each user's requests in progress, at most max at once.
type slots struct {
	max   int
	mu    sync.Mutex
	users map[uuid.UUID]*userSlots
}

func newSlots(max int) *slots {
	return &slots{max: max, users: make(map[uuid.UUID]*userSlots)}
}

// userSlots is one user's semaphore; it is dropped when no request holds or awaits a slot.
type userSlots struct {
	sem   chan struct{}
	users int // requests holding or waiting for a slot
}

// errNoSlot is returned by acquire when no slot came free in time.
var errNoSlot = errors.New("no slot came free")

// acquire takes one of user's slots, waiting up to wait for one to come free.
func (s *slots) acquire(ctx context.Context, user uuid.UUID, wait time.Duration) error {
	s.mu.Lock()
	u := s.users[user]
	if u == nil {
		u = &userSlots{sem: make(chan struct{}, s.max)}
		s.users[user] = u
	}
	u.users++
	s.mu.Unlock()

	select {
	case u.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case u.sem <- struct{}{}:
		return nil
	case <-t.C:
		s.leave(user, u)
		return errNoSlot
	case <-ctx.Done():
		s.leave(user, u)
		return ctx.Err()
	}
}

// release gives back a slot that acquire took.
func (s *slots) release(user uuid.UUID) {
	s.mu.Lock()
	u := s.users[user]
	s.mu.Unlock()
	<-u.sem
	s.leave(user, u)
}

func (s *slots) leave(user uuid.UUID, u *userSlots) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.users--; u.users == 0 {
		delete(s.users, user)
	}
}
