// Over 500 lines because the dataset's fixtures are checked one by one (shapes, planted defects,
// consistency of every tree): the tables of expectations are long by nature.

package demo

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
)

var shared = sync.OnceValue(func() *Registry { return New(Options{}) })

type serial struct {
	prefix      string // ISO-1-PATHWAY-COUNTRY-CODE-VINTAGE
	first, last int64
}

func parseSerial(t *testing.T, s string) serial {
	t.Helper()
	parts := strings.Split(s, "-")
	if len(parts) != 8 || parts[0] != "ISO" || parts[1] != "1" || len(parts[4]) != 4 || len(parts[5]) != 4 {
		t.Fatalf("serial %q is not ISO-1-PATHWAY-COUNTRY-CODE-VINTAGE-FIRST-LAST", s)
	}
	first, err1 := strconv.ParseInt(parts[6], 10, 64)
	last, err2 := strconv.ParseInt(parts[7], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("serial %q: range ends are not integers", s)
	}
	return serial{strings.Join(parts[:6], "-"), first, last}
}

func mustBatch(t *testing.T, r *Registry, id string) registry.CreditBatch {
	t.Helper()
	b, ok := r.Batch(id)
	if !ok {
		t.Fatalf("batch %s is not in the dataset", id)
	}
	return b
}

// TestConsistentTrees checks every batch of every tree that is not planted, on the records as
// they are sent: the invariants the explorer's audit relies on.
func TestConsistentTrees(t *testing.T) {
	checkConsistent(t, shared(), datasetNow)
}

// checkConsistent checks the invariants on every batch of r not planted, no timestamp after
// now (Unix µs).
func checkConsistent(t *testing.T, r *Registry, nowUs int64) {
	t.Helper()
	d := r.d
	all := make(map[string]wireBatch, len(d.batches))
	for i, id := range d.ids {
		if !d.trees[d.batches[i].tree].planted {
			all[id] = d.wireBatch(int32(i))
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	now := formatTime(nowUs)
	for id, b := range all {
		kg := b.Size.CreditKgs
		s := parseSerial(t, b.SerialNumber)
		if s.last-s.first != kg || kg <= 0 {
			t.Errorf("%s: serial %s holds %d units, credit_kgs is %d", id, b.SerialNumber, s.last-s.first, kg)
		}
		if got, want := string(b.Size.Credits), formatCredits(kg); got != want {
			t.Errorf("%s: credits %s, want %s", id, got, want)
		}
		if b.CountryOfIssue != strings.Split(b.SerialNumber, "-")[3] {
			t.Errorf("%s: country_of_issue %s disagrees with serial %s", id, b.CountryOfIssue, b.SerialNumber)
		}
		hasChildren := b.LeftChildID != nil || b.RightChildID != nil
		switch b.Status {
		case "split":
			if b.LeftChildID == nil || b.RightChildID == nil || b.CarbonRemovalData != nil || b.RetirementID != nil {
				t.Errorf("%s: split batch needs two children, no retirement and no carbon_removal_data", id)
			}
		case "retired":
			if b.RetirementID == nil || b.RetiredAt == nil || b.Beneficiary == nil || hasChildren {
				t.Errorf("%s: retired batch needs retirement_id, retired_at, beneficiary and no children", id)
			}
		case "active":
			if b.RetirementID != nil || b.RetiredAt != nil || b.Beneficiary != nil || hasChildren {
				t.Errorf("%s: active batch has retirement fields or children", id)
			}
		default:
			t.Errorf("%s: status %q", id, b.Status)
		}
		if (b.DeliveryID == nil) != (b.DeliveredAt == nil) {
			t.Errorf("%s: delivered_at and delivery_id disagree", id)
		}
		// One layout for every timestamp, so comparing the strings compares the times.
		if ret := str(b.RetiredAt); ret != "" && (ret < b.IssuedAt || ret < str(b.DeliveredAt)) {
			t.Errorf("%s: retired before it was issued or delivered", id)
		}
		for _, ts := range []string{b.IssuedAt, str(b.DeliveredAt), str(b.RetiredAt)} {
			if ts > now {
				t.Errorf("%s: timestamp %s after the dataset's present", id, ts)
			}
		}
		if b.ParentID != nil {
			p, ok := all[*b.ParentID]
			if !ok || str(p.LeftChildID) != id && str(p.RightChildID) != id {
				t.Errorf("%s: parent %s does not list it as a child", id, *b.ParentID)
			}
			if ok && (p.SupplierID != b.SupplierID || p.ProjectID != b.ProjectID || p.IssuanceID != b.IssuanceID ||
				p.RemovalID != b.RemovalID || p.IssuedAt != b.IssuedAt || p.SequesteredOn != b.SequesteredOn ||
				p.CCPApproved != b.CCPApproved) {
				t.Errorf("%s: differs from its parent %s in what a tree shares", id, *b.ParentID)
			}
		}
		if b.Status != "split" {
			continue
		}
		l, okL := all[str(b.LeftChildID)]
		rc, okR := all[str(b.RightChildID)]
		if !okL || !okR {
			t.Errorf("%s: a child is missing", id)
			continue
		}
		if str(l.ParentID) != id || str(rc.ParentID) != id {
			t.Errorf("%s: a child's parent_id points elsewhere", id)
		}
		if l.Size.CreditKgs+rc.Size.CreditKgs != kg {
			t.Errorf("%s: %d kg split into %d + %d", id, kg, l.Size.CreditKgs, rc.Size.CreditKgs)
		}
		ls, rs := parseSerial(t, l.SerialNumber), parseSerial(t, rc.SerialNumber)
		if ls.prefix != s.prefix || rs.prefix != s.prefix || ls.first != s.first || ls.last != rs.first || rs.last != s.last {
			t.Errorf("%s: children %s and %s do not partition %s", id, l.SerialNumber, rc.SerialNumber, b.SerialNumber)
		}
	}
}

// TestBatchDecodes: Batch hands out what the client decodes from the wire, for a sample of
// every kind of batch.
func TestBatchDecodes(t *testing.T) {
	r := shared()
	d := r.d
	for i := 0; i < len(d.ids); i += 97 {
		w := d.wireBatch(int32(i))
		b := mustBatch(t, r, d.ids[i])
		if b.ID != w.ID || b.SerialNumber != w.SerialNumber || string(b.Status) != w.Status ||
			b.Size.CreditKgs != w.Size.CreditKgs || b.Size.Credits.String() != string(w.Size.Credits) ||
			b.IssuedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00") != w.IssuedAt || b.SequesteredOn.String() != w.SequesteredOn ||
			b.Owner.Name != w.Owner.Name || (b.Beneficiary == nil) != (w.Beneficiary == nil) ||
			(b.CarbonRemovalData == nil) != (w.CarbonRemovalData == nil) || len(b.Children()) != len(slices.DeleteFunc([]*string{w.LeftChildID, w.RightChildID}, func(p *string) bool { return p == nil })) {
			t.Errorf("%s decodes to %+v", d.ids[i], b)
		}
	}
	if _, ok := r.Batch("ctb_1000000000000000"); ok {
		t.Errorf("Batch of an unknown id reports ok")
	}
}

// TestRootRangesDisjoint: the roots of one project (planted ones included) never share a unit,
// so a serial locates at most one root.
func TestRootRangesDisjoint(t *testing.T) {
	r := shared()
	d := r.d
	byProject := map[string][]serial{}
	for _, tr := range d.trees {
		b := mustBatch(t, r, d.ids[tr.root])
		s := parseSerial(t, b.SerialNumber)
		code := strings.Split(b.SerialNumber, "-")[4]
		byProject[code] = append(byProject[code], s)
	}
	if len(byProject) < 4 {
		t.Errorf("only %d projects have roots", len(byProject))
	}
	for code, list := range byProject {
		slices.SortFunc(list, func(a, b serial) int { return int(a.first - b.first) })
		for k := 1; k < len(list); k++ {
			if list[k].first < list[k-1].last {
				t.Errorf("project %s: roots [%d,%d) and [%d,%d) overlap", code, list[k-1].first, list[k-1].last, list[k].first, list[k].last)
			}
		}
	}
}

// TestTotals: issuance, project and retirement totals are the sums of their batches, in int64.
func TestTotals(t *testing.T) {
	d := shared().d
	for _, iss := range d.issuances {
		var s, b int64
		for _, i := range iss.supplierRoots {
			s += d.batches[i].kg
		}
		for _, i := range iss.bufferRoots {
			b += d.batches[i].kg
		}
		if s != iss.supplierKg || b != iss.bufferKg || len(iss.supplierRoots) == 0 {
			t.Errorf("issuance %s: totals %d/%d, roots sum to %d/%d", iss.id, iss.supplierKg, iss.bufferKg, s, b)
		}
	}
	for ri, r := range d.retirements {
		var sum int64
		for _, i := range d.retBatches[ri] {
			sum += d.batches[i].kg
		}
		if sum != r.kg || sum == 0 {
			t.Errorf("retirement %s: credit_batch_size_total %d, batches sum to %d", r.id, r.kg, sum)
		}
	}
	if len(d.issuances) != issuanceCount || len(d.projects) < 4 || len(d.suppliers) < 3 {
		t.Errorf("catalogue: %d issuances, %d projects, %d suppliers", len(d.issuances), len(d.projects), len(d.suppliers))
	}
}

func subtree(t *testing.T, r *Registry, root string) []registry.CreditBatch {
	t.Helper()
	var out []registry.CreditBatch
	stack := []string{root}
	for len(stack) > 0 && len(out) <= 100_000 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		b := mustBatch(t, r, id)
		out = append(out, b)
		stack = append(stack, b.Children()...)
	}
	return out
}

func TestFixtureShapes(t *testing.T) {
	r := shared()
	f := r.Fixtures()

	t.Run("deep chain", func(t *testing.T) {
		id, depth := f.DeepChainRoot, 0
		for {
			b := mustBatch(t, r, id)
			if b.Status != registry.StatusSplit {
				if id != f.DeepChainLeaf || b.Status != registry.StatusActive {
					t.Errorf("chain ends at %s (%s), want active %s", id, b.Status, f.DeepChainLeaf)
				}
				break
			}
			peel := mustBatch(t, r, b.LeftChildID)
			if peel.Status != registry.StatusRetired || peel.Size.CreditKgs > 1_000 {
				t.Errorf("depth %d: left child %s is %s, %d kg; want a small retired peel", depth, peel.ID, peel.Status, peel.Size.CreditKgs)
			}
			id = b.RightChildID
			depth++
		}
		if depth != f.DeepChainDepth || depth < 300 {
			t.Errorf("chain depth %d, fixture says %d (want ≥ 300)", depth, f.DeepChainDepth)
		}
	})

	t.Run("wide tree", func(t *testing.T) {
		nodes := subtree(t, r, f.WideRoot)
		if len(nodes) != f.WideNodeCount || len(nodes) < 2_000 || len(nodes) > 4_000 {
			t.Errorf("wide tree has %d batches, fixture says %d", len(nodes), f.WideNodeCount)
		}
		owners, beneficiaries, retired := map[string]bool{}, map[string]bool{}, 0
		for _, b := range nodes {
			owners[b.Owner.ID] = true
			if b.Beneficiary != nil {
				beneficiaries[b.Beneficiary.ID] = true
				retired++
			}
		}
		if len(owners) < 10 || len(beneficiaries) < 3 || retired < 100 {
			t.Errorf("wide tree: %d owners, %d beneficiaries, %d retired", len(owners), len(beneficiaries), retired)
		}
		id, depth := f.WideLeafDeep, 0
		if b := mustBatch(t, r, id); b.LeftChildID != "" || b.RightChildID != "" {
			t.Errorf("WideLeafDeep %s has children", id)
		}
		for id != f.WideRoot && depth < 50 {
			id = mustBatch(t, r, id).ParentID
			depth++
		}
		if depth != 10 {
			t.Errorf("WideLeafDeep is %d levels below WideRoot, want 10", depth)
		}
	})

	t.Run("huge tree", func(t *testing.T) {
		n := 0
		for _, b := range r.d.batches {
			if r.d.ids[r.d.trees[b.tree].root] == f.HugeRoot {
				n++
			}
		}
		if n != f.HugeNodeCount || n < 25_000 || n > 35_000 {
			t.Errorf("huge tree has %d batches, fixture says %d", n, f.HugeNodeCount)
		}
	})

	t.Run("big kg", func(t *testing.T) {
		root := mustBatch(t, r, f.BigKgRoot)
		l, rc := mustBatch(t, r, root.LeftChildID), mustBatch(t, r, root.RightChildID)
		if root.Size.CreditKgs <= 1<<53 || l.Size.CreditKgs+rc.Size.CreditKgs != root.Size.CreditKgs {
			t.Errorf("big kg root %d, children %d + %d", root.Size.CreditKgs, l.Size.CreditKgs, rc.Size.CreditKgs)
		}
		if got := root.Size.Credits.String(); got != formatCredits(root.Size.CreditKgs) || !strings.HasPrefix(got, "9007199378197.") {
			t.Errorf("big kg credits rendered %s", got)
		}
	})

	t.Run("hostile names", func(t *testing.T) {
		b := mustBatch(t, r, f.HostileOrgBatch)
		if !strings.Contains(b.Owner.Name, "<script>") {
			t.Errorf("owner name %q has no markup", b.Owner.Name)
		}
		ri := r.d.retIndex[f.HostileRetirement]
		ret := r.d.wireRetirement(ri)
		if !strings.Contains(ret.Beneficiary.Name, "<img") || ret.Notes == nil || !strings.Contains(*ret.Notes, "<script>") {
			t.Errorf("hostile retirement: beneficiary %q, notes %v", ret.Beneficiary.Name, ret.Notes)
		}
		sib := mustBatch(t, r, mustBatch(t, r, b.ParentID).LeftChildID)
		if sib.RetirementID != f.HostileRetirement {
			t.Errorf("the hostile batch's sibling is not retired by HostileRetirement")
		}
	})

	t.Run("all final", func(t *testing.T) {
		nodes := subtree(t, r, f.AllFinalRoot)
		if len(nodes) < 10 || len(nodes) > 20 {
			t.Errorf("all-final tree has %d batches", len(nodes))
		}
		for _, b := range nodes {
			if !b.Status.Final() {
				t.Errorf("%s is %s", b.ID, b.Status)
			}
		}
	})

	t.Run("issuance", func(t *testing.T) {
		iss := r.d.issuances[r.d.issIndex[f.Issuance]]
		split := 0
		for _, i := range iss.supplierRoots {
			if r.d.batches[i].status == statusSplit {
				split++
			}
		}
		if len(iss.supplierRoots) < 5 || len(iss.bufferRoots) < 2 || split < 2 {
			t.Errorf("issuance fixture: %d supplier roots (%d split), %d buffer roots", len(iss.supplierRoots), split, len(iss.bufferRoots))
		}
		if r.d.issuancesNewest[len(r.d.issuancesNewest)-1] != r.d.issIndex[f.LastPageIssuance] {
			t.Errorf("LastPageIssuance is not the last in GET /issuances order")
		}
	})

	t.Run("retirement", func(t *testing.T) {
		list := r.d.retBatches[r.d.retIndex[f.Retirement]]
		issuances, roots := map[string]bool{}, map[string]bool{}
		for _, i := range list {
			b := mustBatch(t, r, r.d.ids[i])
			issuances[b.IssuanceID] = true
			roots[r.d.ids[r.d.trees[r.d.batches[i].tree].root]] = true
		}
		if len(issuances) < 2 || len(roots) < 3 {
			t.Errorf("retirement fixture spans %d issuances and %d trees", len(issuances), len(roots))
		}
	})

	t.Run("organisation and project", func(t *testing.T) {
		if n := len(r.d.orgBatches[r.d.orgIndex[f.Organisation]]); n < 100 {
			t.Errorf("organisation fixture has %d batches", n)
		}
		p := r.d.projects[r.d.prjIndex[f.Project]]
		if p.shortCode[0] != '0' || r.d.suppliers[p.supplier].id != f.Supplier {
			t.Errorf("project fixture: short code %s, supplier %s", p.shortCode, f.Supplier)
		}
	})
}

// TestPlantedDefects checks that each planted fixture carries exactly the defect it documents.
func TestPlantedDefects(t *testing.T) {
	r := shared()
	f := r.Fixtures()
	get := func(id string) registry.CreditBatch { return mustBatch(t, r, id) }
	planted := f.Planted()
	for _, id := range []string{f.DanglingChild, f.WrongParent, f.SizeMismatch, f.Cycle, f.ParentCycle,
		f.RepeatedChild, f.OneChildSplit, f.RangeGap, f.MixedIssuance, f.BadStatus} {
		if planted[id] == "" {
			t.Errorf("planted fixture %s has no description", id)
		}
	}

	t.Run("dangling child", func(t *testing.T) {
		b := get(f.DanglingChild)
		if _, ok := r.Batch(b.RightChildID); ok || b.Status != registry.StatusSplit || !validID("ctb", b.RightChildID) {
			t.Errorf("right child %q of %s should be a well-formed id that is absent", b.RightChildID, b.ID)
		}
		if l := get(b.LeftChildID); l.ParentID != b.ID {
			t.Errorf("left child should be sound")
		}
	})
	t.Run("wrong parent", func(t *testing.T) {
		b := get(f.WrongParent)
		rc := get(b.RightChildID)
		if rc.ParentID == b.ID || rc.ParentID != b.LeftChildID {
			t.Errorf("right child's parent_id %s, want the sibling %s", rc.ParentID, b.LeftChildID)
		}
		if get(b.LeftChildID).ParentID != b.ID {
			t.Errorf("left child should be sound")
		}
	})
	t.Run("size mismatch", func(t *testing.T) {
		b := get(f.SizeMismatch)
		l, rc := get(b.LeftChildID), get(b.RightChildID)
		if l.Size.CreditKgs+rc.Size.CreditKgs == b.Size.CreditKgs || l.ParentID != b.ID || rc.ParentID != b.ID {
			t.Errorf("children sum to %d, parent %d", l.Size.CreditKgs+rc.Size.CreditKgs, b.Size.CreditKgs)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		seen := map[string]bool{}
		stack := []string{f.Cycle}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[id] {
				return // walking down revisits a batch: the cycle is there
			}
			seen[id] = true
			b := get(id)
			stack = append(stack, b.Children()...)
		}
		t.Errorf("walking down from %s ends: no cycle", f.Cycle)
	})
	t.Run("parent cycle", func(t *testing.T) {
		b := get(f.ParentCycle)
		p := get(b.ParentID)
		if p.ParentID != b.ID || p.LeftChildID != b.ID {
			t.Errorf("%s → %s → %s: not a two-batch parent cycle", b.ID, p.ID, p.ParentID)
		}
	})
	t.Run("repeated child", func(t *testing.T) {
		root := get(f.RepeatedChild)
		a, b := get(root.LeftChildID), get(root.RightChildID)
		if a.RightChildID == "" || a.RightChildID != b.RightChildID || a.ID == b.ID {
			t.Errorf("%s and %s should share a right child", a.ID, b.ID)
		}
	})
	t.Run("one-child split", func(t *testing.T) {
		b := get(f.OneChildSplit)
		l := get(b.LeftChildID)
		if b.Status != registry.StatusSplit || b.RightChildID != "" || l.Size.CreditKgs != b.Size.CreditKgs || l.ParentID != b.ID {
			t.Errorf("one-child split %s: right %q, left %d of %d kg", b.ID, b.RightChildID, l.Size.CreditKgs, b.Size.CreditKgs)
		}
	})
	t.Run("range gap", func(t *testing.T) {
		b := get(f.RangeGap)
		l, rc := get(b.LeftChildID), get(b.RightChildID)
		ps, ls, rs := parseSerial(t, b.SerialNumber), parseSerial(t, l.SerialNumber), parseSerial(t, rc.SerialNumber)
		if l.Size.CreditKgs+rc.Size.CreditKgs != b.Size.CreditKgs {
			t.Errorf("sizes should add up")
		}
		if ls.first == ps.first && ls.last == rs.first && rs.last == ps.last {
			t.Errorf("ranges partition the parent: no gap")
		}
		if rs.last-rs.first != rc.Size.CreditKgs || ls.last-ls.first != l.Size.CreditKgs {
			t.Errorf("each child's own range should still hold its size")
		}
	})
	t.Run("mixed issuance", func(t *testing.T) {
		root := get(f.MixedIssuance)
		mixed := 0
		for _, b := range subtree(t, r, f.MixedIssuance) {
			if b.IssuanceID != root.IssuanceID {
				mixed++
				if b.ProjectID == root.ProjectID {
					t.Errorf("%s: other issuance but same project", b.ID)
				}
			}
		}
		if mixed != 1 {
			t.Errorf("%d batches with another issuance, want 1", mixed)
		}
	})
	t.Run("bad status", func(t *testing.T) {
		root := get(f.BadStatus)
		a, b := get(root.LeftChildID), get(root.RightChildID)
		if a.Status != registry.StatusRetired || a.RetirementID != "" || !a.RetiredAt.IsZero() || a.Beneficiary != nil {
			t.Errorf("%s should be retired without a retirement", a.ID)
		}
		if b.Status != registry.StatusActive || len(b.Children()) != 2 {
			t.Errorf("%s should be active with two children", b.ID)
		}
	})
}

// TestDeterministic: the dataset is the same on every build, byte for byte.
func TestDeterministic(t *testing.T) {
	digest := func(r *Registry) string {
		h := sha256.New()
		for i := range r.d.batches {
			b, err := marshal(r.d.wireBatch(int32(i)))
			if err != nil {
				t.Fatal(err)
			}
			h.Write(b)
		}
		for i := range r.d.retirements {
			b, _ := marshal(r.d.wireRetirement(int32(i)))
			h.Write(b)
		}
		fmt.Fprintf(h, "%+v", r.Fixtures())
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	if a, b := digest(shared()), digest(New(Options{})); a != b {
		t.Errorf("two builds differ: %s vs %s", a, b)
	}
}

func TestIDs(t *testing.T) {
	d := shared().d
	for _, id := range append(slices.Clone(d.ids), d.retirements[0].id, d.issuances[0].id, d.orgs[0].id, d.deliveries[0]) {
		if len(id) != 20 || id[4] != '1' || strings.Trim(id[5:], crockford) != "" || !validID(id[:3], id) {
			t.Fatalf("id %q is not prefix_1 + 15 Crockford characters", id)
		}
	}
	if formatCredits(5611) != "5.611" || formatCredits(5) != "0.005" || formatCredits(9007199254740993) != "9007199254740.993" {
		t.Errorf("formatCredits")
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New(Options{})
	}
}
