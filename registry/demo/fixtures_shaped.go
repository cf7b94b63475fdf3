package demo

// The demo's trees of a particular shape, made for what they show: a deep chain, a tree all of
// whose batches are final, hostile names, sizes past 2^53 kg, and the planted inconsistencies
// the audit must find.

import (
	"time"
)

// deepChain: a root delivered whole to Northwind, then peeled by hundreds of small retirements,
// each split retiring a small left half while the right remainder carries on.
func (g *gen) deepChain(i int16, t int64) {
	d := g.d
	peels := make([]int64, deepChainSplits)
	total := int64(25_000)
	for k := range peels {
		peels[k] = 50 + g.rng.Int64N(951)
		total += peels[k]
	}
	root := g.newRoot(i, false, total, true)
	t += 2 * day
	g.deliver(root, g.northwind, t)
	cur := root
	for _, kg := range peels {
		t += g.between(8*time.Hour, 30*time.Hour)
		l, r := g.split(cur, kg)
		g.retire(l, t, 0.9)
		cur = r
	}
	d.fixtures.DeepChainRoot, d.fixtures.DeepChainLeaf, d.fixtures.DeepChainDepth = d.ids[root], d.ids[cur], deepChainSplits
}

// allFinal: 7 splits and 8 retired leaves, so nothing in the tree can ever change.
func (g *gen) allFinal(i int16, t int64) {
	root := g.newRoot(i, false, 16_000+g.rng.Int64N(4_000), true)
	t += 3 * day
	g.deliver(root, g.buyers[1], t)
	var rec func(b int32, depth int, t int64)
	rec = func(b int32, depth int, t int64) {
		if depth == 3 {
			g.retire(b, t, 0.5)
			return
		}
		t += g.between(6*time.Hour, 5*24*time.Hour)
		l, r := g.split(b, g.portion(g.d.batches[b].kg))
		if depth == 0 {
			g.d.batches[l].owner = g.buyers[2]
		}
		rec(l, depth+1, t)
		rec(r, depth+1, t)
	}
	rec(root, 0, t)
	g.d.fixtures.AllFinalRoot = g.d.ids[root]
}

// hostile: a buyer whose name is markup holds an active batch after retiring part of it for a
// beneficiary whose name is markup, with notes that are markup too.
func (g *gen) hostile(i int16, t int64) {
	d := g.d
	root := g.newRoot(i, false, 20_000, true)
	t += 4 * day
	l1, r1 := g.split(root, 8_000)
	g.deliver(l1, g.hostileOrg, t)
	t += 3 * day
	h1, h2 := g.split(l1, 3_000)
	ri := g.addRetirement(retirement{owner: g.hostileOrg, beneficiary: g.markupBeneficiary, retiredAt: t + hour,
		purposes: []string{"public_environmental_claims"}, notes: str(`Offsetting <b>all</b> of "2025" & more <script>alert("notes")</script>`)})
	d.batches[h1].status, d.batches[h1].retirement = statusRetired, ri
	t += 5 * day
	l2, _ := g.split(r1, 5_000)
	g.deliver(l2, g.buyers[3], t)
	g.retire(l2, t+day, 0.5)
	d.fixtures.HostileOrgBatch, d.fixtures.HostileRetirement = d.ids[h2], d.retirements[ri].id
}

func (g *gen) bigKg() {
	d := g.d
	root := g.newRoot(bigKgIssuance, false, bigKgLeft+bigKgRight, true)
	l, _ := g.split(root, bigKgLeft)
	g.deliver(l, g.buyers[4], d.issuances[bigKgIssuance].issuedAt+10*day)
	d.fixtures.BigKgRoot = d.ids[root]
}

// planted builds the deliberately inconsistent trees, each small and on its own, so that every
// one shows its own problem and the least of any other (where a problem implies another, the
// description says so). It is long because it is a list of small trees, one paragraph each.
func (g *gen) planted(i int16, t int64) {
	d := g.d
	f := &d.fixtures
	f.planted = map[string]string{}
	buyer := g.buyers[5]
	t += 5 * day
	root := func(kg int64) int32 {
		r := g.newRoot(i, false, kg, true)
		d.trees[d.batches[r].tree].planted = true
		return r
	}
	// tail adds an ordinary split and retirement below b, so that the planted problem is not
	// the only thing in its tree.
	tail := func(b int32) {
		l, _ := g.split(b, g.portion(d.batches[b].kg))
		g.retire(l, t+day, 0.5)
	}

	{ // DanglingChild
		r := root(10_000)
		a := g.child(r, 6_000, d.batches[r].first)
		g.deliver(a, buyer, t)
		d.phantoms = append(d.phantoms, g.newID("ctb"))
		g.link(r, ref(a), phantomRef(len(d.phantoms)-1))
		tail(a)
		f.DanglingChild = d.ids[r]
		f.planted[f.DanglingChild] = "dangling child: split batch " + d.ids[r] + " has right_child_id " +
			d.phantoms[len(d.phantoms)-1] + ", which answers 404 (its left child " + d.ids[a] + " is sound)"
	}
	{ // WrongParent
		r := root(10_000)
		a, b := g.split(r, 4_000)
		g.deliver(a, buyer, t)
		d.batches[b].parent = ref(a)
		tail(b)
		f.WrongParent = d.ids[r]
		f.planted[f.WrongParent] = "wrong parent: " + d.ids[r] + " lists " + d.ids[b] + " as its right child, but " +
			d.ids[b] + " has parent_id " + d.ids[a] + " (its sibling, an existing active batch)"
	}
	{ // SizeMismatch
		r := root(10_000)
		first := d.batches[r].first
		a := g.child(r, 6_000, first)
		b := g.child(r, 3_000, first+6_000)
		g.link(r, ref(a), ref(b))
		g.deliver(a, buyer, t)
		tail(a)
		f.SizeMismatch = d.ids[r]
		f.planted[f.SizeMismatch] = "size mismatch: split batch " + d.ids[r] + " is 10,000 kg but its children " +
			d.ids[a] + " (6,000 kg) and " + d.ids[b] + " (3,000 kg) sum to 9,000 kg; their ranges, each sound, leave the last 1,000 units of the parent's range uncovered"
	}
	{ // Cycle
		r := root(12_000)
		a, x := g.split(r, 5_000)
		g.deliver(a, buyer, t)
		_, z := g.split(x, 3_000)
		w := g.child(z, d.batches[z].kg, d.batches[z].first)
		g.link(z, ref(x), ref(w))
		f.Cycle = d.ids[r]
		f.planted[f.Cycle] = "cycle: " + d.ids[z] + " (two levels below the root " + d.ids[r] + ") has left_child_id " +
			d.ids[x] + ", its own parent, so walking down loops " + d.ids[x] + " → " + d.ids[z] + " → " + d.ids[x] +
			"; that link also disagrees with " + d.ids[x] + "'s parent_id and with " + d.ids[z] + "'s size"
	}
	{ // ParentCycle: two batches whose parent_ids point at each other; no root at all.
		p := g.newRoot(i, false, 5_000, false)
		d.trees[d.batches[p].tree].planted = true
		q, _ := g.split(p, 2_000)
		d.batches[p].parent = ref(q)
		f.ParentCycle = d.ids[q]
		f.planted[f.ParentCycle] = "parent cycle: " + d.ids[q] + " has parent_id " + d.ids[p] + " and " + d.ids[p] +
			" has parent_id " + d.ids[q] + ", so climbing never reaches a root (" + d.ids[p] + " is listed by no issuance)"
	}
	{ // RepeatedChild
		r := root(10_000)
		a, b := g.split(r, 6_000)
		g.deliver(a, buyer, t)
		_, c := g.split(a, 4_000)
		b1 := g.child(b, d.batches[b].kg-d.batches[c].kg, d.batches[b].first)
		g.link(b, ref(b1), ref(c))
		f.RepeatedChild = d.ids[r]
		f.planted[f.RepeatedChild] = "repeated child: " + d.ids[a] + " and " + d.ids[b] + " (both children of " + d.ids[r] +
			") list " + d.ids[c] + " as their right child; " + d.ids[c] + "'s parent_id is " + d.ids[a] +
			", so under " + d.ids[b] + " it is also a wrong parent and its range lies outside " + d.ids[b] + "'s"
	}
	{ // OneChildSplit
		r := root(10_000)
		a := g.child(r, d.batches[r].kg, d.batches[r].first)
		g.link(r, ref(a), noRef)
		g.deliver(a, buyer, t)
		tail(a)
		f.OneChildSplit = d.ids[r]
		f.planted[f.OneChildSplit] = "one-child split: " + d.ids[r] + " has status split and left_child_id " + d.ids[a] +
			" (which holds its whole size and range) but right_child_id null"
	}
	{ // RangeGap
		r := root(10_000)
		d.projects[d.issuances[i].project].nextSerial += 1_000 // keep the overhang off the next root's range
		first := d.batches[r].first
		a := g.child(r, 6_000, first)
		b := g.child(r, 4_000, first+6_500)
		g.link(r, ref(a), ref(b))
		g.deliver(a, buyer, t)
		tail(b)
		f.RangeGap = d.ids[r]
		f.planted[f.RangeGap] = "range gap: children of " + d.ids[r] + " sum to its 10,000 kg, but " + d.ids[b] +
			"'s range starts 500 units after " + d.ids[a] + "'s ends, leaving units 6,000–6,499 of the parent uncovered and ending 500 past the parent's last"
	}
	{ // MixedIssuance
		r := root(10_000)
		a, b := g.split(r, 5_000)
		g.deliver(a, buyer, t)
		_, b2 := g.split(b, 2_000)
		other := int16(1)
		for d.issuances[other].project == d.issuances[i].project {
			other++
		}
		d.batches[b2].issuance = other
		f.MixedIssuance = d.ids[r]
		f.planted[f.MixedIssuance] = "mixed issuance: " + d.ids[b2] + " (a grandchild of " + d.ids[r] + ") has issuance_id " +
			d.issuances[other].id + " and project_id " + d.projects[d.issuances[other].project].id +
			", unlike the rest of its tree (issuance " + d.issuances[i].id + "); its supplier_id, serial number and sizes are consistent"
	}
	{ // BadStatus
		r := root(10_000)
		a, b := g.split(r, 3_000)
		d.batches[a].owner = buyer
		d.batches[a].status = statusRetired // without a retirement: no retirement_id, retired_at or beneficiary
		b1, b2 := g.split(b, 1_000)
		d.batches[b].status = statusActive
		f.BadStatus = d.ids[r]
		f.planted[f.BadStatus] = "bad status: " + d.ids[a] + " is retired without retirement_id, retired_at or beneficiary, and " +
			d.ids[b] + " is active yet has children " + d.ids[b1] + " and " + d.ids[b2]
	}
	f.PlantedIssuance = d.issuances[i].id
}
