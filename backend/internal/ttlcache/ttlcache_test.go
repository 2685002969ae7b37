package ttlcache

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestExpiresWhenRead(t *testing.T) {
	c := New[string, int](10, time.Minute)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	c.Add("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("fresh entry: %v %v", v, ok)
	}
	now = now.Add(59 * time.Second)
	if _, ok := c.Get("a"); !ok {
		t.Fatal("gone before its TTL")
	}
	now = now.Add(time.Second)
	if _, ok := c.Get("a"); ok || c.Len() != 0 {
		t.Fatalf("expired entry still served (len %d)", c.Len())
	}
	c.Add("b", 2)
	c.Remove("b")
	if _, ok := c.Get("b"); ok {
		t.Fatal("removed entry served")
	}
}

func TestBoundedByCountAndBytes(t *testing.T) {
	c := New[int, int](100, 0)
	for i := 0; i < 1000; i++ {
		c.Add(i, i)
	}
	if c.Len() != 100 {
		t.Fatalf("len %d, bound 100", c.Len())
	}
	if _, ok := c.Get(899); ok {
		t.Fatal("an old entry survived")
	}
	if v, ok := c.Get(999); !ok || v != 999 {
		t.Fatal("the newest entry is missing")
	}

	w := NewWeighed[string, []byte](100, time.Hour, 1000, func(b []byte) int64 { return int64(len(b)) })
	for i := 0; i < 50; i++ {
		w.Add(strconv.Itoa(i), make([]byte, 300))
		if w.Bytes() > 1000 {
			t.Fatalf("%d bytes held, bound 1000", w.Bytes())
		}
	}
	if w.Len() != 3 || w.Bytes() != 900 {
		t.Fatalf("len %d, %d bytes; want the 3 newest", w.Len(), w.Bytes())
	}
	w.Add("49", make([]byte, 100)) // replacing an entry gives its weight back
	if w.Bytes() != 700 {
		t.Fatalf("%d bytes after replacing a 300-byte entry with 100", w.Bytes())
	}
	w.Add("huge", make([]byte, 2000))
	if _, ok := w.Get("huge"); ok || w.Bytes() != 700 {
		t.Fatal("an entry over the byte bound was kept")
	}
	w.Purge()
	if w.Len() != 0 || w.Bytes() != 0 {
		t.Fatalf("after Purge: len %d, %d bytes", w.Len(), w.Bytes())
	}
}

// TestNoGoroutinePerCache: a cache made per content snapshot must not outlive it (golang-lru's
// expirable LRU started a goroutine that never ended, which kept every old snapshot's cache).
func TestNoGoroutinePerCache(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 100; i++ {
		c := New[string, string](16, time.Minute)
		c.Add("q", "a")
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines after making 100 caches, %d before", after, before)
	}
}
