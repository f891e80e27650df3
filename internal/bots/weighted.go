package bots

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// weightedLRU is a least-recently-used cache bounded by the bytes its entries take (as weigh
// estimates them), not by their number: the runtime cache's entries range from a hundred
// bytes to a few kilobytes, and its setting promises memory.
type weightedLRU[K comparable, V any] struct {
	mu     sync.Mutex
	lru    *simplelru.LRU[K, weighted[V]]
	bytes  int
	budget int
	weigh  func(V) int
}

type weighted[V any] struct {
	v V
	w int
}

func newWeightedLRU[K comparable, V any](budget int, weigh func(V) int) *weightedLRU[K, V] {
	c := &weightedLRU[K, V]{budget: budget, weigh: weigh}
	l, err := simplelru.NewLRU(1<<30, func(_ K, e weighted[V]) { c.bytes -= e.w })
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	c.lru = l
	return c
}

func (c *weightedLRU[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(k)
	return e.v, ok
}

// update changes the entry of k, or adds one, with f of the current value (the zero value and
// false when there is none) unless f says not to, then evicts the least recently used entries
// over the budget. f runs under the cache's lock.
func (c *weightedLRU[K, V]) update(k K, f func(old V, found bool) (V, bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, found := c.lru.Peek(k)
	v, keep := f(old.v, found)
	if !keep {
		return
	}
	w := c.weigh(v)
	if found {
		c.bytes -= old.w
	}
	c.lru.Add(k, weighted[V]{v: v, w: w})
	c.bytes += w
	for c.bytes > c.budget && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
	}
}

func (c *weightedLRU[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k)
}

func (c *weightedLRU[K, V]) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
}

// size returns the entries and the bytes they take.
func (c *weightedLRU[K, V]) size() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
