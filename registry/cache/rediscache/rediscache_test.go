// Over 500 lines because each test starts real redis-server processes and drives them through
// a failure (killed, restarted, full, slow, TLS): the shared tier's contract is its behaviour
// under those faults, and the rig is shared.

package rediscache_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache/redisserver"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// A second replica walks a tree the first one walked without asking the upstream anything: every
// batch comes from Redis, and the tree is the same as a walk with no cache builds.
func TestSecondReplicaWalksTheTreeFromRedis(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	a := newReplica(t, base, redisURL, cfg, cache.Config{})
	b := newReplica(t, base, redisURL, cfg, cache.Config{})
	f := reg.Fixtures()

	first := a.walk(t, f.WideLeafDeep)
	if first.Len() != f.WideNodeCount {
		t.Fatalf("first replica's tree has %d nodes, want %d", first.Len(), f.WideNodeCount)
	}
	reg.ResetStats()
	second := b.walk(t, f.WideLeafDeep)
	if n := reg.Requests(); n != 0 {
		t.Errorf("second replica sent %d upstream requests, want 0", n)
	}
	if n := b.client.Stats().Requests; n != 0 {
		t.Errorf("second replica's client sent %d requests, want 0", n)
	}
	sameTree(t, second, cachedReference(t, f.WideLeafDeep))
	st := b.tier.Stats()
	if st.Hits != int64(f.WideNodeCount) || st.Misses != 0 || st.Leases != 0 {
		t.Errorf("second replica: %d hits, %d misses, %d leases; want %d, 0, 0", st.Hits, st.Misses, st.Leases, f.WideNodeCount)
	}
	if st := a.tier.Stats(); st.Stores != int64(f.WideNodeCount) || st.Leases != int64(f.WideNodeCount) {
		t.Errorf("first replica stored %d values under %d leases, want %d of each", st.Stores, st.Leases, f.WideNodeCount)
	}
	// What came from Redis fills the second replica's memory: a third walk asks Redis nothing.
	b.walk(t, f.WideLeafDeep)
	if st2 := b.tier.Stats(); st2.Hits != st.Hits || st2.Misses != 0 {
		t.Errorf("a warm walk went to Redis again: hits %d → %d", st.Hits, st2.Hits)
	}
}

// Three replicas, each with several users walking the same tree cold at the same moment: every
// batch is fetched from the upstream exactly once in all.
func TestConcurrentColdWalksAcrossReplicasFetchEachBatchOnce(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	// Latency makes the fetches overlap, so that replicas really do meet each other's leases.
	reg := demo.New(demo.Options{Latency: 2 * time.Millisecond})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	f := reg.Fixtures()
	const replicas, users = 3, 5
	var rs []*replica
	for range replicas {
		rs = append(rs, newReplica(t, base, redisURL, cfg, cache.Config{}))
	}
	trees := make(chan *lineage.Tree, replicas*users)
	var wg sync.WaitGroup
	for _, r := range rs {
		for u := range users {
			start := f.WideRoot
			if u%2 == 1 {
				start = f.WideLeafDeep
			}
			wg.Go(func() { trees <- r.walk(t, start) })
		}
	}
	wg.Wait()
	close(trees)
	want := cachedReference(t, f.WideRoot)
	for tr := range trees {
		if tr.Len() != want.Len() {
			t.Fatalf("a walk found %d nodes, want %d", tr.Len(), want.Len())
		}
	}
	for id := range want.Nodes {
		if n := reg.BatchFetches(id); n != 1 {
			t.Errorf("batch %s fetched %d times from the upstream, want 1", id, n)
		}
	}
	var hits, leases, waits int64
	for _, r := range rs {
		st := r.tier.Stats()
		hits, leases, waits = hits+st.Hits, leases+st.Leases, waits+st.LeaseWaits
	}
	// Each replica looks each batch up once (singleflight and memory do the rest): one of the
	// three lookups takes the lease and fetches, the other two are answered by Redis.
	if n := int64(want.Len()); leases != n || hits != 2*n {
		t.Errorf("%d leases and %d hits over %d batches, want %d and %d", leases, hits, n, n, 2*n)
	}
	t.Logf("%d batches, %d lease waits across %d replicas", want.Len(), waits, replicas)
}

// Redis killed in the middle of a walk: the walk completes, correctly, from the upstream; the
// tier reports degraded and stops calling Redis; once Redis is back it recovers by itself.
func TestRedisKilledMidWalkThenRestarted(t *testing.T) {
	const password = "s3cret-Pa55word"
	srv := redisserver.ForTest(t, "--requirepass", password)
	redisURL := "redis://:" + password + "@" + srv.Addr() + "/0"
	reg := demo.New(demo.Options{Latency: time.Millisecond})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t), OpenFor: 50 * time.Millisecond}
	f := reg.Fixtures()

	a := newReplica(t, base, redisURL, cfg, cache.Config{})
	if err := a.tier.Health(context.Background()); err != nil {
		t.Fatalf("health before the kill: %v", err)
	}
	a.walk(t, f.AllFinalRoot)

	b := newReplica(t, base, redisURL, cfg, cache.Config{})
	progress := &lineage.Progress{}
	done := make(chan *lineage.Tree)
	go func() {
		tree, err := b.walker.Lineage(context.Background(), f.WideLeafDeep, progress)
		if err != nil {
			t.Errorf("walk with Redis killed under it: %v", err)
		}
		done <- tree
	}()
	eventually(t, "under way", func() bool { return progress.Fetched() > 50 })
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	tree := <-done
	if tree == nil {
		t.FailNow()
	}
	sameTree(t, tree, cachedReference(t, f.WideLeafDeep))

	var errs []string
	// A walk by a fresh replica with Redis dead: correct, from the upstream, and the breaker
	// opens so that most lookups do not even try Redis.
	c := newReplica(t, base, redisURL, cfg, cache.Config{})
	reg.ResetStats()
	sameTree(t, c.walk(t, f.AllFinalRoot), cachedReference(t, f.AllFinalRoot))
	if n := reg.Requests(); n != 15 {
		t.Errorf("walk with Redis down sent %d upstream requests, want the tree's 15", n)
	}
	st := c.tier.Stats()
	if st.State != "degraded" || st.BreakerTrips == 0 || st.Errors == 0 {
		t.Errorf("with Redis down: state %q, %d trips, %d errors; want degraded, > 0, > 0", st.State, st.BreakerTrips, st.Errors)
	}
	err := c.tier.Health(context.Background())
	if err == nil {
		t.Fatal("Health is nil with Redis down")
	}
	errs = append(errs, err.Error())
	if b.tier.State() != "degraded" {
		t.Errorf("the replica whose walk Redis died under reports %q, want degraded", b.tier.State())
	}
	for _, r := range []*replica{a, b, c} {
		if err := r.tier.Health(context.Background()); err != nil {
			errs = append(errs, err.Error())
		}
		if err := r.tier.SetBytes(context.Background(), "x", []byte("y"), 0); err != nil {
			errs = append(errs, err.Error())
		}
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*replica{a, b, c} {
		eventually(t, "healthy after the restart", func() bool { return r.tier.Health(context.Background()) == nil })
		if r.tier.State() != "ok" {
			t.Errorf("state %q after recovery, want ok", r.tier.State())
		}
	}
	// Recovered for real: what one replica stores now, a fresh one reads with no upstream call.
	c.walk(t, f.DeepChainLeaf)
	d := newReplica(t, base, redisURL, cfg, cache.Config{})
	reg.ResetStats()
	d.walk(t, f.DeepChainLeaf)
	if n := reg.Requests(); n != 0 {
		t.Errorf("after recovery, a fresh replica sent %d upstream requests, want 0", n)
	}
	for _, e := range errs {
		if strings.Contains(e, password) {
			t.Errorf("error text contains the password: %s", e)
		}
	}
	if len(errs) == 0 {
		t.Error("no error text collected to check")
	}
}

// A Redis that hangs (the process stopped: connections accepted, nothing answered) costs each
// call at most the timeout, then nothing once the breaker opens; walks complete from the
// upstream. Without timeouts this test would never end.
func TestRedisHangsWalksGoOn(t *testing.T) {
	srv := redisserver.ForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t), Timeout: 100 * time.Millisecond, OpenFor: 50 * time.Millisecond}
	r := newReplica(t, base, srv.URL(), cfg, cache.Config{})
	if err := r.tier.Health(context.Background()); err != nil { // a pooled connection, open before the hang
		t.Fatal(err)
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = srv.Resume()
		}
	}()
	f := reg.Fixtures()
	sameTree(t, r.walk(t, f.AllFinalRoot), cachedReference(t, f.AllFinalRoot))
	st := r.tier.Stats()
	if st.Errors == 0 || st.BreakerTrips == 0 || st.State != "degraded" {
		t.Errorf("Redis hung: %d errors, %d trips, state %q; want > 0, > 0, degraded", st.Errors, st.BreakerTrips, st.State)
	}
	if reg.BatchFetches(f.AllFinalRoot) != 1 {
		t.Errorf("root fetched %d times, want 1", reg.BatchFetches(f.AllFinalRoot))
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	eventually(t, "healthy after the hang", func() bool { return r.tier.Health(context.Background()) == nil })
}

// After the breaker opens, lookups stop calling a dead Redis: the calls are counted as skipped,
// not attempted, so a dead Redis costs a lookup nothing.
func TestOpenBreakerSkipsRedis(t *testing.T) {
	srv := redisserver.ForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	r := newReplica(t, base, srv.URL(), rediscache.Config{Prefix: testPrefix(t), FailureThreshold: 2, OpenFor: time.Hour}, cache.Config{})
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	r.walk(t, reg.Fixtures().WideLeafDeep)
	st := r.tier.Stats()
	// Two failures open it (concurrent calls already under way may fail too); then nothing is
	// attempted for an hour.
	if st.Errors > 2+8 || st.Skipped < int64(reg.Fixtures().WideNodeCount) {
		t.Errorf("%d errors, %d skipped over a %d-node walk; want at most 10 errors and the rest skipped",
			st.Errors, st.Skipped, reg.Fixtures().WideNodeCount)
	}
	if err := r.tier.Health(context.Background()); err == nil || !strings.Contains(err.Error(), "not attempted") {
		t.Errorf("Health with the breaker open = %v, want the breaker's word", err)
	}
}

// Redis full (maxmemory reached, noeviction): writes fail with an OOM reply, walks go on
// correctly, reads still work (the breaker does not open on OOM), and the tier says it is
// degraded until a write goes through again.
func TestRedisFull(t *testing.T) {
	srv := redisserver.ForTest(t, "--maxmemory-policy", "noeviction")
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	a := newReplica(t, base, srv.URL(), cfg, cache.Config{})
	f := reg.Fixtures()
	a.walk(t, f.AllFinalRoot)
	raw := rawClient(t, srv.URL())
	if err := raw.ConfigSet(context.Background(), "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	sameTree(t, a.walk(t, f.DeepChainLeaf), cachedReference(t, f.DeepChainLeaf))
	if st := a.tier.Stats(); st.Errors == 0 || st.State != "degraded" || !st.Full || st.BreakerTrips != 0 {
		t.Errorf("Redis full: %d errors, state %q, full %v, %d trips; want > 0, degraded, true, 0", st.Errors, st.State, st.Full, st.BreakerTrips)
	}
	if err := a.tier.Health(context.Background()); err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("Health with Redis full = %v, want it to say so", err)
	}
	b := newReplica(t, base, srv.URL(), cfg, cache.Config{})
	reg.ResetStats()
	b.walk(t, f.AllFinalRoot)
	if n := reg.Requests(); n != 0 {
		t.Errorf("reading from a full Redis: %d upstream requests, want 0", n)
	}
	// Room again: the next write clears the state.
	if err := raw.ConfigSet(context.Background(), "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	a.walk(t, f.BigKgRoot)
	if err := a.tier.Health(context.Background()); err != nil || a.tier.State() != "ok" {
		t.Errorf("after room was made: Health %v, state %q; want nil, ok", err, a.tier.State())
	}
}

// Split and retired batches are stored without expiry, active ones with CACHE_TTL, 404s with
// the NotFoundTTL; a replica reading an active batch trusts it only for what remains of it.
func TestExpiries(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	ccfg := cache.Config{TTL: time.Minute, NotFoundTTL: 10 * time.Second}
	a := newReplica(t, base, redisURL, cfg, ccfg)
	f := reg.Fixtures()
	tree := a.walk(t, f.WideLeafDeep)
	a.walk(t, f.DanglingChild)
	raw := rawClient(t, redisURL)
	ctx := context.Background()
	var final, active int
	for id, n := range tree.Nodes {
		ttl, err := raw.PTTL(ctx, a.tier.Prefix()+"batch:{"+id+"}").Result()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case n.Batch.Status.Final():
			final++
			if ttl != -1 {
				t.Fatalf("final batch %s stored with TTL %v, want none", id, ttl)
			}
		default:
			active++
			if ttl <= 0 || ttl > time.Minute {
				t.Fatalf("active batch %s stored with TTL %v, want (0, 1m]", id, ttl)
			}
		}
	}
	if final == 0 || active == 0 {
		t.Fatalf("the wide tree should have both final (%d) and active (%d) batches", final, active)
	}
	dangling := cachedReference(t, f.DanglingChild).Root.Batch.RightChildID
	ttl, err := raw.PTTL(ctx, a.tier.Prefix()+"batch:{"+dangling+"}").Result()
	if err != nil || ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("remembered 404 stored with TTL %v (%v), want (0, 10s]", ttl, err)
	}
	// The 404 is shared: another replica does not ask the upstream for it.
	b := newReplica(t, base, redisURL, cfg, ccfg)
	reg.ResetStats()
	_, err = b.cache.CreditBatch(ctx, dangling)
	if !errors.Is(err, registry.ErrNotFound) || reg.Requests() != 0 {
		t.Errorf("shared 404: err %v after %d upstream requests, want ErrNotFound after 0", err, reg.Requests())
	}
	sameTree(t, b.walk(t, f.DanglingChild), cachedReference(t, f.DanglingChild))
	if reg.Requests() != 0 {
		t.Errorf("a tree with a dangling link, walked again from Redis: %d upstream requests, want 0", reg.Requests())
	}
	// An active batch whose shared entry has 50 ms left is trusted for those 50 ms, not for
	// another CACHE_TTL: once they pass, the replica asks again.
	var activeID string
	for id, n := range tree.Nodes {
		if !n.Batch.Status.Final() {
			activeID = id
			break
		}
	}
	if err := raw.PExpire(ctx, a.tier.Prefix()+"batch:{"+activeID+"}", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.cache.CreditBatch(ctx, activeID); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.cache.Peek(activeID); !ok {
		t.Fatal("active batch read from Redis is not in memory")
	}
	eventually(t, "expired from memory", func() bool { _, ok := b.cache.Peek(activeID); return !ok })
	reg.ResetStats()
	if _, err := b.cache.CreditBatch(ctx, activeID); err != nil || reg.BatchFetches(activeID) != 1 {
		t.Errorf("after its shared TTL: err %v, %d fetches, want a fresh fetch", err, reg.BatchFetches(activeID))
	}
}

// A key of an older schema version is never read, and a value of an older shape found under
// the current key is ignored (and replaced), never misread.
func TestOldSchemaIgnored(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	prefix := testPrefix(t)
	r := newReplica(t, base, redisURL, rediscache.Config{Prefix: prefix}, cache.Config{})
	f := reg.Fixtures()
	root, _ := reg.Batch(f.AllFinalRoot)
	left, _ := reg.Batch(root.LeftChildID)
	raw := rawClient(t, redisURL)
	ctx := context.Background()
	// v0 stored plain JSON under an unversioned-looking key, with sizes as floats and a status
	// spelling of its own. Were it read, the root would show 1 kg.
	v0 := `{"id":"` + root.ID + `","status":"SPLIT","size":{"credit_kgs":1.0,"credits":"0.001"}}`
	if err := raw.Set(ctx, prefix+":v0:batch:{"+root.ID+"}", v0, 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The same old shape under the current key (a botched deploy, say) must not be misread either.
	v0left := `{"id":"` + left.ID + `","status":"SPLIT","size":{"credit_kgs":1.0}}`
	key := r.tier.Prefix() + "batch:{" + left.ID + "}"
	if err := raw.Set(ctx, key, v0left, 0).Err(); err != nil {
		t.Fatal(err)
	}
	tree := r.walk(t, f.AllFinalRoot)
	sameTree(t, tree, cachedReference(t, f.AllFinalRoot))
	if reg.BatchFetches(root.ID) != 1 || reg.BatchFetches(left.ID) != 1 {
		t.Errorf("fetches of the planted batches: %d and %d, want 1 each (from the upstream)",
			reg.BatchFetches(root.ID), reg.BatchFetches(left.ID))
	}
	if st := r.tier.Stats(); st.Unreadable != 1 {
		t.Errorf("%d unreadable values, want 1", st.Unreadable)
	}
	if got, _ := raw.Get(ctx, key).Result(); got == v0left {
		t.Error("the old-shape value was not replaced by the fetched batch")
	}
	if got, _ := raw.Get(ctx, prefix+":v0:batch:{"+root.ID+"}").Result(); got != v0 {
		t.Error("the v0 key was touched")
	}
}

// Sizes above 2^53 survive Redis exactly: a float64 anywhere would lose the last units.
func TestBigKgSurvivesRedis(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	f := reg.Fixtures()
	newReplica(t, base, redisURL, cfg, cache.Config{}).walk(t, f.BigKgRoot)
	b := newReplica(t, base, redisURL, cfg, cache.Config{})
	reg.ResetStats()
	tree := b.walk(t, f.BigKgRoot)
	if reg.Requests() != 0 {
		t.Fatalf("%d upstream requests, want the tree from Redis", reg.Requests())
	}
	want, _ := reg.Batch(f.BigKgRoot)
	got := tree.Nodes[f.BigKgRoot].Batch
	if want.Size.CreditKgs <= 1<<53 {
		t.Fatalf("fixture size %d is not above 2^53", want.Size.CreditKgs)
	}
	if got.Size.CreditKgs != want.Size.CreditKgs || got.Size.Credits != want.Size.Credits {
		t.Errorf("size from Redis %d (%s), want %d (%s)", got.Size.CreditKgs, got.Size.Credits, want.Size.CreditKgs, want.Size.Credits)
	}
	l, r := tree.Nodes[got.LeftChildID].Batch, tree.Nodes[got.RightChildID].Batch
	if l.Size.CreditKgs+r.Size.CreditKgs != got.Size.CreditKgs {
		t.Errorf("children %d + %d != %d", l.Size.CreditKgs, r.Size.CreditKgs, got.Size.CreditKgs)
	}
	stored, err := rawClient(t, redisURL).Get(context.Background(), b.tier.Prefix()+"batch:{"+f.BigKgRoot+"}").Result()
	if err != nil || !strings.Contains(stored, `"credit_kgs":`+strconv.FormatInt(want.Size.CreditKgs, 10)) {
		t.Errorf("stored value does not hold the exact integer %d: %q (%v)", want.Size.CreditKgs, stored, err)
	}
}

// A replica that holds a lease and dies: the waiter takes over once the lease lapses, and the
// batch is still fetched once. A holder that is alive but stuck: the waiter gives up after
// LeaseWait and fetches itself.
func TestLeaseHolderDiesOrHangs(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t), LeaseWait: 300 * time.Millisecond}
	r := newReplica(t, base, redisURL, cfg, cache.Config{})
	raw := rawClient(t, redisURL)
	ctx := context.Background()
	f := reg.Fixtures()

	dead := f.AllFinalRoot // a "dead replica" took its lease and never renews it
	if err := raw.Set(ctx, r.tier.Prefix()+"lease:{"+dead+"}", "dead-replica", 100*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.cache.CreditBatch(ctx, dead); err != nil {
		t.Fatal(err)
	}
	st := r.tier.Stats()
	if st.LeaseWaits != 1 || st.LeaseTakeovers != 1 || reg.BatchFetches(dead) != 1 {
		t.Errorf("dead holder: %d waits, %d takeovers, %d fetches; want 1, 1, 1", st.LeaseWaits, st.LeaseTakeovers, reg.BatchFetches(dead))
	}

	stuck := f.DeepChainRoot // a replica that holds its lease for an hour
	if err := raw.Set(ctx, r.tier.Prefix()+"lease:{"+stuck+"}", "stuck-replica", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.cache.CreditBatch(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	st = r.tier.Stats()
	if st.LeaseWaits != 2 || st.LeaseGaveUp != 1 || reg.BatchFetches(stuck) != 1 {
		t.Errorf("stuck holder: %d waits, %d gave up, %d fetches; want 2, 1, 1", st.LeaseWaits, st.LeaseGaveUp, reg.BatchFetches(stuck))
	}
	if owner, _ := raw.Get(ctx, r.tier.Prefix()+"lease:{"+stuck+"}").Result(); owner != "stuck-replica" {
		t.Errorf("the stuck replica's lease was changed to %q: only its holder may release it", owner)
	}
	// Its own leases it releases once the value is stored.
	if n, _ := raw.Exists(ctx, r.tier.Prefix()+"lease:{"+dead+"}").Result(); n != 0 {
		t.Error("the lease taken over was not released after storing")
	}
}

// A lease is renewed while its holder's fetch takes longer than the lease itself, so that no
// other replica fetches the same batch meanwhile. The fetch is held open by a gate, not a
// latency, and released only once the lease has been seen renewed four times (over
// 4/3 of its TTL), so that a slow machine makes the test wait longer, never fail.
func TestLeaseRenewedDuringSlowFetch(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{})
	id := reg.Fixtures().AllFinalRoot
	release := make(chan struct{})
	upstream, err := url.Parse(demo.NewTestServer(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: upstream.Scheme, Host: upstream.Host})
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/credit_batches/"+id) {
			<-release
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	base := gate.URL + upstream.Path
	cfg := rediscache.Config{Prefix: testPrefix(t), LeaseTTL: 300 * time.Millisecond}
	a := newReplica(t, base, redisURL, cfg, cache.Config{})
	b := newReplica(t, base, redisURL, cfg, cache.Config{})
	ctx := context.Background()
	errc := make(chan error, 2)
	go func() { _, err := a.cache.CreditBatch(ctx, id); errc <- err }()
	eventually(t, "leased by the first replica", func() bool { return a.tier.Stats().Leases == 1 })
	go func() { _, err := b.cache.CreditBatch(ctx, id); errc <- err }()
	eventually(t, "the second replica waiting on the lease", func() bool { return b.tier.Stats().LeaseWaits == 1 })

	raw := rawClient(t, redisURL)
	key := a.tier.Prefix() + "lease:{" + id + "}"
	renewals, last := 0, time.Duration(0)
	eventually(t, "the lease renewed four times", func() bool {
		ttl, err := raw.PTTL(ctx, key).Result()
		if err != nil || ttl <= 0 {
			t.Fatalf("the lease lapsed while its holder was fetching (PTTL %v, %v)", ttl, err)
		}
		if ttl > last && last > 0 {
			renewals++
		}
		last = ttl
		return renewals >= 4
	})
	close(release)
	released = true
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if n := reg.BatchFetches(id); n != 1 {
		t.Errorf("fetched %d times, want 1: the lease lapsed during a live fetch", n)
	}
	if st := b.tier.Stats(); st.LeaseWaits != 1 || st.Hits != 1 {
		t.Errorf("second replica: %d waits, %d hits; want 1 and 1", st.LeaseWaits, st.Hits)
	}
}

func TestGetSetBytes(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	a, err := rediscache.Open(redisURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := rediscache.Open(redisURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if _, ok, err := b.GetBytes(ctx, "serials:v1:roots"); ok || err != nil {
		t.Fatalf("absent value: ok %v, err %v", ok, err)
	}
	val := []byte{0, 1, 2, 0xff, 'x'}
	if err := a.SetBytes(ctx, "serials:v1:roots", val, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := b.GetBytes(ctx, "serials:v1:roots")
	if err != nil || !ok || string(got) != string(val) {
		t.Fatalf("GetBytes = %v, %v, %v; want %v", got, ok, err, val)
	}
	ttl, _ := rawClient(t, redisURL).PTTL(ctx, a.Prefix()+"kv:{serials:v1:roots}").Result()
	if ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %v, want (0, 1m]", ttl)
	}
}

// The password never shows: not in a wrong-password error, not in a dead server's, not in Target.
func TestPasswordNeverInErrors(t *testing.T) {
	const password = "Tr0ub4dor&3-secret"
	srv := redisserver.ForTest(t, "--requirepass", password)
	ctx := context.Background()
	var texts []string
	good := "redis://:" + strings.ReplaceAll(password, "&", "%26") + "@" + srv.Addr() + "/0"
	wrong := "redis://:" + password + "-wrong@" + srv.Addr() + "/0"
	user := "redis://default:" + strings.ReplaceAll(password, "&", "%26") + "@" + srv.Addr() + "/0"
	for _, u := range []string{good, wrong, user} {
		tier, err := rediscache.Open(u, rediscache.Config{Prefix: testPrefix(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer tier.Close()
		texts = append(texts, tier.Target())
		err = tier.Health(ctx)
		if (err == nil) != (u != wrong) {
			t.Errorf("Health(%s) = %v", tier.Target(), err)
		}
		if err != nil {
			texts = append(texts, err.Error())
		}
		if err := tier.SetBytes(ctx, "k", []byte("v"), 0); err != nil {
			texts = append(texts, err.Error())
		}
	}
	for _, u := range []string{
		"redis://:" + password + "@host:notaport/0",
		"redis://:" + password + "@host:6379/0?bogus=1",
		"redis://:" + password + "@host:6379/x",
		"http://:" + password + "@host:6379/0",
		"redis://:" + password + "@[::1/0",
		"redis://:" + password + "/x@host/0",
		"redis://" + password + "@host:6379/0/1",
		":" + password + "@host",
	} {
		_, err := rediscache.Open(u, rediscache.Config{})
		if err == nil {
			t.Errorf("Open(malformed %d) accepted it", len(texts))
			continue
		}
		texts = append(texts, err.Error())
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	tier, _ := rediscache.Open(good, rediscache.Config{})
	defer tier.Close()
	for range 5 {
		if err := tier.Health(ctx); err != nil {
			texts = append(texts, err.Error())
		}
	}
	if !strings.Contains(redisLogText(), "connection refused") {
		t.Error("go-redis logged nothing through SetLogger")
	}
	texts = append(texts, redisLogText())
	for _, s := range texts {
		t.Log(s)
		for _, p := range []string{password, strings.ReplaceAll(password, "&", "%26"), "Tr0ub4dor"} {
			if strings.Contains(s, p) {
				t.Errorf("the password shows in %q", s)
			}
		}
	}
}
