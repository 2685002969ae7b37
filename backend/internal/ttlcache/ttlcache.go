// Package ttlcache is the appliance's in-memory cache: golang-lru's plain LRU, bounded by a count
// of entries and optionally by their bytes, whose entries expire after a time to live, checked
// when they are read.
//
// It replaces golang-lru's expirable LRU, which the soak of docs/BENCHMARKS.md caught growing:
// that cache files every entry in one of 100 maps by expiry time, and Go maps never give back the
// room they once needed, so under steady load its memory rose for a whole TTL (1.5 MB a minute
// for the session cache); and it starts a goroutine that never ends, so every content reload
// leaked the previous snapshot's response cache with all its replies. Here there is one map of at
// most Size entries and no goroutine: an expired entry is dropped when it is read, or pushed out
// by newer ones.
package ttlcache

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[K, entry[V]]
	ttl      time.Duration // 0: entries do not expire
	maxBytes int64         // 0: no byte bound
	weigh    func(V) int64
	bytes    int64
	now      func() time.Time
}

type entry[V any] struct {
	v       V
	expires time.Time
	weight  int64
}

// New holds at most size entries, each for ttl after it was added (0: until pushed out).
func New[K comparable, V any](size int, ttl time.Duration) *Cache[K, V] {
	return NewWeighed[K, V](size, ttl, 0, nil)
}

// NewWeighed also bounds the entries' total weight (bytes, by weigh) to maxBytes: the oldest go
// first. An entry heavier than maxBytes alone is not kept.
func NewWeighed[K comparable, V any](size int, ttl time.Duration, maxBytes int64, weigh func(V) int64) *Cache[K, V] {
	c := &Cache[K, V]{ttl: ttl, maxBytes: maxBytes, weigh: weigh, now: time.Now}
	l, err := simplelru.NewLRU[K, entry[V]](size, func(_ K, e entry[V]) { c.bytes -= e.weight })
	if err != nil {
		panic(err) // size <= 0: a programming error
	}
	c.lru = l
	return c
}

// Add puts v under k, replacing what was there.
func (c *Cache[K, V]) Add(k K, v V) {
	e := entry[V]{v: v}
	if c.ttl > 0 {
		e.expires = c.now().Add(c.ttl)
	}
	if c.weigh != nil {
		e.weight = c.weigh(v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k) // its weight leaves through the eviction callback
	if c.maxBytes > 0 && e.weight > c.maxBytes {
		return
	}
	c.lru.Add(k, e)
	c.bytes += e.weight
	for c.maxBytes > 0 && c.bytes > c.maxBytes {
		c.lru.RemoveOldest()
	}
}

// Get returns the entry under k unless it expired (an expired entry is dropped).
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(k)
	if ok && c.ttl > 0 && !c.now().Before(e.expires) {
		c.lru.Remove(k)
		ok = false
	}
	if !ok {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Remove drops the entry under k.
func (c *Cache[K, V]) Remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k)
}

// Purge drops every entry.
func (c *Cache[K, V]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
}

// Len is the number of entries held, expired ones not yet dropped included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes is the entries' total weight.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
