package httpapi

import (
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Limits protect the service from slow clients and heavy users; each applies per process.
// NewServer takes them as they are: config.Load reads them, with their defaults, from the
// environment, and config.DefaultLimits gives the defaults to a server built without it. A
// zero WriteRate, InflightPerUser or ListRate turns that limit off; every other limit must be
// positive.
type Limits struct {
	// RequestTimeout bounds every request but status streams.
	RequestTimeout time.Duration
	// WriteRate is how many writes per second a user may make on average; 0 disables the
	// limit. WriteBurst is how many writes a user may make at once.
	WriteRate  float64
	WriteBurst int
	// StreamsPerUser is how many status streams a user may hold open at once.
	StreamsPerUser int
	// InflightPerUser is how many requests (status streams aside) of one user may be in
	// progress at once; 0 disables the limit. ListRate is how many lists and searches per
	// second a user may make on average, one at a time; 0 disables both limits. ListBurst is
	// how many lists a user may make in a row. Together they keep one user from taking the
	// database from the others. See readlimit.go.
	InflightPerUser int
	ListRate        float64
	ListBurst       int
}

// check refuses limits that were never set: with a zero RequestTimeout every request would
// time out at once, with a zero StreamsPerUser no stream would open.
func (l Limits) check() error {
	if l.RequestTimeout <= 0 || l.WriteBurst <= 0 || l.StreamsPerUser <= 0 || l.ListBurst <= 0 {
		return errors.New("limits: RequestTimeout, WriteBurst, StreamsPerUser and ListBurst must be positive; config.Load reads them and config.DefaultLimits gives their defaults")
	}
	return nil
}

// writeLimiter is a token bucket per user. It keeps the buckets of the maxTrackedUsers users
// who wrote last and forgets the others: a forgotten user starts again with a full bucket,
// as they would have after a pause. Only the users who wrote least recently are forgotten,
// and their buckets have had the most time to fill up again.
type writeLimiter struct {
	rate  rate.Limit
	burst int

	mu    sync.Mutex
	users *simplelru.LRU[uuid.UUID, *rate.Limiter]
}

// maxTrackedUsers bounds the buckets kept, about 200 bytes each: some 20 MB at most, however
// many users write.
const maxTrackedUsers = 100_000

func newWriteLimiter(perSecond float64, burst int) *writeLimiter {
	users, err := simplelru.NewLRU[uuid.UUID, *rate.Limiter](maxTrackedUsers, nil)
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	return &writeLimiter{rate: rate.Limit(perSecond), burst: burst, users: users}
}

// allow takes one write from the user's bucket, or says how long until one is available.
func (l *writeLimiter) allow(user uuid.UUID, now time.Time) (bool, time.Duration) {
	if l.rate == 0 {
		return true, 0
	}
	r := l.reserve(user, now)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// reserve takes the user's next token, which may be due only later; the caller cancels the
// reservation if it does not wait for it. The rate must not be 0.
func (l *writeLimiter) reserve(user uuid.UUID, now time.Time) *rate.Reservation {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.users.Get(user)
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.users.Add(user, b)
	}
	return b.ReserveN(now, 1)
}

// tracked is how many users' buckets are kept.
func (l *writeLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.users.Len()
}

// streamCounter caps the open status streams per user. It holds an entry only for a user
// with a stream open, so it never holds more entries than there are open streams.
type streamCounter struct {
	max  int
	mu   sync.Mutex
	open map[uuid.UUID]int
}

func newStreamCounter(max int) *streamCounter {
	return &streamCounter{max: max, open: make(map[uuid.UUID]int)}
}

// acquire takes a stream slot for user; release gives it back.
func (c *streamCounter) acquire(user uuid.UUID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[user] >= c.max {
		return false
	}
	c.open[user]++
	return true
}

func (c *streamCounter) release(user uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[user]--; c.open[user] <= 0 {
		delete(c.open, user)
	}
}
