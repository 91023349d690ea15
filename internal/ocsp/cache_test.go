package ocsp

import (
	"testing"
	"time"
)

// The cache must never store an answer read before a status change that was
// announced while it was being signed, and must not lose answers otherwise.
func TestCacheInvalidationOrdering(t *testing.T) {
	far := time.Now().Add(time.Hour)
	k, _ := makeKey(0, 0, []byte{0x12, 0x34})
	other, _ := makeKey(1, 0, []byte{0x12, 0x34})

	tests := []struct {
		name   string
		during func(c *cache) // between the read and the store
		store  bool           // whether the notification listener was up
		stored bool
	}{
		{"plain fill", func(*cache) {}, true, true},
		{"listener down", func(*cache) {}, false, false},
		{"this key invalidated meanwhile", func(c *cache) { c.invalidate([]cacheKey{k}, time.Now()) }, true, false},
		{"another key invalidated meanwhile", func(c *cache) { c.invalidate([]cacheKey{other}, time.Now()) }, true, true},
		{"everything flushed meanwhile", func(c *cache) { c.flush() }, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(1000)
			// An invalidation before the read must not block the store.
			c.invalidate([]cacheKey{k}, time.Now())
			cl, leader := c.join(k)
			if !leader {
				t.Fatal("first join must lead")
			}
			if _, second := c.join(k); second {
				t.Fatal("second join must wait for the leader")
			}
			readGen, readAt := c.gen.Load(), time.Now()
			tc.during(c)
			c.finish(k, cl, &entry{der: []byte{1}, nextUpdate: far}, nil, readGen, readAt, tc.store)
			if got := c.get(k) != nil; got != tc.stored {
				t.Fatalf("stored = %v, want %v", got, tc.stored)
			}
			select {
			case <-cl.done:
			default:
				t.Fatal("waiters not woken")
			}
			if (c.len() == 1) != tc.stored {
				t.Fatalf("size %d", c.len())
			}
		})
	}
}

func TestCacheDetachesFillOnInvalidation(t *testing.T) {
	c := newCache(1000)
	k, _ := makeKey(0, 1, []byte{0x01})
	old, _ := c.join(k)
	c.invalidate([]cacheKey{k}, time.Now())
	fresh, leader := c.join(k)
	if !leader || fresh == old {
		t.Fatal("a request after the invalidation must start a new fill, not join the stale one")
	}
	// The stale fill finishing must not unregister the fresh one.
	c.finish(k, old, &entry{nextUpdate: time.Now().Add(time.Hour)}, nil, 0, time.Now(), true)
	if _, leader := c.join(k); leader {
		t.Fatal("the fresh fill was unregistered by the stale one")
	}
	if c.get(k) != nil {
		t.Fatal("the stale fill stored its answer")
	}
}

func TestCacheBoundAndSweep(t *testing.T) {
	c := newCache(shardCount * 2) // 2 per shard
	now := time.Now()
	for i := 0; i < 10; i++ {
		k, _ := makeKey(0, 0, []byte{byte(i), 0x07}) // same shard
		cl, _ := c.join(k)
		next := now.Add(time.Hour)
		if i%2 == 0 {
			next = now.Add(-time.Second)
		}
		c.finish(k, cl, &entry{nextUpdate: next}, nil, c.gen.Load(), now, true)
	}
	if n := c.len(); n != 2 {
		t.Fatalf("%d entries in a shard bounded to 2", n)
	}
	c.sweep(now)
	for i := 0; i < 10; i++ {
		k, _ := makeKey(0, 0, []byte{byte(i), 0x07})
		if e := c.get(k); e != nil && !now.Before(e.nextUpdate) {
			t.Fatal("sweep left an expired answer")
		}
	}
}
