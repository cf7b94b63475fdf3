package benchmark

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// ReplicaOptions are the parameters of the replicas scenario (MeasureReplicas).
type ReplicaOptions struct {
	Latency     time.Duration // added by the demo registry to every answer
	Concurrency int           // UPSTREAM_CONCURRENCY of each replica
	Replicas    int           // replicas walking the tree cold at once; default 3
	Users       int           // concurrent cold walks on each replica; default 10
	Rounds      int           // fresh replicas timed warm, for the median; default 5
	RedisURL    string        // the shared Redis (REDIS_URL); its keys get a prefix of their own
	Start       string        // the batch the walks start from; default the wide tree's deep leaf
	// Tier configures each replica's shared tier; zero values take rediscache's defaults, which
	// are what the figures are for. Its Prefix is replaced by one of the run's own.
	Tier rediscache.Config
}

// ReplicaResult is the replicas scenario's measurement. Durations are wall time.
type ReplicaResult struct {
	Opts  ReplicaOptions
	Nodes int // batches in the tree

	// Replicas × Users cold walks at once, every replica on the one Redis.
	Cold          time.Duration // until every walk had its tree
	ColdRequests  int64         // upstream requests in all
	MaxPerBatch   int64         // the most upstream fetches of one batch (goal 1)
	FetchedOnce   int           // batches fetched exactly once
	LeaseWaits    int64         // lookups that waited for another replica's fetch
	SharedHits    int64         // lookups answered by Redis
	SharedErrors  int64         // Redis calls that failed or timed out (each may cost a fetch)
	BytesPerBatch int64         // stored value size, keys excluded

	// The same without Redis: Replicas × Users cold walks, each replica on its own.
	NoShareCold        time.Duration
	NoShareMaxPerBatch int64 // what sharing avoids: one fetch per replica
	// One replica alone, Users cold walks, no Redis: what one instance costs.
	SingleCold time.Duration

	// A fresh replica after the cold phase: memory empty, Redis warm.
	WarmRequests      int64         // its upstream requests (goal 0)
	WarmFinalRequests int64         // of which for split or retired batches (goal 0)
	FromRedis         time.Duration // median walk on a fresh replica (memory empty, Redis warm)
	FromMemory        time.Duration // median walk again on the same replica (all in memory)
}

// RedisToMemory is how many times longer a walk served from Redis takes than one served from
// memory.
func (r ReplicaResult) RedisToMemory() float64 { return ratio(r.FromRedis, r.FromMemory) }

// AddedPerBatch is what Redis adds to a walk per batch, against memory.
func (r ReplicaResult) AddedPerBatch() time.Duration {
	if r.Nodes == 0 {
		return 0
	}
	return (r.FromRedis - r.FromMemory) / time.Duration(r.Nodes)
}

// ColdToSingle is the shared cold phase's wall time over one replica's alone (lease waits
// included; goal close to 1).
func (r ReplicaResult) ColdToSingle() float64 { return ratio(r.Cold, r.SingleCold) }

// FromRedisToCold is a walk served from Redis against one replica's cold walk from the upstream.
func (r ReplicaResult) FromRedisToCold() float64 { return ratio(r.FromRedis, r.SingleCold) }

// MeasureReplicas runs the replicas scenario on reg: Replicas replicas, each with its own client
// and in-process cache, share one Redis; Users walks on each start cold at once. Then a fresh
// replica walks the same tree warm from Redis, and again from memory. For comparison it also
// times one replica alone and the same replicas without Redis. Keys are written under a prefix
// of the run's own and deleted at the end.
func MeasureReplicas(ctx context.Context, reg *demo.Registry, opts ReplicaOptions) (ReplicaResult, error) {
	opts.Replicas = max(opts.Replicas, 1)
	if opts.Users <= 0 {
		opts.Users = 10
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 5
	}
	if opts.Start == "" {
		opts.Start = reg.Fixtures().WideLeafDeep
	}
	r := ReplicaResult{Opts: opts}
	if opts.RedisURL == "" {
		return r, errors.New("replicas: no Redis URL")
	}
	url, stop, err := demo.Start(reg)
	if err != nil {
		return r, err
	}
	defer stop()
	var b [6]byte
	_, _ = rand.Read(b[:])
	run := &replicaRun{ctx: ctx, reg: reg, opts: opts, url: url, tier: opts.Tier}
	run.tier.Prefix = "bench-" + hex.EncodeToString(b[:])
	defer run.close()
	tree, err := run.measureAlone(&r)
	if err != nil {
		return r, err
	}
	if err := run.measureShared(&r, tree); err != nil {
		return r, err
	}
	return r, run.measureWarm(&r, tree)
}

// replicaRun is one MeasureReplicas run: the demo registry served at url, and the Redis
// tiers it opened under one fresh key prefix (closed by close).
type replicaRun struct {
	ctx   context.Context
	reg   *demo.Registry
	opts  ReplicaOptions
	url   string
	tier  rediscache.Config
	tiers []*rediscache.Tier
}

func (run *replicaRun) close() {
	for _, t := range run.tiers {
		_ = t.Close()
	}
}

// newTier opens one more replica's connection to the shared Redis and checks it answers.
func (run *replicaRun) newTier() (*rediscache.Tier, error) {
	t, err := rediscache.Open(run.opts.RedisURL, run.tier)
	if err != nil {
		return nil, err
	}
	run.tiers = append(run.tiers, t)
	if err := t.Health(run.ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// newWalker is one replica: its own client and in-process cache, over shared when not nil.
func (run *replicaRun) newWalker(shared cache.SharedTier) (*lineage.Walker, error) {
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: run.url, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, Concurrency: run.opts.Concurrency})
	if err != nil {
		return nil, err
	}
	return lineage.NewWalker(cache.New(c, cache.Config{Shared: shared}), lineage.WalkerConfig{Workers: run.opts.Concurrency}), nil
}

// walkAll runs Users walks on each walker at once and returns the wall time and a tree.
func (run *replicaRun) walkAll(walkers []*lineage.Walker) (time.Duration, *lineage.Tree, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var tree *lineage.Tree
	var errs []error
	start := time.Now()
	for _, w := range walkers {
		for range run.opts.Users {
			wg.Go(func() {
				t, err := w.Lineage(run.ctx, run.opts.Start, nil)
				mu.Lock()
				defer mu.Unlock()
				tree = cmpNil(tree, t)
				errs = append(errs, err)
			})
		}
	}
	wg.Wait()
	return time.Since(start), tree, errors.Join(errs...)
}

// walkers makes Replicas replicas, each on its own tier of the shared Redis when shared.
func (run *replicaRun) walkers(shared bool) ([]*lineage.Walker, []*rediscache.Tier, error) {
	var walkers []*lineage.Walker
	var tiers []*rediscache.Tier
	for range run.opts.Replicas {
		var tier cache.SharedTier
		if shared {
			t, err := run.newTier()
			if err != nil {
				return nil, nil, err
			}
			tiers, tier = append(tiers, t), t
		}
		w, err := run.newWalker(tier)
		if err != nil {
			return nil, nil, err
		}
		walkers = append(walkers, w)
	}
	return walkers, tiers, nil
}

// measureAlone times one replica alone, then the replicas without Redis: the figures sharing
// is measured against. It returns the tree walked.
func (run *replicaRun) measureAlone(r *ReplicaResult) (*lineage.Tree, error) {
	w, err := run.newWalker(nil)
	if err != nil {
		return nil, err
	}
	run.reg.ResetStats()
	var tree *lineage.Tree
	if r.SingleCold, tree, err = run.walkAll([]*lineage.Walker{w}); err != nil {
		return nil, err
	}
	r.Nodes = tree.Len()
	walkers, _, err := run.walkers(false)
	if err != nil {
		return nil, err
	}
	run.reg.ResetStats()
	if r.NoShareCold, _, err = run.walkAll(walkers); err != nil {
		return nil, err
	}
	for id := range tree.Nodes {
		r.NoShareMaxPerBatch = max(r.NoShareMaxPerBatch, run.reg.BatchFetches(id))
	}
	return tree, nil
}

// measureShared times the replicas on one Redis, cold, and reads what the tiers counted.
func (run *replicaRun) measureShared(r *ReplicaResult, tree *lineage.Tree) error {
	walkers, shared, err := run.walkers(true)
	if err != nil {
		return err
	}
	run.reg.ResetStats()
	if r.Cold, _, err = run.walkAll(walkers); err != nil {
		return err
	}
	r.ColdRequests = run.reg.Requests()
	for id := range tree.Nodes {
		n := run.reg.BatchFetches(id)
		r.MaxPerBatch = max(r.MaxPerBatch, n)
		if n == 1 {
			r.FetchedOnce++
		}
	}
	var stores, bytes int64
	for _, t := range shared {
		st := t.Stats()
		r.LeaseWaits += st.LeaseWaits
		r.SharedHits += st.Hits
		r.SharedErrors += st.Errors
		stores, bytes = stores+st.Stores, bytes+st.StoredBytes
	}
	if stores > 0 {
		r.BytesPerBatch = bytes / stores
	}
	return nil
}

// measureWarm times fresh replicas on a warm Redis: one Tier (its connections warm, as in a
// replica that has been up a while), a new client and in-process cache each round.
func (run *replicaRun) measureWarm(r *ReplicaResult, tree *lineage.Tree) error {
	t4, err := run.newTier()
	if err != nil {
		return err
	}
	var fromRedis, fromMemory []time.Duration
	for round := range run.opts.Rounds {
		w, err := run.newWalker(t4)
		if err != nil {
			return err
		}
		run.reg.ResetStats()
		start := time.Now()
		if _, err := w.Lineage(run.ctx, run.opts.Start, nil); err != nil {
			return err
		}
		fromRedis = append(fromRedis, time.Since(start))
		if round == 0 {
			r.WarmRequests = run.reg.Requests()
			for id, n := range tree.Nodes {
				if n.Batch != nil && n.Batch.Status.Final() {
					r.WarmFinalRequests += run.reg.BatchFetches(id)
				}
			}
		}
		start = time.Now()
		if _, err := w.Lineage(run.ctx, run.opts.Start, nil); err != nil {
			return err
		}
		fromMemory = append(fromMemory, time.Since(start))
	}
	r.FromRedis, r.FromMemory = median(fromRedis), median(fromMemory)
	deletePrefix(run.ctx, run.opts.RedisURL, t4.Prefix())
	return nil
}

func cmpNil[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// deletePrefix removes the run's keys (best effort: the batches of final status have no expiry).
func deletePrefix(ctx context.Context, redisURL, prefix string) {
	o, err := rediscache.ParseURL(redisURL)
	if err != nil {
		return
	}
	c := redis.NewUniversalClient(o)
	defer c.Close()
	del := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Unlink(ctx, iter.Val())
		}
		return iter.Err()
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
		return
	}
	_ = del(ctx, c)
}

// ReportReplicas prints a replicas measurement.
func ReportReplicas(w io.Writer, r ReplicaResult) {
	o := r.Opts
	fmt.Fprintf(w, "replicas: %d × %d concurrent users, cold, on a %d-batch tree; latency %v per answer, UPSTREAM_CONCURRENCY %d per replica\n\n",
		o.Replicas, o.Users, r.Nodes, o.Latency, o.Concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "cold, shared Redis\tupstream fetches per batch: max %d, %d of %d batches fetched exactly once; %d requests in all\t\n",
		r.MaxPerBatch, r.FetchedOnce, r.Nodes, r.ColdRequests)
	fmt.Fprintf(tw, "\twall %v (%.2f × one replica alone, %v); %d lease waits, %d Redis hits, %d Redis errors; %d bytes stored per batch\t\n",
		round(r.Cold), r.ColdToSingle(), round(r.SingleCold), r.LeaseWaits, r.SharedHits, r.SharedErrors, r.BytesPerBatch)
	fmt.Fprintf(tw, "cold, no Redis\tupstream fetches per batch: max %d; wall %v\t\n", r.NoShareMaxPerBatch, round(r.NoShareCold))
	fmt.Fprintf(tw, "fresh replica, warm Redis\tupstream requests %d (%d for final batches)\t\n", r.WarmRequests, r.WarmFinalRequests)
	fmt.Fprintf(tw, "\ttree from Redis %v, from memory %v (median of %d): Redis/memory %.1f ×, +%v per batch; Redis/cold upstream %.3f\t\n",
		round(r.FromRedis), round(r.FromMemory), o.Rounds, r.RedisToMemory(), r.AddedPerBatch().Round(100*time.Nanosecond), r.FromRedisToCold())
	tw.Flush()
	fmt.Fprintln(w, "\nGoals: max upstream fetches per batch 1 with Redis; a fresh replica's upstream requests 0.")
}
