package demo

// A demo registry that changes while it runs, so that the explorer's history (the journal,
// ?since= and ?as_of= on its pages) has something to show within minutes of `go run .`. The
// changes are the registry's own operations on active batches, played the way the generator
// plays a batch's past (history.go): a split whose left half is delivered, transferred or
// retired; a whole batch transferred; a whole batch retired. Every change keeps the dataset
// consistent: halves add up to their parent and share their range boundary, links go both
// ways, a retirement has its record and its total, the holders' lists follow their batches.

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// Kinds of Change.
const (
	ChangeSplit    = "split"    // a batch split in two; its left half delivered, transferred or retired
	ChangeTransfer = "transfer" // a whole batch changed hands
	ChangeRetire   = "retire"   // a whole batch retired, in a retirement of its own
)

// changesPerStep is how many batches one Step changes.
const changesPerStep = 3

// Change is one operation Step played, for tests and logs.
type Change struct {
	Kind  string // ChangeSplit, ChangeTransfer or ChangeRetire
	Batch string // the batch operated on (for a split, the parent)
	Root  string // the root batch of its tree
	// Left and Right are a split's new halves; Left is the one delivered, transferred or
	// retired ("" otherwise).
	Left, Right string
	// LeftKind says what became of a split's left half: ChangeTransfer or ChangeRetire.
	LeftKind string
	// Kg is the size moved, in kg: a split's left half, or the whole batch.
	Kg int64
}

// changer is the state of the changes: its own random stream (seeded by SetChangeSeed), so
// that a seed replays the same changes, and a counter for the ids it makes.
type changer struct {
	rng   *rand.Rand
	seed  uint64
	steps int
	ids   uint64
}

// SetChangeSeed seeds the draws of Step: two registries with the same seed, stepped the same
// number of times, change the same batches the same way. Call it before the first Step (a
// registry never seeded draws from seed 0).
func (r *Registry) SetChangeSeed(seed uint64) {
	r.dmu.Lock()
	defer r.dmu.Unlock()
	r.changes = changer{rng: rand.New(rand.NewPCG(seed, seed^0x3c6ef372fe94f82b)), seed: seed}
}

// Steps is how many times Step has run.
func (r *Registry) Steps() int {
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	return r.changes.steps
}

// Step changes a few active batches of the fixture issuance's supplier trees (Fixtures.Issuance)
// at now (the registry's retired_at and delivered_at of what it does), and returns what it did.
// Answers under way finish on the dataset as it was; later ones see the change whole.
func (r *Registry) Step(now time.Time) []Change {
	r.dmu.Lock()
	defer r.dmu.Unlock()
	c := &r.changes
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(0, 0x3c6ef372fe94f82b))
	}
	c.steps++
	t := now.UnixMicro()
	var out []Change
	for range changesPerStep {
		active := r.d.changeable()
		if len(active) == 0 {
			break
		}
		out = append(out, r.change(active[c.rng.IntN(len(active))], t))
	}
	if n := len(r.d.batches); n > len(r.fetches) {
		// The counters are atomics, which cannot be copied as values: carry the counts over.
		grown := make([]atomic.Int64, n)
		for i := range r.fetches {
			grown[i].Store(r.fetches[i].Load())
		}
		r.fetches = grown
	}
	return out
}

// RunChanges calls Step every interval, with the wall clock, until ctx ends; logf (optional)
// hears of each change. It is the DEMO_CHANGE_EVERY switch of the explorer.
func (r *Registry) RunChanges(ctx context.Context, every time.Duration, logf func(Change)) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, ch := range r.Step(now) {
				if logf != nil {
					logf(ch)
				}
			}
		}
	}
}

// changeable is the active batches of the fixture issuance's supplier trees, in a fixed order
// (each tree depth first from its root, trees in the issuance's order), so that a seed always
// draws the same ones.
func (d *dataset) changeable() []int32 {
	iss := d.issIndex[d.fixtures.Issuance]
	var out []int32
	var walk func(b int32)
	walk = func(b int32) {
		B := &d.batches[b]
		if B.status == statusActive {
			out = append(out, b)
		}
		for _, c := range []ref{B.left, B.right} {
			if c >= 0 {
				walk(int32(c))
			}
		}
	}
	for _, root := range d.issuances[iss].supplierRoots {
		walk(root)
	}
	return out
}

// change plays one operation on the active batch b at t (Unix µs).
func (r *Registry) change(b int32, t int64) Change {
	d, rng := r.d, r.changes.rng
	B := &d.batches[b]
	ch := Change{Batch: d.ids[b], Root: d.ids[d.trees[B.tree].root], Kg: B.kg}
	supplierOrg := d.suppliers[d.treeProject(B).supplier].org
	x := rng.Float64()
	switch {
	case B.kg >= 2 && (B.owner == supplierOrg || x < 0.6):
		left := 1 + rng.Int64N(B.kg-1) // never 0 nor all of it
		l, rr := r.splitBatch(b, left)
		ch.Kind, ch.Left, ch.Right, ch.Kg = ChangeSplit, d.ids[l], d.ids[rr], left
		if d.batches[l].owner == supplierOrg || rng.IntN(2) == 0 {
			ch.LeftKind = ChangeTransfer
			r.transfer(l, r.otherBuyer(d.batches[l].owner), t, d.batches[l].owner == supplierOrg)
		} else {
			ch.LeftKind = ChangeRetire
			r.retireBatch(l, t)
		}
	case B.owner == supplierOrg || x < 0.8:
		ch.Kind = ChangeTransfer
		r.transfer(b, r.otherBuyer(B.owner), t, B.owner == supplierOrg)
	default:
		ch.Kind = ChangeRetire
		r.retireBatch(b, t)
	}
	return ch
}

func (r *Registry) otherBuyer(not int16) int16 {
	d := r.d
	for {
		if b := d.buyers[r.changes.rng.IntN(len(d.buyers))]; b != not {
			return b
		}
	}
}

// newChangeID is an id of the kind prefix that no object of the dataset has: drawn from a
// counter far above the generator's, and checked.
func (r *Registry) newChangeID(prefix string, taken func(string) bool) string {
	for {
		r.changes.ids++
		id := idFor(prefix, 1<<40+r.changes.seed<<20+r.changes.ids)
		if !taken(id) {
			return id
		}
	}
}

// splitBatch is the registry's split of p: the left half takes the first leftKg units of the
// range and the right half the rest, both active, held as p was; p becomes split.
func (r *Registry) splitBatch(p int32, leftKg int64) (l, rr int32) {
	d := r.d
	P := d.batches[p]
	add := func(kg, first int64) int32 {
		id := r.newChangeID("ctb", func(id string) bool { _, ok := d.index[id]; return ok })
		i := int32(len(d.batches))
		d.batches = append(d.batches, batch{kg: kg, first: first, deliveredAt: P.deliveredAt, parent: ref(p),
			left: noRef, right: noRef, tree: P.tree, delivery: P.delivery, retirement: -1, issuance: P.issuance,
			owner: P.owner, crd: splitmix(uint64(i)^0xc0ffee)%10 < 6})
		d.ids = append(d.ids, id)
		d.index[id] = i
		d.addOrgBatch(P.owner, i)
		return i
	}
	l = add(leftKg, P.first)
	rr = add(P.kg-leftKg, P.first+leftKg)
	B := &d.batches[p]
	B.status, B.left, B.right, B.crd = statusSplit, ref(l), ref(rr), false
	return l, rr
}

// transfer gives the active batch b to another holder; a supplier's batch is delivered (a new
// delivery, delivered_at t), a buyer's passes on with its delivery as it was.
func (r *Registry) transfer(b int32, to int16, t int64, delivery bool) {
	d := r.d
	B := &d.batches[b]
	d.orgBatches[B.owner] = slices.DeleteFunc(d.orgBatches[B.owner], func(i int32) bool { return i == b })
	B.owner = to
	if delivery {
		d.deliveries = append(d.deliveries, r.newChangeID("dlv", func(id string) bool { return slices.Contains(d.deliveries, id) }))
		B.delivery, B.deliveredAt = int32(len(d.deliveries)-1), t
	}
	d.addOrgBatch(to, b)
}

// retireBatch retires the active batch b whole, for its holder, in a retirement of its own
// dated t.
func (r *Registry) retireBatch(b int32, t int64) {
	d := r.d
	B := &d.batches[b]
	ret := retirement{owner: B.owner, beneficiary: B.owner, retiredAt: t, purposes: []string{"corporate_targets"}, kg: B.kg,
		id: r.newChangeID("ret", func(id string) bool { _, ok := d.retIndex[id]; return ok })}
	d.retirements = append(d.retirements, ret)
	ri := int32(len(d.retirements) - 1)
	d.retIndex[ret.id] = ri
	d.retBatches = append(d.retBatches, []int32{b})
	B.status, B.retirement = statusRetired, ri
	tr := &d.trees[B.tree]
	p := &d.projects[tr.project]
	p.retiredKg += B.kg
	if tr.buffer {
		p.retiredBufferKg += B.kg
	}
}

// addOrgBatch puts batch i in org's list, in the list's order (newest issued first).
func (d *dataset) addOrgBatch(org int16, i int32) {
	list := append(d.orgBatches[org], i)
	slices.SortFunc(list, func(a, b int32) int {
		return cmp.Or(cmp.Compare(d.issuedAt(b), d.issuedAt(a)), cmp.Compare(a, b))
	})
	d.orgBatches[org] = list
}
