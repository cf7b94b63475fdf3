package registry

import (
	"context"
	"time"
)

// SharedTier is a cache shared by several replicas of the explorer, behind each replica's
// in-process tier (the Cache's go-cache) and in front of the upstream: what one replica fetched,
// the others read instead of asking the registry again. registry/rediscache implements it on
// Redis (REDIS_URL).
//
// A shared tier is an optimisation, never a dependency: implementations answer within a short
// bound, report their own failures through their own counters, and on any failure behave as an
// empty cache (ClaimBatch returns no entry, so the caller fetches upstream). The Cache therefore
// ignores the errors the Put methods return. Implementations must be safe for concurrent use.
type SharedTier interface {
	// ClaimBatch looks credit batch id up and, when it is absent, makes the caller the one
	// replica that fetches it. It returns either the entry stored (by an earlier fetch, or by
	// another replica while the caller waited for that replica's fetch) and a nil release, or a
	// nil entry and a non-nil release: the caller then fetches the batch upstream, stores the
	// outcome with PutBatch or PutNotFound, and calls release exactly once, after storing (also
	// when the fetch failed), so that the replicas waiting on it go on.
	ClaimBatch(ctx context.Context, id string) (entry *SharedEntry, release func())
	// PutBatch stores b for ttl; ttl 0 stores it without expiry (a split or retired batch, which
	// never changes). It returns the tier's error, if any, for logging: the batch is not stored.
	PutBatch(ctx context.Context, b *CreditBatch, ttl time.Duration) error
	// PutNotFound remembers for ttl (> 0) that the upstream answered 404 for id. No other
	// failure is ever shared: it may be the upstream's passing trouble.
	PutNotFound(ctx context.Context, id string, ttl time.Duration) error
}

// SharedEntry is what a SharedTier holds for one credit batch id.
type SharedEntry struct {
	// Batch is the batch as the upstream returned it, or nil when the upstream answered 404
	// for the id (a remembered 404).
	Batch *CreditBatch
	// TTL is what remains of the entry's life in the shared tier, so that the in-process tier
	// does not trust an active batch for longer than CACHE_TTL after it was fetched; 0 means no
	// expiry (a split or retired batch).
	TTL time.Duration
}
