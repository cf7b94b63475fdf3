package lineage

import (
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/lineage-explorer/explorer/registry"
)

// Progress lets another goroutine watch a walk under way (for a page that shows it). The zero
// value is ready to use; its methods are safe for concurrent use.
type Progress struct {
	fetched    atomic.Int64
	discovered atomic.Int64
	done       atomic.Bool
	// leafKg sums the kg of the fetched batches that were split no further (active, retired):
	// in a tree that adds up, they partition the root, so leafKg reaches rootKg as the walk
	// ends, and it only grows.
	leafKg atomic.Int64
	// rootKg is the kg of the topmost batch the climb reached, 0 until it got there: the
	// denominator, set once.
	rootKg atomic.Int64
	// activeKg, retiredKg and otherKg sum the same leaves by status (a status the explorer
	// does not know in otherKg), for the provisional totals a page shows while the walk runs.
	activeKg, retiredKg, otherKg atomic.Int64
	// walk is the walk under way, for Snapshot; nil until the batch itself has been fetched.
	walk atomic.Pointer[walk]
}

// Permille is how far the walk is, in thousandths of the root's kg: the kg of the batches
// whose subtree is complete (every leaf fetched, split no further) over the root's kg. It is
// 0 until the climb has reached the root, never decreases, stays below 1000 while the walk
// runs (a tree whose leaves hold more than its root would otherwise say done early) and is
// 1000 exactly once it has ended. Missing batches count only at the end, as their size is
// not known.
func (p *Progress) Permille() int64 {
	if p.done.Load() {
		return 1000
	}
	root := p.rootKg.Load()
	if root <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(p.leafKg.Load()), 1000)
	if hi >= uint64(root) {
		return 999 // the quotient would not fit: far past the root
	}
	q, _ := bits.Div64(hi, lo, uint64(root))
	return int64(min(q, 999))
}

// addLeaf counts a fetched batch that was split no further (no child links).
func (p *Progress) addLeaf(b *registry.CreditBatch) {
	if b == nil || b.LeftChildID != "" || b.RightChildID != "" || b.Size.CreditKgs <= 0 {
		return
	}
	addKg(&p.leafKg, b.Size.CreditKgs)
	switch b.Status {
	case registry.StatusActive:
		addKg(&p.activeKg, b.Size.CreditKgs)
	case registry.StatusRetired:
		addKg(&p.retiredKg, b.Size.CreditKgs)
	case registry.StatusSplit:
		// A split batch that links no halves: in no total, as in Tree.Totals.
	default:
		addKg(&p.otherKg, b.Size.CreditKgs)
	}
}

// addKg adds kg (> 0) to sum, saturating: kg near the int64 bound must not wrap the sum
// negative.
func addKg(sum *atomic.Int64, kg int64) {
	for {
		old := sum.Load()
		s := old + kg
		if s < old {
			s = math.MaxInt64
		}
		if sum.CompareAndSwap(old, s) {
			return
		}
	}
}

// SoFar is what the fetched batches that were split no further add up to while the walk
// runs, in kg by status, and the root's kg once the climb has reached it (0 before): figures
// to show as provisional, since batches still to fetch are in none of them. A status the
// explorer does not know is in OtherKg, never in ActiveKg.
func (p *Progress) SoFar() (activeKg, retiredKg, otherKg, rootKg int64) {
	return p.activeKg.Load(), p.retiredKg.Load(), p.otherKg.Load(), p.rootKg.Load()
}

// Fetched is the number of batches obtained so far (from cache or upstream).
func (p *Progress) Fetched() int64 { return p.fetched.Load() }

// Discovered is the number of batch ids known so far (fetched or still to fetch).
func (p *Progress) Discovered() int64 { return p.discovered.Load() }

// Done reports whether the walk has finished (successfully or not).
func (p *Progress) Done() bool { return p.done.Load() }
