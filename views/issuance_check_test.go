package views

import (
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// testRoot is one root of a made-up issuance: its size, what its tree holds, and how many of
// its batches are missing.
type testRoot struct {
	pool        lineage.Pool
	size, holds int64
	missing     int
}

// testIssuanceReport sums roots as the registry's report does (IssuanceReport).
func testIssuanceReport(roots ...testRoot) *lineage.IssuanceReport {
	r := &lineage.IssuanceReport{Issuance: registry.Issuance{ID: "iss_1XXXXXXXXXXXXXXX"}}
	for i, tr := range roots {
		id := "ctb_1XXXXXXXXXXXXXX" + string(rune('A'+i))
		root := lineage.IssuanceRoot{ID: id, Pool: tr.pool, ActiveKg: tr.holds, Missing: tr.missing, Batches: 1,
			Batch: &registry.CreditBatch{ID: id, Status: registry.StatusActive, Size: registry.Quantity{CreditKgs: tr.size}}}
		r.Roots = append(r.Roots, root)
		r.RootsKg += tr.size
		r.ActiveKg += tr.holds
		r.Missing += tr.missing
		if ok, known := root.Conserved(); known && !ok {
			r.UnbalancedTrees++
		}
	}
	r.Issuance.CreditBatchSizeTotal.CreditKgs = r.RootsKg
	return r
}

// The issuance's check must not rest on the totals alone: trees that do not add up can
// cancel out (or hide behind a missing batch), and the line must then say so, name how many,
// and lead to the table that marks them.
func TestIssuanceCheckNamesTreesThatDoNotAddUp(t *testing.T) {
	sup, buf := lineage.PoolSupplier, lineage.PoolBufferPool
	for _, tc := range []struct {
		name   string
		roots  []testRoot
		state  string
		says   []string
		anchor string // the link to the trees that do not add up; "" for none
	}{
		{"differences cancel out", []testRoot{{pool: sup, size: 10_000, holds: 9_000}, {pool: buf, size: 10_000, holds: 11_000}, {pool: sup, size: 5_000, holds: 5_000}},
			"bad", []string{"Does not add up", "2 trees do not hold their roots’ kg", "totals match the roots’ 25,000 kg only because their differences cancel out"}, "#supplier-h"},
		{"a batch is missing too", []testRoot{{pool: sup, size: 10_000, holds: 9_000}, {pool: sup, size: 5_000, holds: 4_000, missing: 1}},
			"bad", []string{"1 tree does not hold its root’s kg", "1 batch is missing"}, "#supplier-h"},
		{"the totals are off too", []testRoot{{pool: sup, size: 10_000, holds: 10_000}, {pool: buf, size: 10_000, holds: 9_000}},
			"bad", []string{"1,000 kg less than the roots’ 20,000 kg", "1 tree does not hold its root’s kg"}, "#buffer-h"},
		{"missing only", []testRoot{{pool: sup, size: 10_000, holds: 4_000, missing: 2}},
			"unknown", []string{"Cannot be checked: 2 batches are missing"}, ""},
		{"clean", []testRoot{{pool: sup, size: 10_000, holds: 10_000}, {pool: buf, size: 1_000, holds: 1_000}},
			"ok", []string{"Adds up", "the roots’ 11,000 kg exactly"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testIssuanceReport(tc.roots...)
			doc := render(t, Issuance(NewIssuancePage(Base{Title: "Issuance"}, r)))
			check := doc.Find("[data-testid=check]")
			got := squash(check)
			if !check.HasClass(tc.state) {
				t.Errorf("check is %q, want %s: %s", check.AttrOr("class", ""), tc.state, got)
			}
			for _, want := range tc.says {
				if !strings.Contains(got, want) {
					t.Errorf("check %q does not say %q", got, want)
				}
			}
			link := check.Find("a[data-testid=unbalanced]")
			if tc.anchor == "" {
				if link.Length() != 0 {
					t.Errorf("a clean or unknown check links to trees that do not add up: %q", got)
				}
				return
			}
			if href := link.AttrOr("href", ""); href != tc.anchor || doc.Find(tc.anchor).Length() != 1 {
				t.Errorf("link to the trees %q, want %s (present: %d)", href, tc.anchor, doc.Find(tc.anchor).Length())
			}
			// The roots' tables mark as many trees as the line counts.
			if n := doc.Find("table.roots .check-mini.bad").Length(); n != r.UnbalancedTrees {
				t.Errorf("the tables mark %d trees that do not add up, the check counts %d", n, r.UnbalancedTrees)
			}
		})
	}
}
