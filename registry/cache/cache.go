package cache

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	gocache "github.com/patrickmn/go-cache"
	"golang.org/x/sync/singleflight"

	"github.com/lineage-explorer/explorer/registry"
)

// BatchSource is anything that returns a credit batch by id: the Client (GET
// /credit_batches/{id}), the Cache in front of it, or a test double. Implementations return
// errors wrapping the package's sentinel errors, and must be safe for concurrent use. The
// returned batch is shared: callers must not modify it.
type BatchSource interface {
	CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error)
}

// Config sizes a Cache. Zero values take the defaults given.
type Config struct {
	// TTL is how long an active batch is trusted before it is fetched again (CACHE_TTL).
	// Default 5m. Split and retired batches never expire: they cannot change.
	TTL time.Duration
	// NotFoundTTL is how long a 404 is remembered, so that a dangling link is not asked for on
	// every page view. Default 30s. Other failures are never cached.
	NotFoundTTL time.Duration
	// MaxEntries bounds the number of entries (batches and remembered 404s). Past it, the oldest
	// entries are evicted first. Default 200,000 (about 200 MB at the ~1 KB a batch takes).
	MaxEntries int
	// FetchTimeout bounds one shared upstream fetch, retries included. It is detached from the
	// caller's context so that one caller giving up does not fail the others waiting on the same
	// fetch. Default 2m.
	FetchTimeout time.Duration
	// OnStore, if set, is called with every batch stored (fetched or Put), so that other
	// indexes (the serial number index, say) learn from every batch the app sees. It must be
	// fast and safe for concurrent use, and must not modify the batch.
	OnStore func(*registry.CreditBatch)
	// Shared, if set, is a tier shared by replicas (Redis, see registry/rediscache) between
	// memory and the source: a miss in memory asks it, what it returns fills memory, and what
	// the source returns (batches, 404s) is stored in it, so that one fetch serves every
	// replica. nil keeps the cache in process only.
	Shared SharedTier
}

// Cache is a BatchSource that keeps batches from another BatchSource in memory (go-cache) and
// shares concurrent fetches of one id (singleflight): however many walks ask for a batch at
// the same moment, the source is asked once. With Config.Shared, a miss in memory goes to
// the shared tier before the source, and the tier's lease extends "asked once" across replicas.
type Cache struct {
	src   BatchSource
	items *gocache.Cache
	sf    singleflight.Group
	cfg   Config

	// order is the insertion order used for eviction; go-cache has no bound of its own. Each
	// entry carries the sequence number it was stored with, so that a stale order slot (for a key
	// stored again since) does not evict the newer entry.
	mu    sync.Mutex
	order []orderSlot
	head  int
	seq   uint64

	hits, misses, shared, evictions atomic.Int64
}

type orderSlot struct {
	key string
	seq uint64
}

type cacheEntry struct {
	batch *registry.CreditBatch // nil for a remembered 404
	err   error
	seq   uint64
}

// New returns a Cache in front of src.
func New(src BatchSource, cfg Config) *Cache {
	cfg.TTL = cmp.Or(max(cfg.TTL, 0), 5*time.Minute)
	cfg.NotFoundTTL = cmp.Or(max(cfg.NotFoundTTL, 0), 30*time.Second)
	cfg.MaxEntries = cmp.Or(max(cfg.MaxEntries, 0), 200_000)
	cfg.FetchTimeout = cmp.Or(max(cfg.FetchTimeout, 0), 2*time.Minute)
	// The janitor only frees memory (an expired entry is never returned), so it need not run
	// more often than every second: with a tiny TTL it would otherwise spin on the lock.
	cleanup := min(max(cfg.TTL, time.Second), time.Minute)
	return &Cache{src: src, cfg: cfg, items: gocache.New(cfg.TTL, cleanup)}
}

// CreditBatch returns the batch from memory when it is there and fresh, else fetches it from the
// source once however many callers ask at the same moment. Errors are the source's; a 404 is
// remembered for NotFoundTTL. The caller's ctx ends only its own wait.
func (c *Cache) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	if b, err, ok := c.lookup(id); ok {
		c.hits.Add(1)
		return b, err
	}
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return nil, err
	}
	c.misses.Add(1)
	ch := c.sf.DoChan(id, func() (any, error) {
		// Another caller may have stored it between our lookup and becoming the leader.
		if b, err, ok := c.lookup(id); ok {
			return b, err
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.FetchTimeout)
		defer cancel()
		return c.fetch(fctx, id)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Shared {
			c.shared.Add(1)
		}
		b, _ := r.Val.(*registry.CreditBatch)
		return b, r.Err
	}
}

// fetch runs in the singleflight leader: the shared tier first (when there is one), then the
// source, whose outcome is stored in both tiers before the shared tier's lease is released, so
// that the replicas waiting on the lease find it.
func (c *Cache) fetch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	if c.cfg.Shared != nil {
		e, release := c.cfg.Shared.ClaimBatch(ctx, id)
		if e != nil {
			return c.keepShared(id, e)
		}
		defer release()
	}
	b, err := c.src.CreditBatch(ctx, id)
	switch {
	case err == nil:
		c.Put(b)
	case errors.Is(err, registry.ErrNotFound):
		c.store(id, cacheEntry{err: err}, c.cfg.NotFoundTTL)
		if c.cfg.Shared != nil {
			_ = c.cfg.Shared.PutNotFound(ctx, id, c.cfg.NotFoundTTL)
		}
	}
	return b, err
}

// keepShared fills memory with what the shared tier returned. An active batch is kept only for
// what remains of its shared TTL, so that it is never trusted longer than CACHE_TTL after the
// replica that fetched it did.
func (c *Cache) keepShared(id string, e *SharedEntry) (*registry.CreditBatch, error) {
	if e.Batch == nil {
		err := &registry.APIError{Kind: registry.ErrNotFound, Endpoint: "/credit_batches/{id}", Path: "/credit_batches/" + id, Status: 404}
		ttl := c.cfg.NotFoundTTL
		if e.TTL > 0 {
			ttl = min(ttl, e.TTL)
		}
		c.store(id, cacheEntry{err: err}, ttl)
		return nil, err
	}
	ttl := c.cfg.TTL
	switch {
	case e.Batch.Status.Final():
		ttl = gocache.NoExpiration
	case e.TTL > 0:
		ttl = min(ttl, e.TTL)
	}
	c.store(id, cacheEntry{batch: e.Batch}, ttl)
	if c.cfg.OnStore != nil {
		c.cfg.OnStore(e.Batch)
	}
	return e.Batch, nil
}

// Peek returns the batch if it is in memory and fresh, without fetching or counting a hit.
func (c *Cache) Peek(id string) (*registry.CreditBatch, bool) {
	b, err, ok := c.lookup(id)
	return b, ok && err == nil
}

// Put stores a batch learnt some other way (a list route returns whole batches), with the
// same rule as a fetch: final batches without expiry, active ones for TTL. With a shared tier
// it is written there too (within the tier's short timeout), except a final batch already in
// memory: that one is in the shared tier already (this replica stored it or read it there) and
// cannot have changed.
func (c *Cache) Put(b *registry.CreditBatch) {
	if b == nil || b.ID == "" {
		return
	}
	ttl := c.cfg.TTL
	final := b.Status.Final()
	if final {
		ttl = gocache.NoExpiration
	}
	share := c.cfg.Shared != nil
	if share && final {
		if old, _, ok := c.lookup(b.ID); ok && old != nil && old.Status.Final() {
			share = false
		}
	}
	c.store(b.ID, cacheEntry{batch: b}, ttl)
	if share {
		sharedTTL := c.cfg.TTL
		if final {
			sharedTTL = 0
		}
		_ = c.cfg.Shared.PutBatch(context.Background(), b, sharedTTL)
	}
	if c.cfg.OnStore != nil {
		c.cfg.OnStore(b)
	}
}

func (c *Cache) lookup(id string) (*registry.CreditBatch, error, bool) {
	v, ok := c.items.Get(id)
	if !ok {
		return nil, nil, false
	}
	e := v.(*cacheEntry)
	return e.batch, e.err, true
}

func (c *Cache) store(id string, e cacheEntry, ttl time.Duration) {
	c.mu.Lock()
	c.seq++
	e.seq = c.seq
	c.order = append(c.order, orderSlot{key: id, seq: e.seq})
	c.items.Set(id, &e, ttl)
	c.evictLocked()
	c.mu.Unlock()
}

// evictLocked deletes the oldest entries while the cache is over its bound. ItemCount counts
// expired entries the janitor has not removed yet, which only makes eviction a little early.
func (c *Cache) evictLocked() {
	for c.items.ItemCount() > c.cfg.MaxEntries && c.head < len(c.order) {
		slot := c.order[c.head]
		c.order[c.head] = orderSlot{}
		c.head++
		if v, ok := c.items.Get(slot.key); ok && v.(*cacheEntry).seq == slot.seq {
			c.items.Delete(slot.key)
			c.evictions.Add(1)
		} else if !ok {
			// Expired but not yet cleaned up: still counted by ItemCount, so drop it now.
			c.items.Delete(slot.key)
		}
	}
	// Compact the order queue once its consumed head dominates, or once re-stored keys (active
	// batches fetched again) leave it much longer than the live entries, so that it stays
	// proportional to them; both happen after O(n) stores, so the cost is amortised.
	if c.head > 1024 && c.head*2 > len(c.order) || len(c.order)-c.head > 2*c.items.ItemCount()+1024 {
		live := make([]orderSlot, 0, c.items.ItemCount())
		for _, s := range c.order[c.head:] {
			if v, ok := c.items.Get(s.key); ok && v.(*cacheEntry).seq == s.seq {
				live = append(live, s)
			}
		}
		c.order, c.head = live, 0
	}
}

// Stats are the cache's counters since it was made.
type Stats struct {
	Hits      int64 // lookups answered from memory
	Misses    int64 // lookups that went to the source (or joined a fetch under way)
	Shared    int64 // misses that joined another caller's fetch instead of starting one
	Evictions int64 // entries dropped to stay within MaxEntries
	Entries   int   // entries now (batches and remembered 404s)
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Shared: c.shared.Load(),
		Evictions: c.evictions.Load(), Entries: c.items.ItemCount()}
}
