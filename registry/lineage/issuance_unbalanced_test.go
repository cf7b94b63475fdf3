package lineage_test

import (
	"context"
	"testing"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// The planted issuance's trees that do not add up happen to cancel out (with the dangling
// child's missing kg) in the totals: the report must count them one by one, from the same
// per-tree check the roots' rows show, and count none on a clean issuance.
func TestIssuanceReportCountsTreesThatDoNotAddUp(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	fx := r.reg.Fixtures()
	for _, tc := range []struct {
		id   string
		want []string // the roots whose complete tree does not hold their kg, or their units
	}{
		// The range gap's kg add up, but 500 of its root's units are held by no child.
		{fx.PlantedIssuance, []string{fx.SizeMismatch, fx.RepeatedChild, fx.BadStatus, fx.RangeGap}},
		{fx.Issuance, nil},
	} {
		rep, err := r.ex.IssuanceReport(context.Background(), tc.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, root := range rep.Roots {
			if ok, known := root.Conserved(); known && !ok {
				got = append(got, root.ID)
			}
		}
		if len(got) != len(tc.want) || rep.UnbalancedTrees != len(tc.want) {
			t.Errorf("%s: UnbalancedTrees %d, trees not adding up %v, want %v", tc.id, rep.UnbalancedTrees, got, tc.want)
		}
		for _, id := range tc.want {
			found := false
			for _, g := range got {
				found = found || g == id
			}
			if !found {
				t.Errorf("%s: %s is not counted as not adding up (%v)", tc.id, id, got)
			}
		}
	}
}
