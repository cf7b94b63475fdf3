package lineage

import (
	"cmp"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
)

// ExplorerConfig configures an Explorer. Zero values take the defaults of each part.
type ExplorerConfig struct {
	Cache  cache.Config
	Walker WalkerConfig
	// WalkTimeout bounds one background lineage walk. Default 5m.
	WalkTimeout time.Duration
	// KeepFinished is how long a finished walk's whole tree is served as it is: to the
	// requests that were waiting for it (a progress page polling, say) and to those that
	// follow. A walk that failed, or whose tree is partial, goes only to the requests that were
	// waiting for it (those that joined it while it ran, and a progress page that names it, see
	// FollowLineage, for KeepFinished): the next request starts a new walk. Default 30s.
	KeepFinished time.Duration
	// KeepStale is how long after it finished a successful walk's tree is still served while a
	// new walk of it runs (stale-while-revalidate): a request past KeepFinished starts that walk
	// and gets the tree it had, whose page says when it was walked, instead of a progress page.
	// Past KeepStale the tree is dropped and the next request waits for a new walk. Default 10m.
	KeepStale time.Duration
	// OnWalk, if set, is called after every background lineage walk with its tree (nil on
	// error), its error and how long it took, for metrics. It must be fast.
	OnWalk func(tree *Tree, err error, took time.Duration)
	// SerialIndex configures the serial number index (refresh interval, indexer concurrency).
	SerialIndex SerialIndexConfig
	// Planner configures the planner that learns batches from list routes, used when the Source
	// is also a BatchLister (see Planner).
	Planner PlannerConfig
	// NoPlanner fetches every batch by id even when the Source can list them.
	NoPlanner bool
}

// Explorer is what the web layer talks to: the client, the cache in front of it, the walker on
// top of the cache, and the lineage walks under way (so that a page can show their progress and
// many requests for one tree share one walk).
type Explorer struct {
	client  Source
	cache   *cache.Cache
	byID    *countingSource
	planner *Planner // nil when the Source cannot list batches
	walker  *Walker
	serials *SerialIndex
	reports *reportSet // issuance and retirement reports (reports.go)
	cfg     ExplorerConfig

	mu     sync.Mutex
	jobs   map[string]*LineageJob // by batch id: the walk requests for it join or are served
	byWalk map[uint64]*LineageJob // by Walk: every walk running or finished within KeepFinished
	walks  uint64                 // the last Walk number given
}

// NewExplorer wires a Cache and a Walker in front of client.
func NewExplorer(client Source, cfg ExplorerConfig) *Explorer {
	cfg.WalkTimeout = cmp.Or(max(cfg.WalkTimeout, 0), 5*time.Minute)
	cfg.KeepFinished = cmp.Or(max(cfg.KeepFinished, 0), 30*time.Second)
	cfg.KeepStale = max(cmp.Or(max(cfg.KeepStale, 0), 10*time.Minute), cfg.KeepFinished)
	serials := newSerialIndex(client, cfg.SerialIndex)
	cacheCfg := cfg.Cache
	cacheCfg.OnStore = serials.onStore(cfg.Cache.OnStore) // every batch stored is indexed by serial
	byID := &countingSource{src: client}
	cache := cache.New(byID, cacheCfg)
	wcfg := cfg.Walker
	var planner *Planner
	if lister, ok := client.(BatchLister); ok && !cfg.NoPlanner && wcfg.Planner == nil {
		planner = NewPlanner(lister, cache, cfg.Planner)
		wcfg.Planner = planner
	}
	walker := NewWalker(cache, wcfg)
	serials.attach(cache, walker)
	e := &Explorer{client: client, cache: cache, byID: byID, planner: planner, walker: walker, serials: serials, cfg: cfg,
		jobs: map[string]*LineageJob{}, byWalk: map[uint64]*LineageJob{}}
	e.reports = newReportSet(e)
	return e
}

// ResolveSerial finds the credit batch of a serial number: the batch whose serial_number it is
// (whatever its status), else the smallest batch whose unit range contains it. It returns an
// error wrapping ErrInvalid for a malformed serial (nothing is sent upstream), a
// *SerialNotFoundError (wrapping ErrNotFound, with the index's freshness) when no batch has or
// contains it, or the client's errors. The data comes from GET /issuances,
// GET /issuances/{id}/credit_batches and GET /credit_batches/{id}, through the cache.
func (e *Explorer) ResolveSerial(ctx context.Context, serial string) (Resolution, error) {
	return e.serials.Resolve(ctx, serial)
}

// SerialIndex is the serial number index, to start its background indexer and read its status.
func (e *Explorer) SerialIndex() *SerialIndex { return e.serials }

// CacheStats are the in-process batch cache's counters (cache.Stats), so that the web layer
// reads them without importing a cache tier.
type CacheStats = cache.Stats

// SharedStats are the shared cache tier's counters (cache.SharedStats).
type SharedStats = cache.SharedStats

// Stats are the explorer's counters since start, for metrics: the in-process cache's, the
// shared tier's (nil without one) and the upstream's (zero when the Source is not Observable).
type Stats struct {
	Cache    cache.Stats
	Shared   *cache.SharedStats
	Upstream registry.ClientStats
	// ByID is how many batches were fetched from the registry one by one (GET
	// /credit_batches/{id} answered with a batch), on a miss of every cache tier.
	ByID int64
	// Planner is the list planner's counters (zero without one): batches learnt from lists.
	Planner PlannerStats
}

// Stats returns the explorer's counters; it asks nothing of the registry.
func (e *Explorer) Stats() Stats {
	st := Stats{Cache: e.cache.Stats(), ByID: e.byID.fetched.Load()}
	if e.planner != nil {
		st.Planner = e.planner.Stats()
	}
	if e.cfg.Cache.Shared != nil {
		ss := e.cfg.Cache.Shared.Stats()
		st.Shared = &ss
	}
	if o, ok := e.client.(Observable); ok {
		st.Upstream = o.Stats()
	}
	return st
}

// Observe installs fn to be called after every upstream attempt (for metrics), when the
// Source is Observable. fn must be fast and safe for concurrent use.
func (e *Explorer) Observe(fn func(registry.RequestEvent)) {
	if o, ok := e.client.(Observable); ok {
		o.SetObserver(fn)
	}
}

// Ready asks the registry whether it answers and accepts the configured credentials (the
// Source's Ping); nil means ready. Errors wrap registry.ErrCredentials, ErrThrottled or
// ErrUnavailable.
func (e *Explorer) Ready(ctx context.Context) error { return e.client.Ping(ctx) }

// SharedHealth is nil when there is no shared tier or it works, else why it is degraded,
// in words fit for /readyz.
func (e *Explorer) SharedHealth(ctx context.Context) (configured bool, err error) {
	if e.cfg.Cache.Shared == nil {
		return false, nil
	}
	return true, e.cfg.Cache.Shared.Health(ctx)
}

// CreditBatch returns one batch through the cache (GET /credit_batches/{id} on a miss).
func (e *Explorer) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	return e.cache.CreditBatch(ctx, id)
}

// Issuance returns the record of issuance id (GET /issuances/{id}, not cached): one request
// that says whether the registry has it. Its error wraps registry.ErrNotFound for an unknown
// issuance.
func (e *Explorer) Issuance(ctx context.Context, id string) (*registry.Issuance, error) {
	return e.client.Issuance(ctx, id)
}

// LineageJob is a lineage walk running in the background.
type LineageJob struct {
	ID       string    // the batch the walk started from
	Started  time.Time // when the walk started
	Progress *Progress
	// Walk numbers the walk among the process's walks (from 1), so that a progress page can
	// come back for the walk it showed (FollowLineage) whatever became of it.
	Walk uint64

	done       chan struct{}
	tree       *Tree
	err        error
	finished   time.Time
	refreshing bool // a new walk of the same batch is under way to replace this one (under Explorer.mu)
}

// Done is closed when the walk has finished.
func (j *LineageJob) Done() <-chan struct{} { return j.done }

// Result returns the walk's tree or error (see Walker.Lineage); call it after Done is closed.
func (j *LineageJob) Result() (*Tree, error) {
	<-j.done
	return j.tree, j.err
}

// StartLineage starts a background walk of the lineage of batch id, or joins the one under way
// or finished within KeepFinished. A successful walk older than that is still returned, up to
// KeepStale, while a new walk replaces it in the background (see KeepStale). The walk is not
// tied to any request: it goes on if the browser leaves (what it fetches fills the cache),
// bounded by WalkTimeout. fresh drops a finished walk first, so that a retry walks again.
func (e *Explorer) StartLineage(id string, fresh bool) *LineageJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	for k, j := range e.jobs {
		if !j.finished.IsZero() && now.Sub(j.finished) > e.cfg.KeepStale {
			delete(e.jobs, k)
		}
	}
	for k, j := range e.byWalk {
		if !j.finished.IsZero() && now.Sub(j.finished) > e.cfg.KeepFinished {
			delete(e.byWalk, k)
		}
	}
	if j, ok := e.jobs[id]; ok && !(fresh && !j.finished.IsZero()) {
		if !j.finished.IsZero() && j.err == nil && now.Sub(j.finished) > e.cfg.KeepFinished && !j.refreshing {
			j.refreshing = true
			e.walk(id, now, j)
		}
		return j
	}
	if !fresh {
		// Moving from batch to batch within one tree needs no new walk: a tree walked moments
		// ago from another of its batches is the same tree, seen from here.
		for _, j := range e.jobs {
			if j.finished.IsZero() || j.err != nil || j.tree.Partial() {
				continue
			}
			if n := j.tree.Nodes[id]; n != nil && n.Batch != nil && n.Missing == MissingNone {
				view := j.tree.WithTarget(n)
				done := make(chan struct{})
				close(done)
				seen := &LineageJob{ID: id, Started: j.Started, Progress: j.Progress, Walk: j.Walk, done: done, tree: view, finished: j.finished}
				e.jobs[id] = seen
				return seen
			}
		}
	}
	return e.walk(id, now, nil)
}

// FollowLineage returns the walk numbered walk (LineageJob.Walk) when it is of batch id and
// still known (under way, or finished within KeepFinished), whatever its outcome: a progress
// page reloading gets the end of the walk it was showing, a failure included. Otherwise it is
// StartLineage(id, false).
func (e *Explorer) FollowLineage(id string, walk uint64) *LineageJob {
	e.mu.Lock()
	j := e.byWalk[walk]
	e.mu.Unlock()
	if j != nil && j.ID == id {
		return j
	}
	return e.StartLineage(id, false)
}

// walk starts a background walk of id's lineage. With stale nil the new job is the one
// requests for id join from now on; otherwise it replaces stale once it has succeeded, and a
// failure leaves stale in place, due for another try. Call it with e.mu held.
func (e *Explorer) walk(id string, now time.Time, stale *LineageJob) *LineageJob {
	e.walks++
	j := &LineageJob{ID: id, Started: now, Progress: &Progress{}, Walk: e.walks, done: make(chan struct{})}
	e.byWalk[j.Walk] = j
	if stale == nil {
		e.jobs[id] = j
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.WalkTimeout)
		defer cancel()
		tree, err := e.walker.Lineage(ctx, id, j.Progress)
		if e.cfg.OnWalk != nil {
			e.cfg.OnWalk(tree, err, time.Since(j.Started))
		}
		whole := err == nil && !tree.Partial()
		e.mu.Lock()
		j.tree, j.err, j.finished = tree, err, time.Now()
		switch {
		case stale != nil:
			// A failed or partial refresh leaves the whole tree it was to replace, due for
			// another try.
			stale.refreshing = false
			if cur := e.jobs[id]; whole && (cur == stale || cur == nil) {
				e.jobs[id] = j
			}
		case !whole && !definitive(err) && e.jobs[id] == j:
			// The requests waiting for this walk have it; the next one walks again, so that a
			// registry that has recovered is asked rather than a failure served. A definitive
			// answer (no such batch) is kept for KeepFinished, as the cache keeps a 404.
			delete(e.jobs, id)
		}
		e.mu.Unlock()
		close(j.done)
	}()
	return j
}

// Lineage walks the lineage of batch id (sharing a walk under way) and waits for it, or for ctx.
func (e *Explorer) Lineage(ctx context.Context, id string) (*Tree, error) {
	j := e.StartLineage(id, false)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-j.Done():
		return j.Result()
	}
}

// countingSource counts the batches its source returned by id, for Stats.ByID.
type countingSource struct {
	src     BatchSource
	fetched atomic.Int64
}

func (c *countingSource) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	b, err := c.src.CreditBatch(ctx, id)
	if err == nil {
		c.fetched.Add(1)
	}
	return b, err
}

// remember puts batches a list route returned into the cache, as if fetched by id, so that
// walks find them there; a record whose id GET /credit_batches/{id} would refuse is left out.
func (e *Explorer) remember(batches []registry.CreditBatch) {
	for i := range batches {
		if b := &batches[i]; registry.ValidateID(registry.PrefixCreditBatch, b.ID) == nil {
			e.cache.Put(b)
		}
	}
}
