// Over 500 lines because every figure the issue of wrong figures named (statuses, credits
// against kg, ranges unit by unit, holders, the CSV guard) is checked here on records shaped as
// the registry sends them, with a fuzz target each for the range audit and the guard.

package lineage_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// memSource is a registry in memory: batches decoded from JSON records shaped as the registry
// sends them, so that the walk, the audit and the exports see what the client would decode.
type memSource map[string]*registry.CreditBatch

func (m memSource) CreditBatch(_ context.Context, id string) (*registry.CreditBatch, error) {
	if b, ok := m[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s", registry.ErrNotFound, id)
}

// rec is one credit batch record. Fields left zero take a consistent default; credits is the
// JSON literal of the size's credits ("" writes the exact value of kg).
type rec struct {
	id, serial, status, parent, left, right string
	kg                                      int64
	credits                                 string
	owner, beneficiary                      string // organisation names; ids are derived
	retirement                              string
}

func orgJSON(name string) string {
	if name == "" {
		return "null"
	}
	id := "org_" + strings.ToUpper(fmt.Sprintf("%016x", hash(name)))
	return fmt.Sprintf(`{"id":%q,"name":%q,"domain":null}`, id, name)
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func nullable(s string) string {
	if s == "" {
		return "null"
	}
	return fmt.Sprintf("%q", s)
}

// json renders the record as the registry would send it.
func (r rec) json() string {
	credits := r.credits
	if credits == "" {
		credits = registry.FormatCredits(r.kg)
	}
	owner := r.owner
	if owner == "" {
		owner = "Deepstore Removals"
	}
	retiredAt := "null"
	if r.retirement != "" {
		retiredAt = `"2026-04-09T18:21:22.047712Z"`
	}
	return fmt.Sprintf(`{"id":%q,"serial_number":%q,"status":%q,"issued_at":"2026-02-27T15:40:46.883028Z",
"retired_at":%s,"delivered_at":null,"sequestered_on":"2026-01-20","country_of_issue":"GBR",
"supplier_id":"spl_15VFW6T2KDWAS7VQ","parent_id":%s,"left_child_id":%s,"right_child_id":%s,
"issuance_id":"iss_1H3KECHHHF65HKP3","delivery_id":null,"retirement_id":%s,"removal_id":"rmv_1FG98C79PW9NR19Q",
"project_id":"prj_1418ZFQP4KDX2KTD","ccp_approved":true,"size":{"credit_kgs":%d,"credits":%s},
"beneficiary":%s,"owner":%s,"carbon_removal_data":null}`,
		r.id, r.serial, r.status, retiredAt, nullable(r.parent), nullable(r.left), nullable(r.right),
		nullable(r.retirement), r.kg, credits, orgJSON(r.beneficiary), orgJSON(owner))
}

func sourceOf(t testing.TB, recs ...rec) memSource {
	t.Helper()
	m := memSource{}
	for _, r := range recs {
		var b registry.CreditBatch
		if err := json.Unmarshal([]byte(r.json()), &b); err != nil {
			t.Fatalf("record %s does not decode: %v", r.id, err)
		}
		m[b.ID] = &b
	}
	return m
}

func walkMem(t testing.TB, src memSource, id string) *lineage.Tree {
	t.Helper()
	tree, err := lineage.NewWalker(src, lineage.WalkerConfig{}).Lineage(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func serialFor(first, last int64) string {
	return fmt.Sprintf("ISO-1-BSTORE-GBR-F5X7-2026-%d-%d", first, last)
}

// statusTree is the example: a 1,000 kg split root with a 400 kg "cancelled" half
// and a 600 kg active one.
func statusTree(t testing.TB, other string) memSource {
	return sourceOf(t,
		rec{id: "ctb_1STATUSROOT00001", serial: serialFor(1000, 2000), status: "split", kg: 1000,
			left: "ctb_1STATUSLEFT00001", right: "ctb_1STATUSRIGHT0001"},
		rec{id: "ctb_1STATUSLEFT00001", serial: serialFor(1000, 1400), status: other, kg: 400,
			parent: "ctb_1STATUSROOT00001", owner: "Nordic Sinks AB"},
		rec{id: "ctb_1STATUSRIGHT0001", serial: serialFor(1400, 2000), status: "active", kg: 600,
			parent: "ctb_1STATUSROOT00001", owner: "Nordic Sinks AB"},
	)
}

// A status the explorer does not know is not active: its kg have their own figure, in the
// totals, the holder rows and the JSON, and conservation is checked over every figure.
func TestUnknownStatusHasItsOwnFigure(t *testing.T) {
	for _, status := range []string{"cancelled", "pending_transfer", "ACTIVE", "=1+2", ""} {
		t.Run(status, func(t *testing.T) {
			tree := walkMem(t, statusTree(t, status), "ctb_1STATUSROOT00001")
			tot := tree.Totals()
			if tot.ActiveKg != 600 || tot.RetiredKg != 0 || tot.OtherKg != 400 {
				t.Errorf("totals active %d, retired %d, other %d; want 600, 0, 400", tot.ActiveKg, tot.RetiredKg, tot.OtherKg)
			}
			if len(tot.ByHolder) != 1 || tot.ByHolder[0].ActiveKg != 600 || tot.ByHolder[0].OtherKg != 400 {
				t.Errorf("by holder %+v, want one row of 600 active and 400 other", tot.ByHolder)
			}
			s := tree.Summary()
			if !s.Conserved || s.ConservedKg != 1000 {
				t.Errorf("summary %+v: active and other still hold the root's 1,000 kg", s)
			}
			named := false
			for _, p := range tree.ProblemsAt("ctb_1STATUSLEFT00001") {
				named = named || p.Kind == lineage.ProblemStatus && strings.Contains(p.Detail, fmt.Sprintf("%q", status))
			}
			if !named {
				t.Errorf("no problem names the status %q: %+v", status, tree.Problems)
			}
			raw, err := json.Marshal(tree.Export())
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Totals struct {
					ActiveKg int64 `json:"active_kg"`
					OtherKg  *int64
					Other    *int64 `json:"other_status_kg"`
					ByHolder []struct {
						ActiveKg int64  `json:"active_kg"`
						Other    *int64 `json:"other_status_kg"`
					} `json:"by_holder"`
				}
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.Totals.ActiveKg != 600 || got.Totals.Other == nil || *got.Totals.Other != 400 {
				t.Errorf("JSON totals %s", raw[bytes.Index(raw, []byte(`"totals"`)):])
			}
			if len(got.Totals.ByHolder) != 1 || got.Totals.ByHolder[0].Other == nil || *got.Totals.ByHolder[0].Other != 400 {
				t.Errorf("JSON by_holder %+v", got.Totals.ByHolder)
			}
		})
	}
}

// A known status is never an "other" one; a tree that loses kg to nowhere is still not
// conserved because other statuses are counted.
func TestOtherStatusKgCountTowardsConservation(t *testing.T) {
	src := statusTree(t, "cancelled")
	src["ctb_1STATUSLEFT00001"].Size.CreditKgs = 300 // the children now hold 900 of 1,000 kg
	tree := walkMem(t, src, "ctb_1STATUSROOT00001")
	if s := tree.Summary(); s.Conserved {
		t.Errorf("summary %+v for children holding 900 of 1,000 kg", s)
	}
}

// credits that disagree with credit_kgs are a problem on the batch, naming both; the kg stay
// the truth.
func TestCreditsThatDisagreeWithKgAreAProblem(t *testing.T) {
	cases := []struct {
		credits string
		wrong   bool
	}{
		{"15.0", true}, {"1.5", false}, {"1.500", false}, {"1.5e0", false}, {"150e-2", false},
		{"1.501", true}, {"0.15", true}, {"1500", true}, {`"1.5"`, false}, {`"15"`, true},
		// Huge exponents are read without computing them, and still disagree.
		{"1e999999", true}, {"1.5e-999999", true}, {"15000e-4", false}, {"1." + strings.Repeat("0", 70) + "5", true},
	}
	for _, c := range cases {
		t.Run(c.credits, func(t *testing.T) {
			src := sourceOf(t, rec{id: "ctb_1CREDITSBATCH0001", serial: serialFor(5000, 6500), status: "active", kg: 1500, credits: c.credits})
			tree := walkMem(t, src, "ctb_1CREDITSBATCH0001")
			var found *lineage.Problem
			for _, p := range tree.ProblemsAt("ctb_1CREDITSBATCH0001") {
				if p.Kind == lineage.ProblemCredits {
					found = &p
				}
			}
			if !c.wrong {
				if found != nil {
					t.Errorf("credits %s agree with 1,500 kg, yet: %s", c.credits, found.Detail)
				}
				return
			}
			if found == nil {
				t.Fatalf("credits %s for 1,500 kg: no problem in %+v", c.credits, tree.Problems)
			}
			if want := strings.Trim(c.credits, `"`); !strings.Contains(found.Detail, want) || !strings.Contains(found.Detail, "1,500 kg") || !strings.Contains(found.Detail, "1.500") {
				t.Errorf("detail %q does not name the credits sent (%s), the kg (1,500 kg) and what they make (1.500)", found.Detail, want)
			}
			if tree.Summary().Clean() {
				t.Error("the summary calls the tree clean")
			}
			if e := tree.Export(); e.Nodes[0].Batch.Credits != "1.500" {
				t.Errorf("the export's credits are %q; the kg are the truth", e.Nodes[0].Batch.Credits)
			}
		})
	}
}

// A registry that renders credits through a float cannot send the last digits of a size past
// 2^53 kg: the nearest double is not a disagreement.
func TestCreditsRoundedByAFloatAreNotAMismatch(t *testing.T) {
	const kg = 9_007_199_378_468_366 // credits 9007199378468.366, whose nearest double prints as ….365
	src := sourceOf(t, rec{id: "ctb_1CREDITSBIG00001", serial: serialFor(0, kg), status: "active", kg: kg, credits: "9007199378468.365"})
	tree := walkMem(t, src, "ctb_1CREDITSBIG00001")
	for _, p := range tree.Problems {
		if p.Kind == lineage.ProblemCredits {
			t.Errorf("float rendering flagged: %s", p.Detail)
		}
	}
	src = sourceOf(t, rec{id: "ctb_1CREDITSBIG00001", serial: serialFor(0, kg), status: "active", kg: kg, credits: "9007199378469.366"})
	tree = walkMem(t, src, "ctb_1CREDITSBIG00001")
	if !hasKind(tree.Problems, lineage.ProblemCredits) {
		t.Errorf("credits a whole credit off are not flagged: %+v", tree.Problems)
	}
}

func hasKind(ps []lineage.Problem, k lineage.ProblemKind) bool {
	for _, p := range ps {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// rangeTree is a 3,000 kg root over units [first, last) split into two 1,500 kg halves with the
// given ranges.
func rangeTree(t testing.TB, first, last int64, l, r [2]int64) memSource {
	return sourceOf(t,
		rec{id: "ctb_1RANGEROOT000001", serial: serialFor(first, last), status: "split", kg: last - first,
			left: "ctb_1RANGELEFT000001", right: "ctb_1RANGERIGHT00001"},
		rec{id: "ctb_1RANGELEFT000001", serial: serialFor(l[0], l[1]), status: "active", kg: l[1] - l[0], parent: "ctb_1RANGEROOT000001"},
		rec{id: "ctb_1RANGERIGHT00001", serial: serialFor(r[0], r[1]), status: "active", kg: r[1] - r[0], parent: "ctb_1RANGEROOT000001"},
	)
}

// Ranges that overlap, leave a gap or overrun the parent make the tree not conserved, even
// when the kg add up, and the finding names the exact units (ranges are half-open).
func TestRangesThatDoNotPartitionTheParentAreNotConserved(t *testing.T) {
	cases := []struct {
		name       string
		l, r       [2]int64
		want       []string
		notWant    []string
		conserving bool
	}{
		{name: "issue's example", l: [2]int64{1000, 2500}, r: [2]int64{2499, 3999},
			want: []string{"unit 2499 is held by both", "unit 3999 is held by no child"}},
		{name: "gap and overrun", l: [2]int64{1000, 2500}, r: [2]int64{2600, 4100},
			want: []string{"units 2500–2599 (100 units) are held by no child", "units 4000–4099 (100 units) lie outside"}},
		{name: "overlap and gap", l: [2]int64{1000, 2500}, r: [2]int64{1200, 2700},
			want: []string{"units 1200–2499 (1,300 units) are held by both", "units 2700–3999 (1,300 units) are held by no child"}},
		{name: "children swapped", l: [2]int64{2500, 4000}, r: [2]int64{1000, 2500},
			notWant: []string{"held by no child", "held by both", "outside"}, conserving: true},
		{name: "sound", l: [2]int64{1000, 2500}, r: [2]int64{2500, 4000}, conserving: true},
		{name: "below the parent", l: [2]int64{500, 2000}, r: [2]int64{2500, 4000},
			want: []string{"units 500–999 (500 units) lie outside", "units 2000–2499 (500 units) are held by no child"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := walkMem(t, rangeTree(t, 1000, 4000, c.l, c.r), "ctb_1RANGEROOT000001")
			var details []string
			for _, p := range tree.ProblemsAt("ctb_1RANGEROOT000001") {
				if p.Kind == lineage.ProblemRangePartition {
					details = append(details, p.Detail)
				}
			}
			all := strings.Join(details, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("the range problems do not say %q:\n%s", w, all)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(all, w) {
					t.Errorf("the range problems say %q:\n%s", w, all)
				}
			}
			s := tree.Summary()
			units := strings.Contains(all, "held by") || strings.Contains(all, "outside")
			if s.Conserved == units {
				t.Errorf("conserved %v with range problems %q", s.Conserved, all)
			}
			if c.conserving && !s.Conserved {
				t.Errorf("not conserved: %+v", tree.Problems)
			}
		})
	}
}

// The same finding, with its units, reaches the audit JSON and the CSV.
func TestRangeFindingsReachBothExports(t *testing.T) {
	tree := walkMem(t, rangeTree(t, 1000, 4000, [2]int64{1000, 2500}, [2]int64{2499, 3999}), "ctb_1RANGEROOT000001")
	e := tree.Export()
	if e.Summary.Conserved || e.Summary.ConservedKg != nil {
		t.Errorf("JSON summary %+v", e.Summary)
	}
	raw, _ := json.Marshal(e.Problems)
	for _, w := range []string{"unit 2499 is held by both", "unit 3999 is held by no child"} {
		if !strings.Contains(string(raw), w) {
			t.Errorf("JSON problems lack %q: %s", w, raw)
		}
	}
	rows := csvRows(t, tree)
	col := columns(rows[0])
	if _, ok := col["problems"]; !ok {
		t.Fatalf("no problems column in %v", rows[0])
	}
	var root []string
	for _, row := range rows[1:] {
		if row[col["id"]] == "ctb_1RANGEROOT000001" {
			root = row
		}
	}
	for _, w := range []string{"unit 2499 is held by both", "unit 3999 is held by no child"} {
		if !strings.Contains(root[col["problems"]], w) {
			t.Errorf("the root's CSV row lacks %q: %q", w, root[col["problems"]])
		}
	}
}

func csvRows(t testing.TB, tree *lineage.Tree) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := lineage.WriteCSV(&buf, tree); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	return rows
}

func columns(header []string) map[string]int {
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	return col
}

// "By holder" is the owner: retired kg count for whoever retired them, and the beneficiaries
// have their own totals.
func TestByHolderIsTheOwner(t *testing.T) {
	src := sourceOf(t,
		rec{id: "ctb_1HOLDERROOT00001", serial: serialFor(0, 1000), status: "split", kg: 1000,
			left: "ctb_1HOLDERLEFT00001", right: "ctb_1HOLDERRIGHT0001"},
		rec{id: "ctb_1HOLDERLEFT00001", serial: serialFor(0, 300), status: "retired", kg: 300, parent: "ctb_1HOLDERROOT00001",
			owner: "Buyer One", beneficiary: "Beneficiary Co", retirement: "ret_1HOLDERRETIRE001"},
		rec{id: "ctb_1HOLDERRIGHT0001", serial: serialFor(300, 1000), status: "active", kg: 700, parent: "ctb_1HOLDERROOT00001",
			owner: "Buyer One"},
	)
	tree := walkMem(t, src, "ctb_1HOLDERROOT00001")
	tot := tree.Totals()
	if len(tot.ByHolder) != 1 || tot.ByHolder[0].Holder.Name != "Buyer One" || tot.ByHolder[0].ActiveKg != 700 || tot.ByHolder[0].RetiredKg != 300 {
		t.Errorf("by holder %+v, want Buyer One with 700 active and 300 retired", tot.ByHolder)
	}
	if len(tot.ByBeneficiary) != 1 || tot.ByBeneficiary[0].Beneficiary == nil || tot.ByBeneficiary[0].Beneficiary.Name != "Beneficiary Co" || tot.ByBeneficiary[0].RetiredKg != 300 {
		t.Errorf("by beneficiary %+v, want Beneficiary Co with 300", tot.ByBeneficiary)
	}
	raw, _ := json.Marshal(tree.Export().Totals)
	var got struct {
		ByHolder []struct {
			Holder    registry.Organisation `json:"holder"`
			RetiredKg int64                 `json:"retired_kg"`
		} `json:"by_holder"`
		ByBeneficiary []struct {
			Beneficiary *registry.Organisation `json:"beneficiary"`
			RetiredKg   int64                  `json:"retired_kg"`
		} `json:"by_beneficiary"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.ByHolder) != 1 || got.ByHolder[0].Holder.Name != "Buyer One" || got.ByHolder[0].RetiredKg != 300 {
		t.Errorf("JSON by_holder: %s", raw)
	}
	if len(got.ByBeneficiary) != 1 || got.ByBeneficiary[0].Beneficiary == nil || got.ByBeneficiary[0].Beneficiary.Name != "Beneficiary Co" {
		t.Errorf("JSON by_beneficiary: %s", raw)
	}
}

// Every cell that comes from the registry passes the formula guard, whatever the column.
func TestCSVGuardsEveryRegistryCell(t *testing.T) {
	hostile := []string{"=1+2", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", " =1+2", "\n=1", "＝1+2"}
	for _, h := range hostile {
		t.Run(fmt.Sprintf("%q", h), func(t *testing.T) {
			root := &registry.CreditBatch{ID: "ctb_1GUARDROOT000001", SerialNumber: h, Status: registry.Status(h),
				Size: registry.Quantity{CreditKgs: 1000}, Owner: registry.Organisation{ID: h, Name: h},
				Beneficiary: &registry.Organisation{ID: h, Name: h}, RetirementID: h, ParentID: "",
				LeftChildID: h, RightChildID: "ctb_1GUARDRIGHT00001"}
			right := &registry.CreditBatch{ID: "ctb_1GUARDRIGHT00001", SerialNumber: h, Status: registry.StatusRetired,
				Size: registry.Quantity{CreditKgs: 1000}, ParentID: h, RetirementID: h,
				Owner: registry.Organisation{Name: h}, Beneficiary: &registry.Organisation{Name: h}}
			tree := walkMem(t, memSource{root.ID: root, right.ID: right}, root.ID)
			rows := csvRows(t, tree)
			for _, row := range rows[1:] {
				for i, c := range row {
					if formulaLike(c) {
						t.Errorf("column %s: cell %q would run as a formula", rows[0][i], c)
					}
				}
			}
		})
	}
}

// formulaLike reports whether a spreadsheet could read the cell as a formula: after any
// leading spaces, it starts with = + - @ (or their full-width forms), or it starts with a
// tab, carriage return or line feed.
func formulaLike(c string) bool {
	if c == "" {
		return false
	}
	if strings.ContainsRune("\t\r\n", rune(c[0])) {
		return true
	}
	t := strings.TrimLeft(c, " \u00a0\u3000")
	for _, p := range []string{"=", "+", "-", "@", "＝", "＋", "－", "＠"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// Whatever the two halves' ranges, the tree is conserved exactly when they hold every unit of
// the parent once and nothing else, and every range finding names units.
func FuzzRangePartition(f *testing.F) {
	for _, seed := range [][4]int64{{1000, 2500, 2500, 4000}, {1000, 2500, 2499, 3999}, {2500, 4000, 1000, 2500},
		{1000, 2500, 2600, 4100}, {500, 2000, 2500, 4000}, {1000, 4000, 1000, 4000}, {0, 1, 1, 2}} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, l0, l1, r0, r1 int64) {
		if l0 < 0 || r0 < 0 || l1 <= l0 || r1 <= r0 || l1 > 1<<40 || r1 > 1<<40 {
			t.Skip() // not a serial range
		}
		const first, last = 1000, 4000
		// The halves' kg always add up to the parent's: only the units can be wrong.
		src := sourceOf(t,
			rec{id: "ctb_1RANGEROOT000001", serial: serialFor(first, last), status: "split", kg: last - first,
				left: "ctb_1RANGELEFT000001", right: "ctb_1RANGERIGHT00001"},
			rec{id: "ctb_1RANGELEFT000001", serial: serialFor(l0, l1), status: "active", kg: 1500, parent: "ctb_1RANGEROOT000001"},
			rec{id: "ctb_1RANGERIGHT00001", serial: serialFor(r0, r1), status: "active", kg: 1500, parent: "ctb_1RANGEROOT000001"},
		)
		tree := walkMem(t, src, "ctb_1RANGEROOT000001")
		partition := l0 == first && l1 == r0 && r1 == last || r0 == first && r1 == l0 && l1 == last
		findings := 0
		for _, p := range tree.Problems {
			if p.Kind == lineage.ProblemRangePartition {
				findings++
				if !strings.Contains(p.Detail, "unit") {
					t.Errorf("finding names no units: %s", p.Detail)
				}
			}
		}
		if partition != (findings == 0) {
			t.Errorf("[%d,%d) and [%d,%d) of [%d,%d): %d range findings %+v", l0, l1, r0, r1, first, last, findings, tree.Problems)
		}
		if s := tree.Summary(); s.Conserved != partition {
			t.Errorf("[%d,%d) and [%d,%d): conserved %v", l0, l1, r0, r1, s.Conserved)
		}
	})
}

// Whatever the text, the guard leaves it as it was or makes it plain text with an apostrophe,
// and what it writes never starts a formula.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"", "=1+2", " =1", "\t", "－1", "Nordic Sinks AB", "'=1", "\u00a0@x", "\u3000=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := lineage.CSVCell(s)
		if got != s && got != "'"+s {
			t.Errorf("CSVCell(%q) = %q", s, got)
		}
		if formulaLike(got) {
			t.Errorf("CSVCell(%q) = %q still starts a formula", s, got)
		}
	})
}
