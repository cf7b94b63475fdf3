package lineage_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// requests is every upstream request the rig has sent so far.
func (r *serialRig) requests() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, c := range r.byRoute {
		n += c
	}
	return n
}

func TestIssuanceReportAccountsForEveryRoot(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	id := r.reg.Fixtures().Issuance
	rep, err := r.ex.IssuanceReport(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	icb, err := r.src.IssuanceCreditBatches(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs []string
	for _, b := range icb.SupplierCreditBatches {
		wantIDs = append(wantIDs, b.ID)
	}
	nSupplier := len(wantIDs)
	for _, b := range icb.BufferPoolCreditBatches {
		wantIDs = append(wantIDs, b.ID)
	}
	var gotIDs []string
	for i, root := range rep.Roots {
		gotIDs = append(gotIDs, root.ID)
		wantPool := lineage.PoolSupplier
		if i >= nSupplier {
			wantPool = lineage.PoolBufferPool
		}
		if root.Pool != wantPool {
			t.Errorf("root %s in pool %q, want %q", root.ID, root.Pool, wantPool)
		}
		if ok, known := root.Conserved(); !ok || !known {
			t.Errorf("root %s: tree does not account for its kg (active %d + retired %d), known %v", root.ID, root.ActiveKg, root.RetiredKg, known)
		}
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Fatalf("roots %v, want the registry's %v", gotIDs, wantIDs)
	}
	if rep.RootsKg != rep.Issuance.CreditBatchSizeTotal.CreditKgs {
		t.Errorf("roots hold %d kg, the issuance says %d", rep.RootsKg, rep.Issuance.CreditBatchSizeTotal.CreditKgs)
	}

	// An independent sum: walk every root with a bare walker and add up Tree.Totals.
	w := lineage.NewWalker(r.src, lineage.WalkerConfig{})
	var active, retired int64
	batches := 0
	for _, rid := range wantIDs {
		tr, err := w.Lineage(context.Background(), rid, nil)
		if err != nil {
			t.Fatal(err)
		}
		tot := tr.Totals()
		active, retired, batches = active+tot.ActiveKg, retired+tot.RetiredKg, batches+tot.Batches
	}
	if rep.ActiveKg != active || rep.RetiredKg != retired || rep.Batches != batches {
		t.Errorf("report: active %d retired %d in %d batches; walks: %d, %d in %d", rep.ActiveKg, rep.RetiredKg, rep.Batches, active, retired, batches)
	}
	if rep.ActiveKg == 0 || rep.RetiredKg == 0 {
		t.Errorf("the fixture should have both active and retired credits: %d, %d", rep.ActiveKg, rep.RetiredKg)
	}
	var hActive, hRetired, bRetired int64
	for _, h := range rep.ByHolder {
		hActive, hRetired = hActive+h.ActiveKg, hRetired+h.RetiredKg
		if len(h.Trees) == 0 {
			t.Errorf("holder %s links to no tree", h.Holder.ID)
		}
		for _, tr := range h.Trees {
			if !slices.Contains(wantIDs, tr) {
				t.Errorf("holder %s links to %s, not a root of the issuance", h.Holder.ID, tr)
			}
		}
	}
	for _, b := range rep.ByBeneficiary {
		bRetired += b.RetiredKg
		if len(b.Retirements) == 0 {
			t.Errorf("beneficiary %+v names no retirement", b.Beneficiary)
		}
	}
	if hActive != rep.ActiveKg || hRetired != rep.RetiredKg || bRetired != rep.RetiredKg {
		t.Errorf("rows sum to active %d retired %d (by beneficiary %d), totals %d %d", hActive, hRetired, bRetired, rep.ActiveKg, rep.RetiredKg)
	}
	if !slices.IsSortedFunc(rep.ByHolder, func(a, b lineage.HolderKg) int {
		return int((b.ActiveKg + b.RetiredKg) - (a.ActiveKg + a.RetiredKg))
	}) {
		t.Error("holders are not largest first")
	}

	// Warm: the report again (a new job once the first is dropped) needs no upstream call.
	before := r.requests()
	j := r.ex.StartIssuanceReport(id, true)
	<-j.Done()
	if _, err := j.Result(); err != nil {
		t.Fatal(err)
	}
	if n := r.requests() - before; n != 0 {
		t.Errorf("a warm issuance report sent %d upstream requests", n)
	}
}

func TestRetirementReportFollowsEveryBatchToItsRoot(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	id := r.reg.Fixtures().Retirement
	rep, err := r.ex.RetirementReport(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.BatchesKg != rep.Retirement.CreditBatchSizeTotal.CreditKgs {
		t.Errorf("batches hold %d kg, the retirement says %d", rep.BatchesKg, rep.Retirement.CreditBatchSizeTotal.CreditKgs)
	}
	if len(rep.Issuances) < 2 {
		t.Errorf("the fixture retires from several issuances; the report names %v", rep.Issuances)
	}
	if len(rep.Batches) == 0 || rep.Problems != 0 {
		t.Fatalf("%d batches, %d problems", len(rep.Batches), rep.Problems)
	}
	roots := map[string][]string{} // issuance → its roots, from the registry
	for _, rb := range rep.Batches {
		if rb.Batch.RetirementID != id || rb.Batch.Status != registry.StatusRetired {
			t.Errorf("%s: retirement %q status %q", rb.Batch.ID, rb.Batch.RetirementID, rb.Batch.Status)
		}
		if !rb.Complete || rb.Path[len(rb.Path)-1].ID != rb.Batch.ID {
			t.Fatalf("%s: path incomplete or not ending at the batch: %+v", rb.Batch.ID, rb.Path)
		}
		// Each step is the registry's parent of the next, and the first is a root its issuance lists.
		for k := 1; k < len(rb.Path); k++ {
			b, ok := r.reg.Batch(rb.Path[k].ID)
			if !ok || b.ParentID != rb.Path[k-1].ID {
				t.Fatalf("%s: step %d %s has parent %q, the path says %s", rb.Batch.ID, k, rb.Path[k].ID, b.ParentID, rb.Path[k-1].ID)
			}
			parent, _ := r.reg.Batch(rb.Path[k-1].ID)
			want := lineage.LinkLeft
			if parent.RightChildID == rb.Path[k].ID {
				want = lineage.LinkRight
			}
			if rb.Path[k].Link != want {
				t.Errorf("%s: step %d link %q, want %q", rb.Batch.ID, k, rb.Path[k].Link, want)
			}
		}
		iss := rb.Batch.IssuanceID
		if _, ok := roots[iss]; !ok {
			icb, err := r.src.IssuanceCreditBatches(context.Background(), iss)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range append(icb.SupplierCreditBatches, icb.BufferPoolCreditBatches...) {
				roots[iss] = append(roots[iss], b.ID)
			}
		}
		if !slices.Contains(roots[iss], rb.Path[0].ID) {
			t.Errorf("%s: path starts at %s, not a root of issuance %s", rb.Batch.ID, rb.Path[0].ID, iss)
		}
	}

	before := r.requests()
	j := r.ex.StartRetirementReport(id, true)
	<-j.Done()
	if _, err := j.Result(); err != nil {
		t.Fatal(err)
	}
	if n := r.requests() - before; n != 0 {
		t.Errorf("a warm retirement report sent %d upstream requests", n)
	}
}

func TestReportsOfUnknownAndMalformedIDs(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	ctx := context.Background()
	if _, err := r.ex.IssuanceReport(ctx, "iss_bad"); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("malformed issuance: %v", err)
	}
	if _, err := r.ex.RetirementReport(ctx, "ctb_1DRBTYA8Q1S07CBY"); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("a batch id as a retirement: %v", err)
	}
	if n := r.requests(); n != 0 {
		t.Errorf("malformed ids sent %d requests", n)
	}
	if _, err := r.ex.IssuanceReport(ctx, registry.ExampleID(registry.PrefixIssuance)); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("unknown issuance: %v", err)
	}
	if _, err := r.ex.RetirementReport(ctx, registry.ExampleID(registry.PrefixRetirement)); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("unknown retirement: %v", err)
	}
}
