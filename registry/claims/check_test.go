package claims

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// newExplorer is the explorer in front of the demo registry served over real HTTP.
func newExplorer(t *testing.T, base string) *lineage.Explorer {
	t.Helper()
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: base, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	return lineage.NewExplorer(c, lineage.ExplorerConfig{})
}

// world names the demo batches the cases claim, read from the dataset itself.
type world struct {
	reg *demo.Registry
	fx  demo.Fixtures
}

func (w world) batch(t *testing.T, id string) registry.CreditBatch {
	t.Helper()
	b, ok := w.reg.Batch(id)
	if !ok {
		t.Fatalf("demo has no batch %s", id)
	}
	return b
}

func (w world) serial(t *testing.T, id string) registry.Serial {
	t.Helper()
	s, err := registry.ParseSerial(w.batch(t, id).SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// kids are b's left and right children.
func (w world) kids(t *testing.T, id string) (registry.CreditBatch, registry.CreditBatch) {
	t.Helper()
	b := w.batch(t, id)
	return w.batch(t, b.LeftChildID), w.batch(t, b.RightChildID)
}

func with(s registry.Serial, first, last int64) string {
	s.First, s.Last = first, last
	return s.String()
}

func beneficiary(b registry.CreditBatch) string {
	if b.Beneficiary == nil {
		return ""
	}
	return b.Beneficiary.Name
}

func day1(b registry.CreditBatch) string { return b.RetiredAt.UTC().Format(time.DateOnly) }

// retiredUnder is the first retired batch under id (breadth first).
func retiredUnder(t *testing.T, w world, id string) registry.CreditBatch {
	t.Helper()
	queue := []registry.CreditBatch{w.batch(t, id)}
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		if b.Status == registry.StatusRetired {
			return b
		}
		queue = append(queue, w.reg.Children(b)...)
	}
	t.Fatalf("no retired batch under %s", id)
	return registry.CreditBatch{}
}

type rowWant struct {
	verdict Code
	also    []Code // other finding codes the row must have
	foundKg int64  // checked when not zero
	cover   int    // batches covering the claim, checked when not zero
}

func TestCheckVerdicts(t *testing.T) {
	reg := demo.New(demo.Options{})
	ex := newExplorer(t, demo.NewTestServer(t, reg))
	w := world{reg, reg.Fixtures()}
	ch := NewChecker(ex, 4)

	// AllFinal: root → A, B; A → AA, AB; … every leaf retired.
	root := w.batch(t, w.fx.AllFinalRoot)
	a, b := w.kids(t, root.ID)
	aa, ab := w.kids(t, a.ID)
	aaa, aab := w.kids(t, aa.ID)
	sA, sAA, sAAA, sAAB := w.serial(t, a.ID), w.serial(t, aa.ID), w.serial(t, aaa.ID), w.serial(t, aab.ID)
	_, abb := w.kids(t, ab.ID)
	sRoot, sABB := w.serial(t, root.ID), w.serial(t, abb.ID)
	leaf := aaa
	// Hostile: root → L1 (→ H1 retired, H2 active), R1.
	h2 := w.batch(t, w.fx.HostileOrgBatch)
	l1 := w.batch(t, h2.ParentID)
	sL1 := w.serial(t, l1.ID)
	big := w.batch(t, w.fx.BigKgRoot)
	if big.Size.CreditKgs <= 1<<53 {
		t.Fatalf("BigKgRoot holds %d kg, not past 2^53", big.Size.CreditKgs)
	}
	ret, err := ex.RetirementReport(context.Background(), w.fx.Retirement)
	if err != nil {
		t.Fatal(err)
	}
	retiredLeafInRet := ret.Batches[0].Batch

	cases := []struct {
		name string
		list string
		want []rowWant
	}{
		{"verified: a retired batch by serial, with kg, beneficiary and day",
			fmt.Sprintf("serial,kg,beneficiary,retired_at\n%s,%d,%s,%s\n", sAAA, leaf.Size.CreditKgs, "  "+strings.ToUpper(beneficiary(leaf))+" ", day1(leaf)),
			[]rowWant{{verdict: Verified, foundKg: leaf.Size.CreditKgs, cover: 1}}},
		{"verified: a range spanning two retired batches (their parent's serial)",
			fmt.Sprintf("serial\n%s\n", sAA), []rowWant{{verdict: Verified, foundKg: aa.Size.CreditKgs, cover: 2}}},
		{"verified: a split batch by id, covered by its four retired leaves",
			fmt.Sprintf("batch,kg\n%s,%d\n", a.ID, a.Size.CreditKgs), []rowWant{{verdict: Verified, foundKg: a.Size.CreditKgs, cover: 4}}},
		{"verified: a sub-tonne range inside one batch",
			fmt.Sprintf("serial,credits\n%s,0.1\n", with(sAAA, sAAA.First+1, sAAA.First+101)), []rowWant{{verdict: Verified, foundKg: 100, cover: 1}}},
		{"a range across a split boundary covers both halves",
			fmt.Sprintf("serial,kg\n%s,20\n", with(sA, sAAB.Last-10, sAAB.Last+10)), []rowWant{{verdict: Verified, foundKg: 20, cover: 2}}},
		{"a range starting on the boundary lies in the half that starts there",
			fmt.Sprintf("serial\n%s\n", with(sA, sAAB.First, sAAB.First+5)), []rowWant{{verdict: Verified, foundKg: 5, cover: 1}}},
		{"verified: a range over three batches of two subtrees is covered by 3",
			fmt.Sprintf("serial,kg\n%s,%d\n", with(sA, sAAB.Last-10, sABB.First+10), sABB.First+10-(sAAB.Last-10)),
			[]rowWant{{verdict: Verified, foundKg: sABB.First + 10 - (sAAB.Last - 10), cover: 3}}},
		{"not_found: a range running past the last unit of its tree",
			fmt.Sprintf("serial\n%s\n", with(sRoot, sRoot.Last-10, sRoot.Last+10)),
			[]rowWant{{verdict: NotFound}}},
		{"verified: a retirement by id with its beneficiary and day",
			fmt.Sprintf("retirement,beneficiary,date,kg\n%s,%s,%s,%d\n", ret.Retirement.ID, ret.Retirement.Beneficiary.Name, ret.Retirement.RetiredAt.UTC().Format(time.DateOnly), ret.Retirement.CreditBatchSizeTotal.CreditKgs),
			[]rowWant{{verdict: Verified, foundKg: ret.Retirement.CreditBatchSizeTotal.CreditKgs}}},
		{"malformed: a serial of seven parts, and a bad kg beside a good serial",
			"serial,kg\nISO-1-BSTORE-GBR-F5X7-2024-78177,\n" + sAAA.String() + ",12.5\n", []rowWant{{verdict: Malformed}, {verdict: Malformed}}},
		{"not_found: a block no issuance has, and an unknown batch id",
			"ISO-1-NOPE-GBR-ZZZ9-2024-1-100\nctb_ZZZZZZZZZZZZZZZZ\nret_ZZZZZZZZZZZZZZZZ\n", []rowWant{{verdict: NotFound}, {verdict: NotFound}, {verdict: NotFound}}},
		{"not_retired: an active batch", "batch\n" + h2.ID + "\n", []rowWant{{verdict: NotRetired, cover: 1}}},
		{"partly_retired: a range over a retired and an active batch", "serial\n" + sL1.String() + "\n",
			[]rowWant{{verdict: PartlyRetired, cover: 2, foundKg: l1.Size.CreditKgs}}},
		{"retired_for_other: claimed for someone else, markup and right-to-left names",
			fmt.Sprintf("serial\tbeneficiary\n%s\t<script>alert(1)</script>\n%s\tשלום\u202Eevil\n", sAAB, w.serial(t, ab.ID)),
			[]rowWant{{verdict: RetiredForOther}, {verdict: RetiredForOther}}},
		{"kg_mismatch: one kg short, and past 2^53 by one",
			fmt.Sprintf("id,kg\n%s,%d\n%s,%d\n", leaf.ID, leaf.Size.CreditKgs-1, big.ID, big.Size.CreditKgs-1),
			[]rowWant{{verdict: KgMismatch, foundKg: leaf.Size.CreditKgs}, {verdict: NotRetired, also: []Code{KgMismatch}, foundKg: big.Size.CreditKgs}}},
		{"date_mismatch: a day later", fmt.Sprintf("batch;retired_at\n%s;%s\n", leaf.ID, leaf.RetiredAt.AddDate(0, 0, 1).UTC().Format(time.DateOnly)),
			[]rowWant{{verdict: DateMismatch}}},
		{"double_claimed: overlapping ranges, a batch inside one, the same retirement twice",
			strings.Join([]string{with(sAAA, sAAA.First, sAAA.First+100), with(sAAA, sAAA.First+50, sAAA.First+150), aaa.ID,
				w.fx.Retirement, w.fx.Retirement, retiredLeafInRet.ID, b.ID}, "\n"),
			[]rowWant{{verdict: DoubleClaimed}, {verdict: DoubleClaimed}, {verdict: DoubleClaimed}, {verdict: DoubleClaimed}, {verdict: DoubleClaimed}, {verdict: DoubleClaimed}, {verdict: Verified}}},
		{"tree_problem: a retired batch of a tree whose sizes do not add up",
			"batch\n" + retiredUnder(t, w, w.fx.SizeMismatch).ID + "\n", []rowWant{{verdict: TreeProblem}}},
		{"tree_problem under another verdict: that tree's root", "batch\n" + w.fx.SizeMismatch + "\n",
			[]rowWant{{verdict: PartlyRetired, also: []Code{TreeProblem}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse(strings.NewReader(tc.list), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var done atomic.Int64
			rep := ch.Check(context.Background(), l, &done)
			if len(rep.Results) != len(tc.want) || done.Load() != int64(len(tc.want)) {
				t.Fatalf("%d results (%d counted), want %d", len(rep.Results), done.Load(), len(tc.want))
			}
			for i, want := range tc.want {
				r := rep.Results[i]
				if r.Claim.Row != i+1 {
					t.Errorf("row %d: result for row %d (input order lost)", i+1, r.Claim.Row)
				}
				if r.Verdict != want.verdict {
					t.Errorf("row %d: verdict %s, want %s; findings %+v", i+1, r.Verdict, want.verdict, r.Findings)
				}
				for _, c := range want.also {
					if !hasCode(r.Findings, c) {
						t.Errorf("row %d: no %s finding in %+v", i+1, c, r.Findings)
					}
				}
				if want.foundKg != 0 && r.FoundKg != want.foundKg {
					t.Errorf("row %d: found %d kg, want %d", i+1, r.FoundKg, want.foundKg)
				}
				if want.cover != 0 && r.CoverCount != want.cover {
					t.Errorf("row %d: covered by %d batches, want %d: %+v", i+1, r.CoverCount, want.cover, r.Batches)
				}
			}
		})
	}
}

func TestDoubleClaimNamesRowsAndUnits(t *testing.T) {
	s, _ := registry.ParseSerial("ISO-1-BSTORE-GBR-F5X7-2024-100-200")
	block := blockOf(s)
	rs := []Result{
		{Claim: Claim{Row: 1}, units: []unitsOf{{block, Units{100, 200}}}},
		{Claim: Claim{Row: 2}, units: []unitsOf{{block, Units{150, 250}}}},
		{Claim: Claim{Row: 3}, units: []unitsOf{{block, Units{200, 300}}}}, // touches row 1 at its end: shares nothing
		{Claim: Claim{Row: 4}, units: []unitsOf{{blockOf(registry.Serial{Registry: "ISO", Version: 1, Pathway: "DAC", Country: "GBR", Project: "F5X7", Vintage: 2024}), Units{100, 200}}}},
	}
	doubleClaims(rs)
	want := map[int][]Finding{
		0: {{Code: DoubleClaimed, Rows: []int{2}, Units: []Units{{150, 200}}}},
		1: {{Code: DoubleClaimed, Rows: []int{1}, Units: []Units{{150, 200}}}, {Code: DoubleClaimed, Rows: []int{3}, Units: []Units{{200, 250}}}},
		2: {{Code: DoubleClaimed, Rows: []int{2}, Units: []Units{{200, 250}}}},
	}
	for i, r := range rs {
		if len(r.Findings) != len(want[i]) {
			t.Fatalf("row %d: %+v, want %+v", i+1, r.Findings, want[i])
		}
		for j, f := range r.Findings {
			if !slices.Equal(f.Rows, want[i][j].Rows) || !slices.Equal(f.Units, want[i][j].Units) {
				t.Errorf("row %d finding %d: %+v, want %+v", i+1, j, f, want[i][j])
			}
		}
	}
	if !strings.Contains(rs[0].Findings[0].Text, "[150, 200)") || !strings.Contains(rs[0].Findings[0].Text, "row 2") {
		t.Errorf("text %q does not name the row and the half-open units", rs[0].Findings[0].Text)
	}
}

// A registry that cannot be asked gives unchecked rows, never a guess.
func TestCheckUnchecked(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	ch := NewChecker(newExplorer(t, down.URL+demo.BasePath), 2)
	l, err := Parse(strings.NewReader("ctb_1DRBTYA8Q1S07CBY\nret_1DRBTYA8Q1S07CBY\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rep := ch.Check(context.Background(), l, nil)
	for _, r := range rep.Results {
		if r.Verdict != Unchecked {
			t.Errorf("row %d: %s, want unchecked: %+v", r.Claim.Row, r.Verdict, r.Findings)
		}
	}
	if rep.Counts[Unchecked] != 2 {
		t.Errorf("counts %v", rep.Counts)
	}
}
