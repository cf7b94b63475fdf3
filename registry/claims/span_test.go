package claims

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
)

// A claimed range across two adjacent root batches of an issuance lies in no one tree: it is
// judged on the batches of both trees that hold its units, not called not_found.
func TestClaimSpanningTwoRootBatches(t *testing.T) {
	reg := demo.New(demo.Options{})
	ex := newExplorer(t, demo.NewTestServer(t, reg))
	rep, err := ex.IssuanceReport(context.Background(), reg.Fixtures().Issuance)
	if err != nil {
		t.Fatal(err)
	}
	var left, right registry.Serial
	found := false
	for _, a := range rep.Roots {
		for _, b := range rep.Roots {
			if a.Batch == nil || b.Batch == nil {
				continue
			}
			sa, errA := registry.ParseSerial(a.Batch.SerialNumber)
			sb, errB := registry.ParseSerial(b.Batch.SerialNumber)
			if errA == nil && errB == nil && sa.SameBlock(sb) && sa.Last == sb.First && sa.Size() > 10 && sb.Size() > 10 {
				left, right, found = sa, sb, true
			}
		}
	}
	if !found {
		t.Fatal("the demo issuance has no two adjacent root batches")
	}
	claim := left
	claim.First, claim.Last = left.Last-10, right.First+10
	l, err := Parse(strings.NewReader(fmt.Sprintf("serial,kg\n%s,20\n", claim)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewChecker(ex, 4).Check(context.Background(), l, nil).Results[0]
	if r.Verdict == NotFound || r.FoundKg != 20 || r.CoverCount < 2 {
		t.Errorf("a range across two roots: verdict %s, %d kg found in %d batches; want 20 kg in 2 or more: %+v",
			r.Verdict, r.FoundKg, r.CoverCount, r.Findings)
	}
}
