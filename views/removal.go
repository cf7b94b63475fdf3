package views

import (
	"math/big"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// removalFigures is the carbon removal accounting a lineage page shows for t.Target, always as
// this batch's figures, and says whose they are. The registry attaches carbon_removal_data to
// some batches only (in the published records, net = that batch's credit_kgs): a batch that
// carries it shows it as recorded; one that does not, but shares its removal_id with a batch in
// the tree that does, shows that batch's figures scaled to its own kg (pro rata, rounded down
// to the kg), naming the batch they come from. nil when neither is there.
func removalFigures(t *lineage.Tree) *RemovalView {
	b := t.Target.Batch
	if b == nil {
		return nil
	}
	kg := b.Size.CreditKgs
	if d := b.CarbonRemovalData; d != nil {
		v := removalView(*d)
		v.Label = "as recorded on this batch"
		if d.NetCarbonRemovedKg == kg {
			v.Whose = "This batch's figures, as the registry records them on it: its net removal is its size, " + FormatKg(kg) + " kg."
		} else {
			v.Whose = "As the registry records them on this batch, but its net removal (" + FormatKg(d.NetCarbonRemovedKg) +
				" kg) is not its size (" + FormatKg(kg) + " kg): these may be the whole removal's figures rather than this batch's share."
		}
		return &v
	}
	if b.RemovalID == "" || kg <= 0 {
		return nil
	}
	src := removalSource(t, b.RemovalID)
	if src == nil {
		return nil
	}
	d, skg := *src.Batch.CarbonRemovalData, src.Batch.Size.CreditKgs
	scaled := registry.CarbonRemovalData{}
	for _, f := range []struct{ from, to *int64 }{
		{&d.GrossCarbonRemovedKg, &scaled.GrossCarbonRemovedKg}, {&d.NetCarbonRemovedKg, &scaled.NetCarbonRemovedKg},
		{&d.EmissionsKg, &scaled.EmissionsKg}, {&d.CounterfactualsKg, &scaled.CounterfactualsKg}, {&d.LossesKg, &scaled.LossesKg},
	} {
		v, ok := proRata(*f.from, kg, skg)
		if !ok {
			return nil // a figure this batch's share of does not fit in kg: shown nowhere rather than wrong
		}
		*f.to = v
	}
	v := removalView(scaled)
	v.Source = src.ID
	v.Label = "this batch's share, pro rata"
	v.Whose = "This batch's share, pro rata: the registry records these figures not on this batch but on " + src.ID +
		" (" + FormatKg(skg) + " kg) of the same removal, " + b.RemovalID + "; each is scaled by " + FormatKg(kg) + " / " +
		FormatKg(skg) + " kg and rounded down to the kg."
	return &v
}

func removalView(d registry.CarbonRemovalData) RemovalView {
	return RemovalView{Gross: FormatKg(d.GrossCarbonRemovedKg), Net: FormatKg(d.NetCarbonRemovedKg),
		Emissions: FormatKg(d.EmissionsKg), Counterfactuals: FormatKg(d.CounterfactualsKg), Losses: FormatKg(d.LossesKg)}
}

// proRata is x*num/den rounded toward zero, exactly (sizes can pass 2^53 kg), and whether it
// fits in an int64. den must be positive.
func proRata(x, num, den int64) (int64, bool) {
	if den <= 0 {
		return 0, false
	}
	r := new(big.Int).Mul(big.NewInt(x), big.NewInt(num))
	r.Quo(r, big.NewInt(den))
	return r.Int64(), r.IsInt64()
}

// removalSource is the batch of the tree whose recorded removal figures a batch of removal id
// without its own takes its share of: the nearest ancestor that carries them, else the first in
// the batch's own subtree, else the first in the tree (pre-order). Only batches of a positive
// size qualify.
func removalSource(t *lineage.Tree, id string) *lineage.Node {
	carries := func(n *lineage.Node) bool {
		return n.Batch != nil && n.Batch.RemovalID == id && n.Batch.CarbonRemovalData != nil && n.Batch.Size.CreditKgs > 0 &&
			t.Nodes[n.ID] == n
	}
	for a := t.Target.Parent; a != nil; a = a.Parent {
		if carries(a) {
			return a
		}
	}
	for _, top := range []*lineage.Node{t.Target, t.Root} {
		var found *lineage.Node
		sub := *t
		sub.Root = top
		sub.Each(func(n *lineage.Node) bool {
			if found == nil && carries(n) {
				found = n
			}
			return found == nil
		})
		if found != nil {
			return found
		}
	}
	return nil
}
