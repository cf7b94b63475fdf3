package cache

import (
	"context"
	"time"

	"github.com/lineage-explorer/explorer/registry"
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
	PutBatch(ctx context.Context, b *registry.CreditBatch, ttl time.Duration) error
	// PutNotFound remembers for ttl (> 0) that the upstream answered 404 for id. No other
	// failure is ever shared: it may be the upstream's passing trouble.
	PutNotFound(ctx context.Context, id string, ttl time.Duration) error
	// Health is nil when the tier works, else an error saying what is degraded and why, in
	// words fit for /readyz (never a password or a URL's credentials).
	Health(ctx context.Context) error
	// Stats are the tier's counters since it was opened.
	Stats() SharedStats
}

// SharedEntry is what a SharedTier holds for one credit batch id.
type SharedEntry struct {
	// Batch is the batch as the upstream returned it, or nil when the upstream answered 404
	// for the id (a remembered 404).
	Batch *registry.CreditBatch
	// TTL is what remains of the entry's life in the shared tier, so that the in-process tier
	// does not trust an active batch for longer than CACHE_TTL after it was fetched; 0 means no
	// expiry (a split or retired batch).
	TTL time.Duration
}

// SharedStats are a shared tier's counters since it was opened, for metrics (the names suggest Prometheus
// counters; State is a gauge). Counts are of lookups and calls by this replica.
type SharedStats struct {
	State          string // "ok" or "degraded" (see SharedTier.Health)
	Full           bool   // Redis refuses writes (maxmemory reached): reads go on
	Hits           int64  // batch lookups answered from Redis (batches and remembered 404s)
	Misses         int64  // batch lookups Redis did not answer: this replica then fetched upstream
	Errors         int64  // Redis calls that failed: timeout, connection refused, error reply
	Skipped        int64  // Redis calls not attempted because the breaker was open
	BreakerTrips   int64  // times the breaker opened
	Leases         int64  // leases taken: batches this replica fetched on behalf of all
	LeaseWaits     int64  // lookups that waited for another replica's fetch
	LeaseTakeovers int64  // waits that ended with this replica taking a lapsed or released lease
	LeaseGaveUp    int64  // waits that hit LeaseWait and fetched without a lease
	Stores         int64  // values written (batches, 404s, SetBytes)
	StoredBytes    int64  // their total size in bytes, keys excluded
	Unreadable     int64  // values under this schema's keys that did not decode (ignored)
}
