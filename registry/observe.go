package registry

import "time"

// What a client of the registry reports of its requests, for metrics: the lineage facade
// passes it on without knowing the client.

// RequestEvent describes one finished upstream attempt, for metrics.
type RequestEvent struct {
	Endpoint string        // route template, e.g. "/credit_batches/{id}"
	Status   int           // HTTP status, 0 for a transport failure
	Duration time.Duration // time of this attempt, not counting the wait for a concurrency slot
	Retry    bool          // whether this attempt was a retry
}

// ClientStats are counters since the Client was made.
type ClientStats struct {
	Requests int64 // attempts sent upstream, retries included
	Retries  int64 // attempts that were retries
	InFlight int64 // attempts under way now
}
