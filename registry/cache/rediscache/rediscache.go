// Package rediscache is the explorer's shared cache tier on Redis (REDIS_URL): what one replica
// fetched from the registry, every replica reads, and one replica at a time fetches a batch
// that none has (a per-id lease). It implements cache.SharedTier, which the cache.Cache
// consults between its in-process tier and the upstream; it knows nothing of HTTP handlers.
//
// Redis is never a dependency: every call has a short timeout, a failure is treated as a miss
// (the caller goes on to the upstream), and a circuit breaker stops calling a Redis that keeps
// failing, until a probe finds it back. Health and Stats say how it is doing.
//
// Keys (Prefix "lineage" by default; the {…} part is a Cluster hash tag, so that a batch's value
// and its lease live on one node and one Lua script can touch both):
//
//	lineage:v1:batch:{ctb_…}   the batch (see codec.go); no expiry when split or retired, CACHE_TTL
//	                           when active, NotFoundTTL for a remembered 404
//	lineage:v1:lease:{ctb_…}   the replica fetching it now: a random token, PX LeaseTTL, renewed
//	lineage:v1:kv:{name}       GetBytes/SetBytes values (the serial index, say)
//
// "v1" is SchemaVersion: a deploy that changes what is stored bumps it, and then never reads
// the older keys (they expire, or are evicted by Redis's maxmemory policy).
package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
)

// SchemaVersion is the version of the stored format, part of every key. Bump it whenever what
// is stored changes shape, so that replicas of different versions never misread each other.
const SchemaVersion = 1

// Config tunes a Tier. Zero values take the defaults given.
type Config struct {
	// Prefix starts every key, before the schema version ("lineage" gives "lineage:v1:…").
	// Replicas share what they store only when they use the same Prefix. Default "lineage".
	Prefix string
	// Timeout bounds each Redis call: dialling, waiting for a pooled connection, writing and
	// reading, one retry included. A Redis slower than this is treated as absent. Default 200ms.
	Timeout time.Duration
	// LeaseTTL is how long a replica's claim to fetch a batch lasts unless renewed; the holder
	// renews it every LeaseTTL/3 while its fetch runs, so it lapses only when the holder died.
	// Default 3s.
	LeaseTTL time.Duration
	// LeaseWait bounds how long a replica waits for another replica's fetch of a batch before
	// fetching it itself (the holder is alive but slow: the upstream retrying, say). Default 10s.
	LeaseWait time.Duration
	// FailureThreshold is how many consecutive failures to reach Redis open the circuit breaker.
	// Default 3.
	FailureThreshold int
	// OpenFor is how long the open breaker skips Redis before probing it again. Default 5s.
	OpenFor time.Duration
}

// Poll intervals of a replica waiting on another's lease: short first (the fetch it waits for
// often takes one upstream round trip), then backing off so that a long wait costs little.
const (
	pollMin = 2 * time.Millisecond
	pollMax = 50 * time.Millisecond
)

// Tier is the Redis shared tier. It implements cache.SharedTier and is safe for concurrent
// use. Make it with Open; Close it when done.
type Tier struct {
	rdb      redis.UniversalClient
	cfg      Config
	prefix   string // Prefix + ":v1:"
	target   string // the URL without its password, for messages
	password string // for scrubbing error text
	br       *breaker

	hits, misses, errs, skipped           atomic.Int64
	leases, leaseWaits, takeovers, gaveUp atomic.Int64
	stores, storedBytes, unreadable       atomic.Int64

	full atomic.Pointer[string] // the last OOM error while Redis is full; nil once a write succeeds
}

// Open makes a Tier for the Redis at redisURL (see ParseURL for its forms). It does not
// contact Redis: a Redis that is down when the explorer starts is only a degraded shared tier
// (see Health), never a failed start. It returns an error only for a malformed URL (the error
// never contains the password) or a Prefix with braces.
func Open(redisURL string, cfg Config) (*Tier, error) {
	opts, err := ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		// Braces would become the Cluster hash tag of every key, putting them all on one node.
		return nil, fmt.Errorf("shared cache: prefix %q must not contain braces", cfg.Prefix)
	}
	cfg.Prefix = cmpOr(cfg.Prefix, "lineage")
	cfg.Timeout = cmpOr(cfg.Timeout, 200*time.Millisecond)
	cfg.LeaseTTL = cmpOr(cfg.LeaseTTL, 3*time.Second)
	cfg.LeaseWait = cmpOr(cfg.LeaseWait, 10*time.Second)
	cfg.FailureThreshold = cmpOr(cfg.FailureThreshold, 3)
	cfg.OpenFor = cmpOr(cfg.OpenFor, 5*time.Second)

	// Short timeouts everywhere, one dial attempt and one retry (a pooled connection broken by
	// a Redis restart fails once, then a fresh one is dialled), no retry backoff: each call
	// costs at most about 2 × Timeout, and the per-call context caps even that.
	opts.DialTimeout = cfg.Timeout
	opts.ReadTimeout = cfg.Timeout
	opts.WriteTimeout = cfg.Timeout
	opts.PoolTimeout = cfg.Timeout
	opts.ContextTimeoutEnabled = true
	opts.DialerRetries = 1
	opts.MaxRetries = 1
	opts.MinRetryBackoff = -1
	opts.MaxRetryBackoff = -1

	t := &Tier{
		rdb:    redis.NewUniversalClient(opts),
		cfg:    cfg,
		prefix: fmt.Sprintf("%s:v%d:", cfg.Prefix, SchemaVersion),
		br:     &breaker{threshold: cfg.FailureThreshold, openFor: cfg.OpenFor, now: time.Now},
	}
	t.password = opts.Password
	if u, err := url.Parse(redisURL); err == nil {
		t.target = redactURL(u)
	}
	addSecret(opts.Password)
	addSecret(opts.SentinelPassword)
	return t, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Close closes the connections to Redis. Leases still held lapse by themselves.
func (t *Tier) Close() error { return t.rdb.Close() }

// Target is the Redis URL with its password replaced by "xxxxx", for logs and status pages.
func (t *Tier) Target() string { return t.target }

// Prefix is the prefix of every key this tier reads or writes, schema version included
// (e.g. "lineage:v1:").
func (t *Tier) Prefix() string { return t.prefix }

func (t *Tier) batchKey(id string) string { return t.prefix + "batch:{" + id + "}" }
func (t *Tier) leaseKey(id string) string { return t.prefix + "lease:{" + id + "}" }
func (t *Tier) kvKey(name string) string  { return t.prefix + "kv:{" + name + "}" }

// errSkipped is returned, wrapped, for a call the open breaker did not attempt.
var errSkipped = errors.New("not attempted: the shared cache is failing")

// call runs one Redis operation with the tier's timeout, unless the breaker is open, and feeds
// its outcome to the breaker and the counters. redis.Nil (a missing key) is not an error. The
// error returned never contains the password.
func (t *Tier) call(ctx context.Context, op func(ctx context.Context) error) error {
	if !t.br.allow() {
		t.skipped.Add(1)
		st := t.br.state()
		return fmt.Errorf("shared cache %s: %w (last error: %s)", t.target, errSkipped, st.lastErr)
	}
	octx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	err := op(octx)
	if err == nil || errors.Is(err, redis.Nil) {
		t.br.success()
		return nil
	}
	if ctx.Err() != nil {
		// The caller gave up: that says nothing about Redis.
		t.br.neutral()
		return ctx.Err()
	}
	t.errs.Add(1)
	msg := t.scrub(err.Error())
	var reply redis.Error
	if errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "OOM ") {
		// Redis is full (maxmemory reached under noeviction): writes fail but reads still
		// work, so the breaker stays closed; the tier reports itself degraded until a write
		// goes through again.
		t.br.success()
		t.full.Store(&msg)
	} else {
		t.br.failure(msg)
	}
	return &tierError{msg: fmt.Sprintf("shared cache %s: %s", t.target, msg), err: t.unwrapSafe(err, msg)}
}

// tierError carries a Redis error whose text has been scrubbed of the password.
type tierError struct {
	msg string
	err error // the cause, or nil when its own text held the password
}

func (e *tierError) Error() string { return e.msg }
func (e *tierError) Unwrap() error { return e.err }

func (t *Tier) scrub(s string) string {
	if t.password == "" {
		return s
	}
	for _, p := range []string{t.password, url.QueryEscape(t.password), url.PathEscape(t.password)} {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return s
}

func (t *Tier) unwrapSafe(err error, scrubbed string) error {
	if scrubbed != err.Error() {
		return nil
	}
	return err
}

// claimScript is one round trip for the common cases of a lookup: the value when there is one
// (with its remaining TTL), else the lease taken for the caller, else word that another
// replica holds it. Both keys share a hash tag, so it runs on Cluster too.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {0, v, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {2}
`)

// releaseScript deletes the lease only if the caller still holds it: one whose lease lapsed
// must not delete the next holder's.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// renewScript extends the lease only if the caller still holds it.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

const (
	claimHit  = 0
	claimMine = 1
	claimHeld = 2
)

// ClaimBatch implements cache.SharedTier: the stored entry, or the lease to fetch the batch.
// While another replica holds the lease it polls (2 ms, backing off to 50 ms) until that
// replica's value appears, the lease is released or lapses without one (the holder failed or
// died: the caller takes the lease over), or LeaseWait has passed (the caller fetches without
// a lease). On any Redis failure it returns a release that does nothing: the caller fetches.
//
// Polling rather than pub/sub: it works unchanged on one server, Sentinel and Cluster, needs no
// connection held open per replica, cannot miss a notification sent before it subscribed, and
// costs little (singleflight leaves at most one waiter per batch per replica).
func (t *Tier) ClaimBatch(ctx context.Context, id string) (*cache.SharedEntry, func()) {
	token := newToken()
	keys := []string{t.batchKey(id), t.leaseKey(id)}
	leaseMs := strconv.FormatInt(t.cfg.LeaseTTL.Milliseconds(), 10)
	var deadline time.Time
	interval := pollMin
	for {
		var res []any
		err := t.call(ctx, func(ctx context.Context) error {
			var err error
			res, err = claimScript.Run(ctx, t.rdb, keys, token, leaseMs).Slice()
			return err
		})
		if err != nil || len(res) == 0 {
			t.misses.Add(1)
			return nil, func() {}
		}
		kind, _ := res[0].(int64)
		switch kind {
		case claimHit:
			e := t.entry(id, res)
			if e != nil {
				t.hits.Add(1)
				return e, nil
			}
			// Unreadable (another schema's shape under our key, or damaged): fetch afresh
			// without a lease; the fetch overwrites it.
			t.misses.Add(1)
			return nil, func() {}
		case claimMine:
			t.full.Store(nil) // the lease was written
			t.misses.Add(1)
			t.leases.Add(1)
			if !deadline.IsZero() {
				t.takeovers.Add(1)
			}
			return nil, t.hold(keys[1], token)
		case claimHeld:
		default: // not something the script answers
			t.errs.Add(1)
			t.misses.Add(1)
			return nil, func() {}
		}
		if deadline.IsZero() {
			t.leaseWaits.Add(1)
			deadline = time.Now().Add(t.cfg.LeaseWait)
		} else if time.Now().After(deadline) {
			t.gaveUp.Add(1)
			t.misses.Add(1)
			return nil, func() {}
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.misses.Add(1)
			return nil, func() {}
		case <-timer.C:
		}
		interval = min(interval*3/2, pollMax)
	}
}

// entry decodes a claim script's hit: {0, value, pttl}.
func (t *Tier) entry(id string, res []any) *cache.SharedEntry {
	if len(res) < 3 {
		t.unreadable.Add(1)
		return nil
	}
	v, _ := res[1].(string)
	e, err := decodeEntry(id, []byte(v))
	if err != nil {
		t.unreadable.Add(1)
		return nil
	}
	if ms, _ := res[2].(int64); ms > 0 {
		e.TTL = time.Duration(ms) * time.Millisecond
	}
	return e
}

// hold keeps a lease alive while its holder fetches, and returns the release: stop renewing,
// then delete the lease if it is still ours.
func (t *Tier) hold(key, token string) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(t.cfg.LeaseTTL / 3)
		defer tick.Stop()
		ms := strconv.FormatInt(t.cfg.LeaseTTL.Milliseconds(), 10)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = t.call(context.Background(), func(ctx context.Context) error {
					return renewScript.Run(ctx, t.rdb, []string{key}, token, ms).Err()
				})
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			_ = t.call(context.Background(), func(ctx context.Context) error {
				return releaseScript.Run(ctx, t.rdb, []string{key}, token).Err()
			})
		})
	}
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// PutBatch implements cache.SharedTier: SET with PX ttl, or without expiry when ttl is 0.
func (t *Tier) PutBatch(ctx context.Context, b *registry.CreditBatch, ttl time.Duration) error {
	v, err := encodeBatch(b)
	if err != nil {
		return fmt.Errorf("shared cache: encoding batch %s: %w", b.ID, err)
	}
	return t.set(ctx, t.batchKey(b.ID), v, ttl)
}

// PutNotFound implements cache.SharedTier: the 404 marker with PX ttl.
func (t *Tier) PutNotFound(ctx context.Context, id string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("shared cache: a 404 needs a TTL")
	}
	return t.set(ctx, t.batchKey(id), []byte{tagNotFound}, ttl)
}

func (t *Tier) set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if ttl < 0 {
		ttl = 0
	}
	err := t.call(ctx, func(ctx context.Context) error {
		return t.rdb.Set(ctx, key, v, ttl).Err()
	})
	if err == nil {
		t.full.Store(nil)
		t.stores.Add(1)
		t.storedBytes.Add(int64(len(v)))
	}
	return err
}

// GetBytes returns the value SetBytes stored under name, with ok false when there is none. It
// is for other indexes shared between replicas (the serial index): name is theirs to choose,
// and should carry their own format version (e.g. "serials:v1:roots"), since SchemaVersion
// covers only what this package stores. On a Redis failure it returns the error (never with
// the password) and the caller carries on without the shared value.
func (t *Tier) GetBytes(ctx context.Context, name string) (value []byte, ok bool, err error) {
	err = t.call(ctx, func(ctx context.Context) error {
		var err error
		value, err = t.rdb.Get(ctx, t.kvKey(name)).Bytes()
		return err
	})
	if err != nil || value == nil {
		return nil, false, err
	}
	return value, true, nil
}

// SetBytes stores value under name for ttl (0: no expiry), for GetBytes on any replica.
func (t *Tier) SetBytes(ctx context.Context, name string, value []byte, ttl time.Duration) error {
	return t.set(ctx, t.kvKey(name), value, ttl)
}

// State is "ok" when Redis answers, "degraded" while the circuit breaker is open (recent calls
// failed: lookups go straight to the upstream) or while Redis is full (it refuses writes: what
// it holds is still read, nothing new is shared). It makes no call to Redis.
func (t *Tier) State() string {
	if t.br.state().open || t.full.Load() != nil {
		return "degraded"
	}
	return "ok"
}

// Health pings Redis (within Timeout) and returns nil when it answers and takes writes, else an
// error saying why the shared tier is degraded (never with the password). While the breaker is
// open and not yet due for a probe it answers from the breaker's state without calling Redis.
// A degraded shared tier does not make the explorer unready: report it, do not fail on it.
func (t *Tier) Health(ctx context.Context) error {
	err := t.call(ctx, func(ctx context.Context) error { return t.rdb.Ping(ctx).Err() })
	if err != nil {
		return fmt.Errorf("degraded: %w", err)
	}
	if msg := t.full.Load(); msg != nil {
		return fmt.Errorf("degraded: shared cache %s is full, nothing new is shared: %s", t.target, *msg)
	}
	return nil
}

// Stats are the tier's counters since Open (see cache.SharedStats).
type Stats = cache.SharedStats

// Stats returns the tier's counters.
func (t *Tier) Stats() Stats {
	return Stats{
		State: t.State(), Full: t.full.Load() != nil, Hits: t.hits.Load(), Misses: t.misses.Load(), Errors: t.errs.Load(),
		Skipped: t.skipped.Load(), BreakerTrips: t.br.state().trips, Leases: t.leases.Load(),
		LeaseWaits: t.leaseWaits.Load(), LeaseTakeovers: t.takeovers.Load(), LeaseGaveUp: t.gaveUp.Load(),
		Stores: t.stores.Load(), StoredBytes: t.storedBytes.Load(), Unreadable: t.unreadable.Load(),
	}
}

var _ cache.SharedTier = (*Tier)(nil)
