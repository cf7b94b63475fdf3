package demo

// What happens to the demo's batches after issuance: deliveries, transfers and retirements
// that split them, as in a real registry's history.

import (
	"slices"
	"time"
)

func (g *gen) deliver(b int32, buyer int16, t int64) {
	d := g.d
	iss := int(d.batches[b].issuance)
	key := [2]int{int(buyer), iss}
	dl, ok := g.deliveryOf[key]
	if !ok || g.rng.Float64() < 0.4 {
		d.deliveries = append(d.deliveries, g.newID("dlv"))
		dl = int32(len(d.deliveries) - 1)
		g.deliveryOf[key] = dl
	}
	B := &d.batches[b]
	B.owner, B.deliveredAt, B.delivery = buyer, t, dl
}

func (g *gen) retire(b int32, t int64, reuse float64) {
	B := &g.d.batches[b]
	B.status, B.retirement = statusRetired, g.pickRetirement(B.owner, t, reuse)
}

// pickRetirement reuses one of the owner's retirements dated within 45 days after t (so one
// retirement takes batches from several trees and issuances), or opens a new one.
func (g *gen) pickRetirement(owner int16, t int64, reuse float64) int32 {
	d := g.d
	var cands []int32
	for _, ri := range g.retirementsOf[owner] {
		if at := d.retirements[ri].retiredAt; at >= t && at <= t+45*day {
			cands = append(cands, ri)
		}
	}
	if len(cands) > 0 && g.rng.Float64() < reuse {
		return cands[g.rng.IntN(len(cands))]
	}
	at := t + g.between(time.Hour, 7*24*time.Hour)
	if at > datasetNow {
		at = max(datasetNow-g.between(time.Minute, time.Hour), t)
	}
	r := retirement{owner: owner, beneficiary: owner, retiredAt: at}
	switch {
	case owner == g.bufferOrg:
		r.purposes = []string{"other"}
		r.notes = str("Buffer pool cancellation compensating a reported reversal")
	default:
		switch x := g.rng.Float64(); {
		case x < 0.35:
			r.beneficiary = g.beneficiaries[g.rng.IntN(len(g.beneficiaries))]
		case x < 0.45:
			r.beneficiary = g.otherBuyer(owner)
		}
		p := g.rng.Perm(len(purposes))
		r.purposes = []string{purposes[p[0]]}
		if g.rng.IntN(3) == 0 {
			r.purposes = append(r.purposes, purposes[p[1]])
		}
		if g.rng.IntN(5) < 3 {
			r.notes = &retirementNotes[g.rng.IntN(len(retirementNotes))]
		}
	}
	return g.addRetirement(r)
}

func (g *gen) addRetirement(r retirement) int32 {
	d := g.d
	r.id = g.newID("ret")
	d.retirements = append(d.retirements, r)
	ri := int32(len(d.retirements) - 1)
	d.retIndex[r.id] = ri
	g.retirementsOf[r.owner] = append(g.retirementsOf[r.owner], ri)
	return ri
}

// randomHistory plays a few deliveries, retirements and transfers on a supplier root, the way
// real batches get split: each operation takes part (or all) of one active batch.
func (g *gen) randomHistory(root int32, t int64) {
	d := g.d
	n := 0
	switch x := g.rng.IntN(10); {
	case x < 2:
		return
	case x < 6:
		n = 1 + g.rng.IntN(2)
	default:
		n = 3 + g.rng.IntN(4)
	}
	supplierOrg := g.supplierOrg(root)
	active := []int32{root}
	for k := 0; k < n && len(active) > 0; k++ {
		t += g.between(6*time.Hour, 20*24*time.Hour)
		if t > datasetNow-day {
			return
		}
		ai := g.rng.IntN(len(active))
		b := active[ai]
		kg, owner := d.batches[b].kg, d.batches[b].owner
		if owner == supplierOrg {
			buyer := g.buyers[g.rng.IntN(len(g.buyers))]
			if kg < 2 || g.rng.IntN(4) == 0 {
				g.deliver(b, buyer, t)
				continue
			}
			l, r := g.split(b, g.portion(kg))
			g.deliver(l, buyer, t)
			active[ai] = l
			active = append(active, r)
			continue
		}
		switch x := g.rng.Float64(); {
		case x < 0.45 && kg >= 2:
			l, r := g.split(b, g.portion(kg))
			g.retire(l, t, 0.75)
			active[ai] = r
		case x < 0.7:
			g.retire(b, t, 0.75)
			active = slices.Delete(active, ai, ai+1)
		case kg >= 2:
			l, r := g.split(b, g.portion(kg))
			d.batches[l].owner = g.otherBuyer(owner)
			active[ai] = l
			active = append(active, r)
		default:
			d.batches[b].owner = g.otherBuyer(owner)
		}
	}
}

// bufferHistory: buffer-pool credits mostly stay put; a few are cancelled to cover reversals.
func (g *gen) bufferHistory(root int32, t int64) {
	if g.rng.IntN(7) != 0 {
		return
	}
	t += g.between(30*24*time.Hour, 200*24*time.Hour)
	if t > datasetNow-day {
		return
	}
	l, _ := g.split(root, g.portion(g.d.batches[root].kg))
	g.retire(l, t, 0.5)
}

// grow shapes the subtree of b into exactly nodes batches (nodes odd), splitting the node count
// and the size in the same proportion so that leaves keep realistic sizes: the supplier
// delivers to many buyers, who pass parts on to others and retire them.
func (g *gen) grow(b int32, nodes int, lo, hi float64, t int64, maxStep time.Duration) {
	d := g.d
	if nodes <= 1 {
		if d.batches[b].status == statusActive && d.batches[b].owner != g.supplierOrg(b) && g.rng.IntN(10) < 3 {
			g.retire(b, t+g.between(time.Hour, maxStep), 0.8)
		}
		return
	}
	rest := nodes - 1
	ln := int(float64(rest) * (lo + (hi-lo)*g.rng.Float64()))
	if ln%2 == 0 {
		ln++
	}
	ln = min(max(ln, 1), rest-1)
	rn := rest - ln
	kg := d.batches[b].kg
	leftKg := kg/int64(rest)*int64(ln) + (kg%int64(rest))*int64(ln)/int64(rest)
	leftKg = min(max(leftKg, int64(ln)), kg-int64(rn))
	t += g.between(time.Hour, maxStep)
	owner := d.batches[b].owner
	l, r := g.split(b, leftKg)
	switch {
	case owner == g.supplierOrg(b):
		g.deliver(l, g.buyers[g.rng.IntN(len(g.buyers))], t)
	case ln == 1 && g.rng.IntN(2) == 0:
		g.retire(l, t, 0.8)
	default:
		d.batches[l].owner = g.otherBuyer(owner)
	}
	g.grow(l, ln, lo, hi, t, maxStep)
	g.grow(r, rn, lo, hi, t, maxStep)
}

func (g *gen) otherBuyer(not int16) int16 {
	for {
		if b := g.buyers[g.rng.IntN(len(g.buyers))]; b != not {
			return b
		}
	}
}

func (g *gen) supplierOrg(b int32) int16 {
	d := g.d
	return d.suppliers[d.projects[d.trees[d.batches[b].tree].project].supplier].org
}

// portion picks a left size of 10–90% of kg (kg ≥ 2), never 0 nor all of it.
func (g *gen) portion(kg int64) int64 {
	pct := 10 + g.rng.Int64N(81)
	return min(max(kg/100*pct+(kg%100)*pct/100, 1), kg-1)
}
