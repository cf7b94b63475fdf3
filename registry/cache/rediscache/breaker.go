package rediscache

import (
	"sync"
	"time"
)

// breaker is a small circuit breaker: after threshold consecutive failures to reach Redis it
// opens for openFor, during which calls are not attempted at all (a dead or black-holed Redis
// then costs a lookup nothing instead of a timeout); after that one call is let through as a
// probe, and its outcome closes the breaker or opens it again. No library: the whole state is
// four fields, and the semantics (what counts as a failure) are ours anyway.
type breaker struct {
	threshold int
	openFor   time.Duration
	now       func() time.Time

	mu        sync.Mutex
	failures  int       // consecutive
	openUntil time.Time // zero when closed
	probing   bool      // a probe is under way (half-open)
	trips     int64
	lastErr   string // sanitised
}

// allow reports whether a call may go to Redis now. When it returns true after the open period,
// the caller is the probe and must report its outcome.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true
	}
	if b.probing || b.now().Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// success records a call that reached Redis (an error reply counts: the server answered).
func (b *breaker) success() {
	b.mu.Lock()
	b.failures, b.openUntil, b.probing = 0, time.Time{}, false
	b.mu.Unlock()
}

// failure records a call that could not reach Redis or timed out.
func (b *breaker) failure(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.lastErr = msg
	if b.probing || (b.openUntil.IsZero() && b.failures >= b.threshold) {
		b.openUntil = b.now().Add(b.openFor)
		b.trips++
	}
	b.probing = false
}

// neutral records a call whose outcome says nothing about Redis (the caller gave up).
func (b *breaker) neutral() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

type breakerState struct {
	open     bool
	failures int
	trips    int64
	lastErr  string
}

func (b *breaker) state() breakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return breakerState{open: !b.openUntil.IsZero(), failures: b.failures, trips: b.trips, lastErr: b.lastErr}
}
