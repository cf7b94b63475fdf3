// Package watch polls the trees users watch (history.Watch) and sends what changed to each
// watch list's webhook. A split or retired batch never changes, so a poll asks the registry
// again only for the active batches of each watched tree (GET /credit_batches/{id} each,
// bypassing the cache's TTL): a tree whose active leaves are n costs n requests a poll, never
// its node count, plus one per batch a split has made since. The changes themselves are
// recorded by the history journal, which every fetched batch passes through; the poller reads
// them back from it.
//
// Polling spends an upstream budget (Config.Budget requests an hour) so that watching never
// starves people at their browsers: what the budget leaves unpolled is reported (Status,
// Stats) and polled first next time.
package watch

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Explorer is what the poller asks of the registry; *lineage.Explorer implements it.
type Explorer interface {
	// Lineage walks a batch's tree through the cache (discovery of a watched tree).
	Lineage(ctx context.Context, id string) (*lineage.Tree, error)
	// Refresh fetches one batch bypassing the cache's TTL and stores it (one upstream request).
	Refresh(ctx context.Context, id string) (*registry.CreditBatch, error)
	// ResolveSerial finds the batch that holds a serial number.
	ResolveSerial(ctx context.Context, serial string) (lineage.Resolution, error)
	// IssuanceReport is an issuance's roots with their trees walked.
	IssuanceReport(ctx context.Context, id string) (*lineage.IssuanceReport, error)
}

// Config tunes a Poller. Zero values take the defaults given.
type Config struct {
	// Interval is the time between two polls (WATCH_INTERVAL). Default 15m.
	Interval time.Duration
	// Budget is the most upstream requests polling may make in an hour (WATCH_BUDGET); 0 is
	// no limit. It is spent evenly: it refills at Budget an hour, and a poll may use at most
	// Budget × Interval / 1h (1 when that is less), so that the hour's budget is not spent in
	// its first poll; when that is under 1, most polls make no request.
	Budget int
	// Workers is how many trees are polled at once. Default 2: polling takes at most that many
	// of the process's UPSTREAM_CONCURRENCY slots, and people's pages keep the rest.
	Workers int
	// Notifier sends each watch list's changes to its webhook; nil sends nothing.
	Notifier Notifier
	// Logger receives what goes wrong; nil is slog.Default().
	Logger *slog.Logger
	// Now is the clock of polls and of the budget. Default time.Now.
	Now func() time.Time
}

// Stats are a poller's counters since it started.
type Stats struct {
	Polls     int64 // polls finished
	Requests  int64 // batches asked of the registry (Refresh), the budget's unit
	Changes   int64 // changes of watched trees seen (events other than first_seen)
	Skipped   int64 // active batches left unpolled because the budget was spent
	Failed    int64 // batches whose poll failed (the registry did not answer)
	Behind    int64 // watched trees not polled whole in the last poll (a gauge)
	Delivered int64 // webhook deliveries accepted
	Undeliver int64 // webhook deliveries that failed after their retries
}

// TreeStatus is what the poller knows of one watched tree.
type TreeStatus struct {
	Root string // the tree's root batch id
	// Batches are every batch id of the tree seen so far; Active those polled each time.
	Batches []string
	Active  int
	// Polled is when every active batch of the tree was last asked of the registry; zero when
	// it has not been yet.
	Polled time.Time
	// Behind counts the active batches the last poll could not ask for (budget spent, or the
	// registry failing), asked first next time.
	Behind int
}

// WatchStatus is what the poller knows of one watch: the trees of what it follows.
type WatchStatus struct {
	Trees []TreeStatus
	// Err says why the watched thing could not be found or walked, "" when it was.
	Err string
	// Known is false until the poller has looked for the watch's trees.
	Known bool
}

// Polled is the oldest of the trees' Polled (zero if any is not polled yet), and Behind their sum.
func (s WatchStatus) Polled() (oldest time.Time, behind int) {
	for i, t := range s.Trees {
		if i == 0 || t.Polled.Before(oldest) {
			oldest = t.Polled
		}
		behind += t.Behind
	}
	return oldest, behind
}

// BatchIDs is every batch of the watch's trees.
func (s WatchStatus) BatchIDs() []string {
	var ids []string
	for _, t := range s.Trees {
		ids = append(ids, t.Batches...)
	}
	return ids
}

// tree is a watched tree's state (under Poller.mu).
type tree struct {
	root    string
	batches map[string]bool
	active  map[string]time.Time // active batch id → when it was last asked (zero: never)
	polled  time.Time
	behind  int
}

// Poller polls the watched trees every Interval. Start runs it; PollOnce is one poll.
type Poller struct {
	ex      Explorer
	journal *history.Journal
	cfg     Config
	log     *slog.Logger
	kick    chan struct{}

	budgetMu sync.Mutex
	tokens   float64
	refilled time.Time

	mu      sync.Mutex
	trees   map[string]*tree      // by root id
	watches map[string]*watchRoot // by watch id
	counted time.Time             // changes observed before it have been counted in Stats.Changes

	polls, requests, changes, skipped, failed, behind, delivered, undelivered atomic.Int64

	backoffMu sync.Mutex
	backoff   map[string]backoffState // by owner: webhooks that failed lately

	id      string      // this poller's name in the database's lease
	standby atomic.Bool // another replica held the lease at the last poll
}

// backoffState is a list's webhook failing: how many deliveries in a row, and until when it
// is left alone.
type backoffState struct {
	failures int
	until    time.Time
}

// pollerLease is the lease (history.Journal.HoldLease) that makes one replica of those sharing
// a database poll the watched trees and send the webhooks: two would ask the registry twice and
// send every change twice.
const pollerLease = "watch-poller"

// watchRoot is what a watch resolved to.
type watchRoot struct {
	roots []string
	err   string
}

// New returns a poller of the watches journal keeps, reading the registry through ex.
func New(ex Explorer, journal *history.Journal, cfg Config) *Poller {
	cfg.Interval = cmp.Or(max(cfg.Interval, 0), 15*time.Minute)
	cfg.Workers = cmp.Or(max(cfg.Workers, 0), 2)
	cfg.Budget = max(cfg.Budget, 0)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Poller{ex: ex, journal: journal, cfg: cfg, log: log, kick: make(chan struct{}, 1),
		trees: map[string]*tree{}, watches: map[string]*watchRoot{}, id: rand.Text(), backoff: map[string]backoffState{}}
	p.tokens, p.refilled = p.perPoll(), cfg.Now()
	return p
}

// Standby reports whether another replica sharing the database held the polling lease at the
// last poll, so that this one neither polls nor sends webhooks (and knows no polling state).
func (p *Poller) Standby() bool { return p.standby.Load() }

// Interval is the time between two polls.
func (p *Poller) Interval() time.Duration { return p.cfg.Interval }

// Notifier is what sends the lists' changes to their webhooks; nil when none is configured.
func (p *Poller) Notifier() Notifier { return p.cfg.Notifier }

// Budget is the most upstream requests an hour polling may make; 0 is no limit.
func (p *Poller) Budget() int { return p.cfg.Budget }

// perPoll is the most requests one poll may make (the bucket's size).
func (p *Poller) perPoll() float64 {
	if p.cfg.Budget == 0 {
		return 0
	}
	return max(1, float64(p.cfg.Budget)*p.cfg.Interval.Hours())
}

// spend takes one request from the budget; false when it is spent.
func (p *Poller) spend() bool {
	if p.cfg.Budget == 0 {
		return true
	}
	p.budgetMu.Lock()
	defer p.budgetMu.Unlock()
	now := p.cfg.Now()
	if el := now.Sub(p.refilled); el > 0 {
		p.tokens = min(p.perPoll(), p.tokens+el.Hours()*float64(p.cfg.Budget))
		p.refilled = now
	}
	if p.tokens < 1 {
		return false
	}
	p.tokens--
	return true
}

// Start polls at once and then every Interval, and whenever Kick is called, until ctx ends or
// the returned stop is called (which waits for the poll under way).
func (p *Poller) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.cfg.Interval)
		defer t.Stop()
		for {
			if err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("watch poll failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-p.kick:
			}
		}
	}()
	return func() {
		cancel()
		<-done
		// A replica stopped on purpose hands the polling over at once, not a lease later.
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		if err := p.journal.ReleaseLease(rctx, pollerLease, p.id); err != nil {
			p.log.Warn("watch: polling lease not released", "err", err)
		}
	}
}

// Kick asks for a poll now (a watch was added), without waiting for it.
func (p *Poller) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// PollOnce is one poll: it finds the trees of every watch (walking those not seen yet), asks
// the registry for their active batches within the budget, waits for the journal to record
// what came back, and sends each list's changes to its webhook.
func (p *Poller) PollOnce(ctx context.Context) error {
	// Held for two intervals and a minute, renewed each poll: a replica that stops is replaced
	// by another within that, and a slow poll does not lose it.
	held, err := p.journal.HoldLease(ctx, pollerLease, p.id, 2*p.cfg.Interval+time.Minute, p.cfg.Now())
	if err != nil {
		return err
	}
	if p.standby.Store(!held); !held {
		return nil // another replica on this database polls and sends
	}
	watches, err := p.journal.AllWatches(ctx)
	if err != nil {
		return err
	}
	roots := p.resolve(ctx, watches)
	p.pollTrees(ctx, roots)
	if err := p.journal.Flush(ctx); err != nil {
		return err
	}
	p.notify(ctx, watches)
	p.polls.Add(1)
	return nil
}

// resolve finds the root batches of each watch (once per watch; again while it fails) and
// walks the trees not known yet. It returns every root watched.
func (p *Poller) resolve(ctx context.Context, watches []history.Watch) []string {
	seen := map[string]bool{}
	var all []string
	live := map[string]bool{}
	for _, w := range watches {
		live[w.ID] = true
		p.mu.Lock()
		wr := p.watches[w.ID]
		p.mu.Unlock()
		if wr == nil || wr.err != "" {
			wr = p.rootsOf(ctx, w)
			p.mu.Lock()
			p.watches[w.ID] = wr
			p.mu.Unlock()
		}
		for _, r := range wr.roots {
			if !seen[r] {
				seen[r] = true
				all = append(all, r)
			}
		}
	}
	p.mu.Lock()
	for id := range p.watches {
		if !live[id] {
			delete(p.watches, id)
		}
	}
	for r := range p.trees {
		if !seen[r] {
			delete(p.trees, r) // nobody watches it any more
		}
	}
	p.mu.Unlock()
	return all
}

// problem says why a watched thing could not be read, in words for its owner: notFound when
// the registry has no such thing. The error's own text is not shown: it carries the upstream
// request line ("GET /issuances/…: …"), which means nothing to a reader of /watch.
func problem(notFound string, err error) string {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return notFound
	case errors.Is(err, registry.ErrCredentials):
		return "the registry refused the explorer's configured credentials"
	case errors.Is(err, registry.ErrInvalid):
		return "the registry refused it as invalid"
	case errors.Is(err, registry.ErrThrottled), errors.Is(err, registry.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "the registry did not answer in time; it is asked again at the next poll"
	}
	return "the registry's answer could not be read; it is asked again at the next poll"
}

// rootsOf resolves one watch to its trees' roots, walking each tree not known yet.
func (p *Poller) rootsOf(ctx context.Context, w history.Watch) *watchRoot {
	var starts []string
	switch w.Kind {
	case history.WatchBatch:
		starts = []string{w.Target}
	case history.WatchSerial:
		res, err := p.ex.ResolveSerial(ctx, w.Target)
		if err != nil {
			return &watchRoot{err: problem("no credit batch holds this serial number", err)}
		}
		starts = []string{res.BatchID}
	case history.WatchIssuance:
		rep, err := p.ex.IssuanceReport(ctx, w.Target)
		if err != nil {
			return &watchRoot{err: problem("the registry has no such issuance", err)}
		}
		for _, r := range rep.Roots {
			starts = append(starts, r.ID)
		}
	default:
		return &watchRoot{err: "unknown kind of watch " + w.Kind}
	}
	wr := &watchRoot{}
	for _, id := range starts {
		t, err := p.ex.Lineage(ctx, id)
		if err != nil {
			wr.err = "the tree of " + id + " could not be walked: " + problem("the registry has no such credit batch", err)
			continue
		}
		if t.Root == nil {
			continue
		}
		wr.roots = append(wr.roots, t.Root.ID)
		p.mu.Lock()
		if p.trees[t.Root.ID] == nil {
			p.trees[t.Root.ID] = newTree(t)
		}
		p.mu.Unlock()
	}
	return wr
}

func newTree(t *lineage.Tree) *tree {
	tr := &tree{root: t.Root.ID, batches: map[string]bool{}, active: map[string]time.Time{}}
	for id, n := range t.Nodes {
		if n.Batch == nil {
			continue
		}
		tr.batches[id] = true
		if !n.Batch.Status.Final() {
			tr.active[id] = time.Time{}
		}
	}
	return tr
}

// pollTrees polls the trees of roots, the least recently polled first, Workers at a time.
func (p *Poller) pollTrees(ctx context.Context, roots []string) {
	p.mu.Lock()
	var trees []*tree
	for _, r := range roots {
		if t := p.trees[r]; t != nil {
			trees = append(trees, t)
		}
	}
	slices.SortFunc(trees, func(a, b *tree) int { return a.polled.Compare(b.polled) })
	p.mu.Unlock()
	work := make(chan *tree)
	var wg sync.WaitGroup
	for range p.cfg.Workers {
		wg.Go(func() {
			for t := range work {
				p.pollTree(ctx, t)
			}
		})
	}
	for _, t := range trees {
		work <- t
	}
	close(work)
	wg.Wait()
	var behind int64
	p.mu.Lock()
	for _, t := range p.trees {
		if t.behind > 0 {
			behind++
		}
	}
	p.mu.Unlock()
	p.behind.Store(behind)
}

// pollTree asks the registry for t's active batches, those asked longest ago first; a batch
// found split has its children asked too (they are new), one found final is polled no more.
func (p *Poller) pollTree(ctx context.Context, t *tree) {
	p.mu.Lock()
	queue := make([]string, 0, len(t.active))
	for id := range t.active {
		queue = append(queue, id)
	}
	slices.SortFunc(queue, func(a, b string) int {
		return cmp.Or(t.active[a].Compare(t.active[b]), cmp.Compare(a, b))
	})
	p.mu.Unlock()
	left := 0
	for i := 0; i < len(queue); i++ {
		id := queue[i]
		if ctx.Err() != nil || !p.spend() {
			left = len(queue) - i
			p.skipped.Add(int64(left))
			break
		}
		p.requests.Add(1)
		b, err := p.ex.Refresh(ctx, id)
		now := p.cfg.Now()
		p.mu.Lock()
		switch {
		case errors.Is(err, registry.ErrNotFound):
			delete(t.active, id) // gone from the registry: nothing more to ask
		case err != nil:
			left++
			p.failed.Add(1)
		case b.Status.Final():
			delete(t.active, id)
			for _, c := range []string{b.LeftChildID, b.RightChildID} {
				if c != "" && !t.batches[c] {
					t.batches[c] = true
					queue = append(queue, c) // new since the last poll: ask it now
				}
			}
		default:
			t.active[id] = now
		}
		if err == nil {
			t.batches[id] = true
		}
		p.mu.Unlock()
	}
	p.mu.Lock()
	t.behind = left
	if left == 0 {
		t.polled = p.cfg.Now()
	}
	p.mu.Unlock()
}

// Status is what the poller knows of watch id.
func (p *Poller) Status(id string) WatchStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	wr := p.watches[id]
	if wr == nil {
		return WatchStatus{}
	}
	st := WatchStatus{Known: true, Err: wr.err}
	for _, r := range wr.roots {
		t := p.trees[r]
		if t == nil {
			continue
		}
		ts := TreeStatus{Root: r, Active: len(t.active), Polled: t.polled, Behind: t.behind}
		for id := range t.batches {
			ts.Batches = append(ts.Batches, id)
		}
		slices.Sort(ts.Batches)
		st.Trees = append(st.Trees, ts)
	}
	return st
}

// Stats returns the poller's counters.
func (p *Poller) Stats() Stats {
	return Stats{Polls: p.polls.Load(), Requests: p.requests.Load(), Changes: p.changes.Load(), Skipped: p.skipped.Load(),
		Failed: p.failed.Load(), Behind: p.behind.Load(), Delivered: p.delivered.Load(), Undeliver: p.undelivered.Load()}
}
