package ocsp

import (
	"sync"
	"sync/atomic"
	"time"
)

// The answer cache. Keys are fixed-size values so a lookup allocates
// nothing; entries are immutable once stored. Invalidation must never lose
// to a signer that read the database before a status change committed but
// stores its answer after the change was announced, so every invalidation
// draws a generation number, leaves a tombstone with it, and a fill stores
// its answer only if no invalidation of its key (or of everything) came
// after the generation it read at.

const (
	shardCount = 64
	// tombstoneTTL is how long an invalidation is remembered; a fill that
	// read the database longer ago than half of it never stores.
	tombstoneTTL = 30 * time.Second
)

// cacheKey names one answer: issuer (index in the responder), CertID hash
// algorithm (index in hashes) and the serial's INTEGER content octets.
type cacheKey struct {
	issuer uint8
	hash   uint8
	n      uint8
	serial [maxSerialBytes + 1]byte
}

func makeKey(issuer, hash int, serial []byte) (cacheKey, bool) {
	if len(serial) == 0 || len(serial) > maxSerialBytes+1 {
		return cacheKey{}, false
	}
	k := cacheKey{issuer: uint8(issuer), hash: uint8(hash), n: uint8(len(serial))}
	copy(k.serial[:], serial)
	return k, true
}

func (k cacheKey) serialBytes() []byte { return k.serial[:k.n] }

// shard picks a shard from the serial's last octet: serials are random.
func (k cacheKey) shard() int { return int(k.serial[k.n-1]) % shardCount }

// entry is one signed answer.
type entry struct {
	der        []byte
	state      CertState
	nextUpdate time.Time
	refreshAt  time.Time // re-sign in the background from here on
	refreshing atomic.Bool
}

type tombstone struct {
	gen uint64
	at  time.Time
}

// call is one fill in flight; latecomers for the same key wait on it.
type call struct {
	done chan struct{}
	e    *entry
	err  error
}

type shard struct {
	mu       sync.RWMutex
	entries  map[cacheKey]*entry
	tombs    map[cacheKey]tombstone
	inflight map[cacheKey]*call
}

type cache struct {
	shards   [shardCount]shard
	gen      atomic.Uint64 // bumped by every invalidation
	flushGen atomic.Uint64 // generation of the last flush of everything
	maxShard int
	size     atomic.Int64
}

func newCache(maxEntries int) *cache {
	c := &cache{maxShard: max(1, maxEntries/shardCount)}
	for i := range c.shards {
		c.shards[i] = shard{entries: map[cacheKey]*entry{}, tombs: map[cacheKey]tombstone{}, inflight: map[cacheKey]*call{}}
	}
	return c
}

// get returns the stored entry, if any.
func (c *cache) get(k cacheKey) *entry {
	s := &c.shards[k.shard()]
	s.mu.RLock()
	e := s.entries[k]
	s.mu.RUnlock()
	return e
}

// join returns the fill in flight for k, or registers a new one (leader).
func (c *cache) join(k cacheKey) (cl *call, leader bool) {
	s := &c.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl := s.inflight[k]; cl != nil {
		return cl, false
	}
	cl = &call{done: make(chan struct{})}
	s.inflight[k] = cl
	return cl, true
}

// finish ends a fill: it stores e unless an invalidation of k (or a flush)
// happened after readGen, or storing is disabled, and wakes the waiters.
func (c *cache) finish(k cacheKey, cl *call, e *entry, err error, readGen uint64, readAt time.Time, store bool) {
	s := &c.shards[k.shard()]
	s.mu.Lock()
	if s.inflight[k] == cl {
		delete(s.inflight, k)
	}
	if err == nil && store && readGen >= c.flushGen.Load() && time.Since(readAt) < tombstoneTTL/2 {
		if t, ok := s.tombs[k]; !ok || t.gen <= readGen {
			if _, exists := s.entries[k]; !exists {
				if len(s.entries) >= c.maxShard {
					// Evict one arbitrary entry (map order is randomized):
					// serials are random, so this is as good as any policy
					// that costs nothing on the hot path.
					for victim := range s.entries {
						delete(s.entries, victim)
						c.size.Add(-1)
						break
					}
				}
				c.size.Add(1)
			}
			s.entries[k] = e
		}
	}
	s.mu.Unlock()
	cl.e, cl.err = e, err
	close(cl.done)
}

// invalidate drops every answer for keys and detaches fills in flight (new
// requests start a fresh fill). It returns the keys that had an entry.
func (c *cache) invalidate(keys []cacheKey, now time.Time) (had []cacheKey) {
	for _, k := range keys {
		g := c.gen.Add(1)
		s := &c.shards[k.shard()]
		s.mu.Lock()
		if _, ok := s.entries[k]; ok {
			delete(s.entries, k)
			c.size.Add(-1)
			had = append(had, k)
		}
		delete(s.inflight, k)
		s.tombs[k] = tombstone{gen: g, at: now}
		s.mu.Unlock()
	}
	return had
}

// flush drops everything: after a lost notification connection, or a bulk
// change announced as '*'.
func (c *cache) flush() {
	c.flushGen.Store(c.gen.Add(1))
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		c.size.Add(-int64(len(s.entries)))
		clear(s.entries)
		clear(s.inflight)
		clear(s.tombs)
		s.mu.Unlock()
	}
}

// sweep forgets old tombstones and answers past their nextUpdate.
func (c *cache) sweep(now time.Time) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, t := range s.tombs {
			if now.Sub(t.at) > tombstoneTTL {
				delete(s.tombs, k)
			}
		}
		for k, e := range s.entries {
			if !now.Before(e.nextUpdate) {
				delete(s.entries, k)
				c.size.Add(-1)
			}
		}
		s.mu.Unlock()
	}
}

func (c *cache) len() int { return int(c.size.Load()) }
