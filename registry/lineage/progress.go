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
	// Saturating: kg near the int64 bound must not wrap the sum negative.
	for {
		old := p.leafKg.Load()
		sum := old + b.Size.CreditKgs
		if sum < old {
			sum = math.MaxInt64
		}
		if p.leafKg.CompareAndSwap(old, sum) {
			return
		}
	}
}

// Fetched is the number of batches obtained so far (from cache or upstream).
func (p *Progress) Fetched() int64 { return p.fetched.Load() }

// Discovered is the number of batch ids known so far (fetched or still to fetch).
func (p *Progress) Discovered() int64 { return p.discovered.Load() }

// Done reports whether the walk has finished (successfully or not).
func (p *Progress) Done() bool { return p.done.Load() }
