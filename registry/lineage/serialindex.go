package lineage

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
)

// The registry API has no serial number lookup, only ids. The SerialIndex makes one from two
// things that cost little:
//
//   - every batch the app fetches or learns from a list route is indexed by its exact serial
//     number (the Cache's OnStore hook), so a serial seen once resolves with no upstream call;
//   - a background pass pages through GET /issuances and each new issuance's root batches
//     (GET /issuances/{id}/credit_batches), and indexes the roots by project short code and
//     vintage → sorted unit ranges. Roots never change their serial, so a refresh only lists
//     the issuances again and fetches the roots of the new ones.
//
// A serial that is not indexed exactly selects the root whose range contains it; from there the
// lookup descends by range (a child's range lies inside its parent's in the registry's data),
// fetching only the children along the path through the Cache. Where ranges do not nest (bad
// or unusual data) it walks that root's tree instead and takes the smallest batch containing
// the serial.

// SerialIndexConfig configures the serial number index. Zero values take the defaults given.
type SerialIndexConfig struct {
	// Interval is how often the background indexer (SerialIndex.Start) lists the issuances again
	// to index the root batches of new ones. Default 5m.
	Interval time.Duration
	// Workers is the most upstream requests the indexer has in flight at once. They count
	// against the client's own bound (UPSTREAM_CONCURRENCY), so keep it well below it: page
	// requests get the rest. Default 2.
	Workers int
	// MaxSerials bounds the exact serial → batch id entries (about 100 bytes each); past it a
	// quarter of them are dropped (such serials then resolve by range again). Default 1,000,000.
	MaxSerials int
	// PassTimeout bounds one indexing pass. Default 30m.
	PassTimeout time.Duration
	// Logger is told, once, when the registry's listing of issuances stops ending (the index
	// is degraded) and when it ends again. Default: slog.Default().
	Logger *slog.Logger
}

// Resolution is where a serial number leads.
type Resolution struct {
	// Serial is the serial number asked for, parsed (its String is the canonical form).
	Serial registry.Serial `json:"serial"`
	// BatchID is the credit batch ("ctb_…") whose serial_number is Serial (Exact), or else the
	// smallest batch whose range contains Serial's.
	BatchID string `json:"batch_id"`
	// BatchSerial is that batch's serial_number in canonical form: Serial itself when Exact.
	BatchSerial registry.Serial `json:"batch_serial"`
	// Exact is true when the batch's serial_number is the one asked for, whatever the batch's
	// status (active, retired, split). When several batches of one tree carry the same serial (a
	// split whose one child holds the whole range), the highest one (the original) is chosen.
	Exact bool `json:"exact"`
	// Walked is true when the batch was found by walking a tree whose children's ranges do not
	// lie inside their parents', rather than by descending by range.
	Walked bool `json:"walked"`
	// IndexedAsOf is when the last complete pass over the issuances started: every issuance
	// listed by then has its roots indexed. Zero before the first pass completes.
	IndexedAsOf time.Time `json:"indexed_as_of"`
}

// SerialNotFoundError is returned when no batch has a serial number or contains its range.
// errors.Is(err, ErrNotFound) holds. IndexedAsOf says how fresh the index of issuances was (zero
// when no pass had completed): an issuance made since is not known yet.
type SerialNotFoundError struct {
	Serial      registry.Serial
	IndexedAsOf time.Time
	// Overlapping are the root batches whose ranges overlap the serial's without one holding
	// it whole: a range across adjacent roots lies in their trees together, no one batch has it.
	Overlapping []string
}

// Error names the serial (canonical form) and how fresh the index was.
func (e *SerialNotFoundError) Error() string {
	fresh := "no pass over the registry's issuances has completed yet"
	if !e.IndexedAsOf.IsZero() {
		fresh = "issuances indexed as of " + e.IndexedAsOf.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return fmt.Sprintf("%v: no credit batch has serial number %s or contains its units (%s)", registry.ErrNotFound, e.Serial, fresh)
}

// Unwrap returns ErrNotFound.
func (e *SerialNotFoundError) Unwrap() error { return registry.ErrNotFound }

// SerialIndexStatus describes the index, for a status page and metrics.
type SerialIndexStatus struct {
	IndexedAsOf  time.Time     // start of the last complete pass; zero before the first
	LastPassEnd  time.Time     // when the last pass ended, complete or not; zero before any
	LastPassTook time.Duration // how long it took
	LastError    string        // why the last pass was incomplete; "" when it completed
	Running      bool          // a pass is under way
	Passes       int64         // complete passes since the process started
	Issuances    int           // issuances whose root batches are indexed
	Roots        int           // root batches indexed by range
	Serials      int           // batches indexed by exact serial number
	Unparsable   int64         // serial numbers from the registry that did not parse (not indexed)

	// Degraded says why the index cannot be complete, "" when it can: the registry's listing
	// of issuances never ended in the last pass (ErrIncomplete), so issuances past the point
	// where it looped are not indexed. It stays so until a pass lists every page.
	Degraded string
}

// SerialIndex resolves serial numbers to credit batches (see Explorer.ResolveSerial). It is
// safe for concurrent use. Its lock guards only in-memory maps: it is never held during an
// upstream call.
type SerialIndex struct {
	client Source
	cache  *cache.Cache
	walker *Walker
	cfg    SerialIndexConfig
	sf     singleflight.Group // one pass at a time, shared by the indexer loop and lookups

	mu        sync.Mutex
	groups    map[serialBlock]uint32 // interned registry…vintage parts of the serials seen
	exact     map[exactKey]string    // serial → batch id; "" when two unrelated batches share it
	roots     map[rootKey][]rootEntry
	issuances map[string]struct{} // issuances whose roots are indexed
	changed   chan struct{}       // closed and replaced whenever roots are added or a pass ends
	running   bool
	asOf      time.Time
	lastEnd   time.Time
	lastTook  time.Duration
	lastErr   error
	degraded  error // the last pass's listing of issuances never ended (ErrIncomplete); nil if it did
	passes    int64
	life      context.Context // passes run under it: cancelled when Start's stop is called

	unparsable atomic.Int64
}

// serialBlock is everything in a serial number but its range.
type serialBlock struct {
	registry, pathway, country, project string
	version, vintage                    int
}

type exactKey struct {
	block       uint32
	first, last int64
}

type rootKey struct {
	project string
	vintage int
}

type rootEntry struct {
	first, last int64
	block       uint32
	id          string
}

func newSerialIndex(client Source, cfg SerialIndexConfig) *SerialIndex {
	cfg.Interval = cmp.Or(max(cfg.Interval, 0), 5*time.Minute)
	cfg.Workers = cmp.Or(max(cfg.Workers, 0), 2)
	cfg.MaxSerials = cmp.Or(max(cfg.MaxSerials, 0), 1_000_000)
	cfg.PassTimeout = cmp.Or(max(cfg.PassTimeout, 0), 30*time.Minute)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &SerialIndex{client: client, cfg: cfg, groups: map[serialBlock]uint32{}, exact: map[exactKey]string{},
		roots: map[rootKey][]rootEntry{}, issuances: map[string]struct{}{}, changed: make(chan struct{}),
		life: context.Background()}
}

// onStore returns the Cache's OnStore hook: the index learns every batch stored, then next
// (another hook, or nil) is called.
func (x *SerialIndex) onStore(next func(*registry.CreditBatch)) func(*registry.CreditBatch) {
	return func(b *registry.CreditBatch) {
		x.observe(b)
		if next != nil {
			next(b)
		}
	}
}

// attach gives the index the cache and walker it reads through; called once, before use.
func (x *SerialIndex) attach(cache *cache.Cache, walker *Walker) { x.cache, x.walker = cache, walker }

// observe indexes one batch by its exact serial number.
func (x *SerialIndex) observe(b *registry.CreditBatch) {
	s, err := registry.ParseSerial(b.SerialNumber)
	if err != nil {
		x.unparsable.Add(1)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	k := exactKey{block: x.blockLocked(s), first: s.First, last: s.Last}
	old, ok := x.exact[k]
	switch {
	case !ok:
		if len(x.exact) >= x.cfg.MaxSerials {
			x.shrinkLocked()
		}
		x.exact[k] = b.ID
	case old == b.ID || old == "":
	case b.ParentID == old:
		// A child holding its parent's whole range: the parent is the serial's original batch.
	default:
		if p, ok := x.cache.Peek(old); ok && p.ParentID == b.ID {
			x.exact[k] = b.ID
		} else {
			x.exact[k] = "" // unrelated batches share it: resolve by range, which picks the highest
		}
	}
}

// shrinkLocked drops a quarter of the exact entries (in map order, which is arbitrary): they
// are a shortcut, and what is dropped resolves by range again.
func (x *SerialIndex) shrinkLocked() {
	n := len(x.exact) / 4
	for k := range x.exact {
		if n <= 0 {
			break
		}
		delete(x.exact, k)
		n--
	}
}

func (x *SerialIndex) blockLocked(s registry.Serial) uint32 {
	b := serialBlock{s.Registry, s.Pathway, s.Country, s.Project, s.Version, s.Vintage}
	if g, ok := x.groups[b]; ok {
		return g
	}
	g := uint32(len(x.groups))
	x.groups[b] = g
	return g
}

// lookupBlock returns the interned block of s, without interning a new one.
func (x *SerialIndex) lookupBlockLocked(s registry.Serial) (uint32, bool) {
	g, ok := x.groups[serialBlock{s.Registry, s.Pathway, s.Country, s.Project, s.Version, s.Vintage}]
	return g, ok
}

// addRootLocked indexes a root batch by range, keeping the entries sorted by (first, last, id).
func (x *SerialIndex) addRootLocked(id string, s registry.Serial) {
	k := rootKey{s.Project, s.Vintage}
	e := rootEntry{first: s.First, last: s.Last, block: x.blockLocked(s), id: id}
	list := x.roots[k]
	i, found := slices.BinarySearchFunc(list, e, compareRoots)
	if found {
		return
	}
	x.roots[k] = slices.Insert(list, i, e)
}

func compareRoots(a, b rootEntry) int {
	return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last), cmp.Compare(a.id, b.id))
}

// rootsForLocked returns the ids of the roots whose range contains s, smallest first, and of
// those that only overlap it.
func (x *SerialIndex) rootsForLocked(s registry.Serial) (containing, overlapping []string) {
	g, ok := x.lookupBlockLocked(s)
	if !ok {
		return nil, nil
	}
	list := x.roots[rootKey{s.Project, s.Vintage}]
	// Entries are sorted by first: none from the first one starting at or after s.Last overlaps.
	// Before it, roots can overlap one another in bad data, so the rest is scanned: a block has
	// hundreds to thousands of roots, a few microseconds.
	end, _ := slices.BinarySearchFunc(list, s.Last, func(e rootEntry, last int64) int { return cmp.Compare(e.first, last) })
	var cont []rootEntry
	for _, e := range list[:end] {
		switch {
		case e.block != g || e.last <= s.First:
		case e.first <= s.First && s.Last <= e.last:
			cont = append(cont, e)
		default:
			overlapping = append(overlapping, e.id)
		}
	}
	slices.SortStableFunc(cont, func(a, b rootEntry) int { return cmp.Compare(a.last-a.first, b.last-b.first) })
	for _, e := range cont {
		containing = append(containing, e.id)
	}
	return containing, overlapping
}

// broadcastLocked wakes the lookups waiting for the index to change.
func (x *SerialIndex) broadcastLocked() {
	close(x.changed)
	x.changed = make(chan struct{})
}

// Status returns the index's state and counters (a snapshot; it sends nothing upstream).
func (x *SerialIndex) Status() SerialIndexStatus {
	x.mu.Lock()
	defer x.mu.Unlock()
	st := SerialIndexStatus{IndexedAsOf: x.asOf, LastPassEnd: x.lastEnd, LastPassTook: x.lastTook, Running: x.running,
		Passes: x.passes, Issuances: len(x.issuances), Serials: len(x.exact), Unparsable: x.unparsable.Load()}
	if x.lastErr != nil {
		st.LastError = x.lastErr.Error()
	}
	if x.degraded != nil {
		st.Degraded = x.degraded.Error()
	}
	for _, l := range x.roots {
		st.Roots += len(l)
	}
	return st
}
