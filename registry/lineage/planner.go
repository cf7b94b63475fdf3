package lineage

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// BatchLister is what a Source may also offer: one page of GET
// /organisations/{id}/credit_batches, the batches an organisation owns or is the beneficiary
// of, narrowed by the filter (at most registry.MaxPageSize a page). *isometric.Client does.
// Errors wrap registry's sentinel errors; it must be safe for concurrent use.
type BatchLister interface {
	OrganisationCreditBatches(ctx context.Context, orgID string, f registry.OrganisationBatchFilter, first int, after string) (*registry.Page[registry.CreditBatch], error)
}

// EventBatchLister is what a BatchLister may also offer: the whole batch lists of a
// retirement (GET /retirements/{id}/credit_batches, the batches it retired) and of a delivery
// (GET /deliveries/{id}/credit_batches, the batches delivered, split ones included); neither
// route pages. *isometric.Client does. Errors wrap registry's sentinel errors; it must be safe
// for concurrent use.
type EventBatchLister interface {
	RetirementCreditBatches(ctx context.Context, id string) (*registry.List[registry.CreditBatch], error)
	DeliveryCreditBatches(ctx context.Context, id string) (*registry.List[registry.CreditBatch], error)
}

// BatchStore is where a Planner puts the batches it lists, for the walk to find them there as
// if fetched by id: *cache.Cache.
type BatchStore interface {
	// Put stores a batch learnt from a list.
	Put(b *registry.CreditBatch)
	// Peek returns the batch if it is stored and fresh, without fetching it.
	Peek(id string) (*registry.CreditBatch, bool)
}

// PlannerConfig configures a Planner. Zero values take the defaults given.
type PlannerConfig struct {
	// RefusalTTL is how long a list route's refusal (403, 404 or 422) for an organisation,
	// retirement or delivery is remembered: meanwhile that list is not asked again and its
	// batches are fetched by id. Default 10m.
	RefusalTTL time.Duration
	// MaxPages bounds the pages of one listing (one organisation, issuance and status), so that
	// a holder of far more batches than a tree can hold is not listed to the end. Default
	// DefaultMaxNodes / registry.MaxPageSize.
	MaxPages int
	// MinMisses is how many batches a walk must miss in the cache before it lists: a small
	// tree (a few splits) is fetched by id sooner, and in fewer requests, than its holders'
	// lists, which may hold many other batches. Default 16 (two waves of the default workers).
	MinMisses int
	// RouteRefusals is how many different organisations' (or retirements', or deliveries')
	// lists refused in a row, none served between, make the planner take the whole route as
	// refused for RefusalTTL: a registry that lists only the caller's own organisation then
	// costs a walk a few refused requests, not some for every holder. Default 3.
	RouteRefusals int
}

// listStatuses are the statuses a listing asks for, one listing each so that they page in
// parallel; split must be named, the route leaves it out by default.
var listStatuses = []registry.Status{registry.StatusActive, registry.StatusSplit, registry.StatusRetired}

// The routes the planner lists, as refusals are remembered per route and id.
const (
	orgRoute        = "/organisations/{id}/credit_batches"
	retirementRoute = "/retirements/{id}/credit_batches"
	deliveryRoute   = "/deliveries/{id}/credit_batches"
)

// Planner learns batches from the registry's list routes ahead of a walk: once a walk knows a
// batch's holder and issuance and misses a batch in the cache, it lists the holder's batches of
// that issuance (GET /organisations/{id}/credit_batches?issuance_id=…&status=…, 50 a page, one
// listing per status, the listings of every holder met in parallel) and puts every record in
// the store, where the walk finds it as if fetched by id. Where the registry refuses a holder's
// list (it lists only the caller's own organisation, say), the retirements and deliveries that
// the holder's batches name are listed instead (GET /retirements/{id}/credit_batches,
// /deliveries/{id}/credit_batches), when the lister offers them (EventBatchLister): they hold
// other organisations' batches too. It only ever adds records to the store: what the walk
// shows is what it would show without it, sooner. Safe for concurrent use by many walks; walks
// that need the same listing at the same time share it.
type Planner struct {
	lister BatchLister
	events EventBatchLister // nil: the lister offers no retirement or delivery lists
	store  BatchStore
	cfg    PlannerConfig

	mu      sync.Mutex
	refused map[string]time.Time // by route and id (or "*": all): until when the list is not asked
	inRow   map[string]int       // by route: ids refused since it last served a page
	live    map[listKey]*listing // listings under way, each shared by the walks that need it

	// orgServed is set once an organisation's list has served a page: until then a walk does
	// not wait for those lists (see miss).
	orgServed atomic.Bool

	listed, pages, refusals atomic.Int64
}

// NewPlanner returns a Planner listing from lister into store.
func NewPlanner(lister BatchLister, store BatchStore, cfg PlannerConfig) *Planner {
	cfg.RefusalTTL = cmp.Or(max(cfg.RefusalTTL, 0), 10*time.Minute)
	cfg.MaxPages = cmp.Or(max(cfg.MaxPages, 0), DefaultMaxNodes/registry.MaxPageSize)
	cfg.MinMisses = cmp.Or(max(cfg.MinMisses, 0), 16)
	cfg.RouteRefusals = cmp.Or(max(cfg.RouteRefusals, 0), 3)
	events, _ := lister.(EventBatchLister)
	return &Planner{lister: lister, events: events, store: store, cfg: cfg, refused: map[string]time.Time{}, inRow: map[string]int{},
		live: map[listKey]*listing{}}
}

// PlannerStats are a Planner's counters since it was made.
type PlannerStats struct {
	Listed   int64 // batches learnt from list pages and stored (a batch listed twice counts twice)
	Pages    int64 // list pages received
	Refusals int64 // lists the registry refused (403, 404, 422), each remembered RefusalTTL
}

// Stats returns the planner's counters.
func (p *Planner) Stats() PlannerStats {
	return PlannerStats{Listed: p.listed.Load(), Pages: p.pages.Load(), Refusals: p.refusals.Load()}
}

// isRefused reports whether the list of route for id (an organisation, retirement or
// delivery), or the whole route, was refused within RefusalTTL.
func (p *Planner) isRefused(route, id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusedLocked(route+" *") || p.refusedLocked(route+" "+id)
}

func (p *Planner) refusedLocked(key string) bool {
	until, ok := p.refused[key]
	if ok && time.Now().After(until) {
		delete(p.refused, key)
		return false
	}
	return ok
}

// refuse remembers a refused list; the RouteRefusals-th id refused in a row refuses the route.
func (p *Planner) refuse(route, id string) {
	p.refusals.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.refusedLocked(route + " " + id) { // the other statuses of one organisation count once
		p.inRow[route]++
	}
	if len(p.refused) >= maxRefusalsKept {
		// Refusals of ids no walk asks about again are never looked up, so never expired on
		// lookup: drop the expired ones now and then, so that the map stays bounded.
		now := time.Now()
		for k, until := range p.refused {
			if now.After(until) {
				delete(p.refused, k)
			}
		}
	}
	until := time.Now().Add(p.cfg.RefusalTTL)
	p.refused[route+" "+id] = until
	if p.inRow[route] >= p.cfg.RouteRefusals {
		p.refused[route+" *"] = until
	}
}

// maxRefusalsKept is how many refusals are remembered before the expired ones are dropped.
const maxRefusalsKept = 4096

// served notes that route served a page.
func (p *Planner) served(route string) {
	if route == orgRoute {
		p.orgServed.Store(true)
	}
	p.mu.Lock()
	p.inRow[route] = 0
	p.mu.Unlock()
}

// refusal reports whether err is the registry declining to list for this caller (an
// organisation other than its own, say) rather than failing to answer.
func refusal(err error) bool {
	var ae *registry.APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
			return true
		}
	}
	return errors.Is(err, registry.ErrInvalid) || errors.Is(err, registry.ErrNotFound)
}

// holding is an organisation's batches of one issuance: what one listing covers.
type holding struct{ org, issuance string }

// listKey names one listing: a holding's batches of one status (orgRoute), or a retirement's
// or a delivery's batches.
type listKey struct {
	route    string
	id       string          // the organisation, retirement or delivery listed
	issuance string          // orgRoute only: the tree's issuance
	status   registry.Status // orgRoute only
}

// orgKey is the listing of h's batches of status st.
func orgKey(h holding, st registry.Status) listKey {
	return listKey{route: orgRoute, id: h.org, issuance: h.issuance, status: st}
}

// listing is the listing of one holding's batches of one status, for the walks subscribed.
type listing struct {
	route  string          // orgRoute, retirementRoute or deliveryRoute
	status registry.Status // orgRoute: the status listed
	pages  atomic.Int64    // pages stored so far
	done   chan struct{}   // closed when the listing has ended
	cancel context.CancelFunc
	subs   map[*plan]bool // the walks waiting on it (under Planner.mu); none left cancels it
}

// join subscribes pl to the listing of k under way, or starts it.
func (p *Planner) join(pl *plan, k listKey) *listing {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.live[k]; l != nil {
		l.subs[pl] = true
		return l
	}
	// Not tied to the walk that started it: it goes on while any walk subscribed needs it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(pl.ctx))
	l := &listing{route: k.route, status: k.status, done: make(chan struct{}), cancel: cancel, subs: map[*plan]bool{pl: true}}
	p.live[k] = l
	go p.list(ctx, l, k)
	return l
}

// leave unsubscribes pl from its listings, cancelling those no walk needs any more.
func (p *Planner) leave(pl *plan, ls []*listing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range ls {
		delete(l.subs, pl)
		if len(l.subs) == 0 {
			l.cancel()
		}
	}
}

// notify signals every walk subscribed to l; ended also retires it (its key may be listed
// anew by the next walk that needs it).
func (p *Planner) notify(l *listing, k listKey, ended bool) {
	p.mu.Lock()
	if ended && p.live[k] == l {
		delete(p.live, k)
	}
	subs := make([]*plan, 0, len(l.subs))
	for s := range l.subs {
		subs = append(subs, s)
	}
	p.mu.Unlock()
	for _, s := range subs {
		s.signal()
	}
}

// mark is a listing and how many pages it had stored when the walk missed a batch.
type mark struct {
	l    *listing
	seen int64
}

// passed reports whether every listing marked has ended or stored a page since: a batch the
// walk missed then, and still misses, is then fetched by id. Waiting for one page and no more
// bounds what a listing can cost a walk (a holder of far more batches than the tree, listed to
// the end, would hold it up for every page), while a listing that keeps ahead of the walk, as
// it does down a chain of splits, brings nearly every batch before the walk asks for it.
func passed(ms []mark) bool {
	for _, m := range ms {
		if !m.l.ended() && m.l.pages.Load() <= m.seen {
			return false
		}
	}
	return true
}

func (l *listing) ended() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// plan is one walk's use of a Planner: the holdings it has met, and the listings under way.
type plan struct {
	p        *Planner
	ctx      context.Context
	onChange func() // called after every page stored and every listing ended, without plan.mu

	mu      sync.Mutex
	met     map[holding]bool // every holding met; true once listed (or refused)
	waiting []holding        // met, not listed yet: listed at the walk's next cache miss
	named   map[listKey]bool // every retirement and delivery list met
	// events are the retirement and delivery lists met and not listed yet, by the holding of
	// the batch that named them (the zero holding: a holder or issuance that is not a valid
	// id). They are listed only where the holder's own list is refused: it holds the same
	// batches otherwise (see eventsLocked).
	events  map[holding][]listKey
	running []*listing
	joined  []*listing             // every listing joined, to leave when the walk ends
	misses  int                    // batches missed in the store so far
	by      map[holding][]*listing // the listings (one per status) of each holding listed
	changed chan struct{}          // closed and replaced whenever onChange is called
}

func (p *Planner) begin(ctx context.Context, onChange func()) *plan {
	return &plan{p: p, ctx: ctx, onChange: onChange, met: map[holding]bool{}, named: map[listKey]bool{}, events: map[holding][]listKey{},
		by: map[holding][]*listing{}, changed: make(chan struct{})}
}

// learn notes the holder and issuance of a batch the walk has, and the retirement and the
// delivery it names. Nothing is listed yet: a walk that finds everything in the cache (a warm
// walk) asks the registry nothing.
func (pl *plan) learn(b *registry.CreditBatch) {
	if b == nil {
		return
	}
	var h holding
	if registry.ValidateID(registry.PrefixOrganisation, b.Owner.ID) == nil && registry.ValidateID(registry.PrefixIssuance, b.IssuanceID) == nil {
		h = holding{b.Owner.ID, b.IssuanceID}
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if _, ok := pl.met[h]; !ok && h != (holding{}) {
		pl.met[h] = false
		pl.waiting = append(pl.waiting, h)
	}
	if pl.p.events == nil {
		return
	}
	for _, k := range []listKey{{route: retirementRoute, id: b.RetirementID}, {route: deliveryRoute, id: b.DeliveryID}} {
		prefix := registry.PrefixRetirement
		if k.route == deliveryRoute {
			prefix = registry.PrefixDelivery
		}
		if pl.named[k] || registry.ValidateID(prefix, k.id) != nil {
			continue
		}
		pl.named[k] = true
		pl.events[h] = append(pl.events[h], k)
	}
}

// has reports whether the batch is in the store.
func (pl *plan) has(id string) bool {
	_, ok := pl.p.store.Peek(id)
	return ok
}

// miss is called when the walk needs a batch that is not in the store: it starts listing every
// holding met and not listed yet, and returns the listings under way that may bring it, marked
// (see passed): those of from's holding (the batch that links to it: a child of a split is
// mostly its parent's holder's), or when from is nil (the climb: a parent may be another
// holder's) every organisation's listing of split batches, as a parent is one (waiting for
// the others too would hold each step of the climb until some fifty listings, sharing
// UPSTREAM_CONCURRENCY, had each brought a page). A retirement's or a delivery's list is
// never waited for: the climb would pay its round trip at every step, and it holds few of the
// batches a walk misses (the retired leaves, the batches delivered), which it brings when it
// can.
func (pl *plan) miss(from *registry.CreditBatch) []mark {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.misses++; pl.misses < pl.p.cfg.MinMisses {
		return nil
	}
	for _, h := range pl.waiting {
		pl.met[h] = true
		if pl.p.isRefused(orgRoute, h.org) {
			continue
		}
		for _, st := range listStatuses {
			l := pl.p.join(pl, orgKey(h, st))
			pl.running = append(pl.running, l)
			pl.joined = append(pl.joined, l)
			pl.by[h] = append(pl.by[h], l)
		}
	}
	pl.waiting = nil
	pl.eventsLocked()
	keep := pl.running[:0]
	for _, l := range pl.running {
		if !l.ended() {
			keep = append(keep, l)
		}
	}
	clear(pl.running[len(keep):])
	pl.running = keep
	if !pl.p.orgServed.Load() {
		// Until an organisation's list has served a page, the registry may refuse them all:
		// the walk fetches by id meanwhile rather than wait a round trip to find out.
		return nil
	}
	among := pl.running
	if from != nil {
		among = pl.by[holding{from.Owner.ID, from.IssuanceID}]
	}
	var under []mark
	for _, l := range among {
		if !l.ended() && l.route == orgRoute && (from != nil || l.status == registry.StatusSplit) {
			under = append(under, mark{l, l.pages.Load()})
		}
	}
	return under
}

// eventsLocked starts the retirement and delivery lists met whose holder's own list the
// registry refused, drops those whose holder's list was served (it brought the same
// batches), and keeps the others until their holder's list has answered.
//
// It runs at every miss, under the walk's lock: its cost is one check per holding with lists
// pending, not one per list.
func (pl *plan) eventsLocked() {
	for h, keys := range pl.events {
		if h != (holding{}) && !pl.p.isRefused(orgRoute, h.org) {
			if ls, listed := pl.by[h]; listed && allEnded(ls) {
				delete(pl.events, h)
			}
			continue // else the holder's list has not answered yet
		}
		delete(pl.events, h)
		for _, k := range keys {
			if !pl.p.isRefused(k.route, k.id) {
				l := pl.p.join(pl, k)
				pl.running = append(pl.running, l)
				pl.joined = append(pl.joined, l)
			}
		}
	}
}

func allEnded(ls []*listing) bool {
	for _, l := range ls {
		if !l.ended() {
			return false
		}
	}
	return true
}

// signal wakes whoever waits on the plan's listings.
func (pl *plan) signal() {
	pl.mu.Lock()
	close(pl.changed)
	pl.changed = make(chan struct{})
	pl.mu.Unlock()
	pl.onChange()
}

// list runs one listing, storing each record. Any failure ends the listing quietly: the
// walks fetch by id what it did not bring. A refusal is remembered so that the next walks do
// not ask again.
func (p *Planner) list(ctx context.Context, l *listing, k listKey) {
	defer func() {
		l.cancel()
		close(l.done)
		p.notify(l, k, true)
	}()
	if k.route != orgRoute {
		p.listEvent(ctx, l, k)
		return
	}
	f := registry.OrganisationBatchFilter{IssuanceID: k.issuance, Statuses: []registry.Status{k.status}}
	var loop registry.PageLoop
	after := ""
	for range p.cfg.MaxPages {
		if ctx.Err() != nil || p.isRefused(k.route, k.id) {
			return
		}
		page, err := p.lister.OrganisationCreditBatches(ctx, k.id, f, registry.MaxPageSize, after)
		if err != nil {
			p.failed(ctx, k, err)
			return
		}
		ids := p.stored(k.route, page.Nodes)
		l.pages.Add(1)
		p.notify(l, k, false)
		next, done, _ := loop.Next(orgRoute, ids, page.PageInfo)
		if done {
			return
		}
		after = next
	}
}

// listEvent lists a retirement's or a delivery's batches: one list, no pages.
func (p *Planner) listEvent(ctx context.Context, l *listing, k listKey) {
	if ctx.Err() != nil || p.isRefused(k.route, k.id) {
		return
	}
	get := p.events.RetirementCreditBatches
	if k.route == deliveryRoute {
		get = p.events.DeliveryCreditBatches
	}
	list, err := get(ctx, k.id)
	if err != nil {
		p.failed(ctx, k, err)
		return
	}
	p.stored(k.route, list.Nodes)
	l.pages.Add(1)
	p.notify(l, k, false)
}

// failed remembers a list the registry refused (not one cut short by the walks leaving it).
func (p *Planner) failed(ctx context.Context, k listKey, err error) {
	if refusal(err) && ctx.Err() == nil {
		p.refuse(k.route, k.id)
	}
}

// stored puts a page's records in the store, validated as the by-id route's answer is, and
// returns their ids (for the pagination's loop check).
func (p *Planner) stored(route string, nodes []registry.CreditBatch) []string {
	p.pages.Add(1)
	p.served(route)
	ids := make([]string, len(nodes))
	for i := range nodes {
		b := &nodes[i]
		ids[i] = b.ID
		// A record the by-id route would not return either (not an object, no valid id) is
		// left for the walk to fetch, and fail, by id.
		if b.NotAnObject() || registry.ValidateID(registry.PrefixCreditBatch, b.ID) != nil {
			continue
		}
		p.store.Put(b)
		p.listed.Add(1)
	}
	return ids
}

// end leaves the plan's listings: those no other walk needs stop.
func (pl *plan) end() {
	pl.mu.Lock()
	joined := pl.joined
	pl.joined = nil
	pl.mu.Unlock()
	pl.p.leave(pl, joined)
}

// await waits until the batch is in the store or the listings marked have passed (or the
// walk's context has ended).
func (pl *plan) await(id string, under []mark) {
	for {
		pl.mu.Lock()
		ch := pl.changed
		pl.mu.Unlock()
		if pl.has(id) || passed(under) {
			return
		}
		select {
		case <-ch:
		case <-pl.ctx.Done():
			return
		}
	}
}
