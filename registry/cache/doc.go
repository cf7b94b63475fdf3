// Package cache is the batch cache in front of the registry: go-cache in memory, one fetch per
// id however many callers ask at once (singleflight), a bound on entries, and, under it, an
// optional tier shared by replicas (the SharedTier interface; rediscache implements it on
// Redis). Split and retired batches are kept indefinitely, active ones for a TTL.
package cache
