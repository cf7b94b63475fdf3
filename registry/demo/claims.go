package demo

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// SampleClaims is a list of claims over the dataset for the claims check ("try a sample list"),
// as CSV with a header: serial, batch, retirement, kg, beneficiary, retired_at, and a reference
// column whose text starts with the verdict the row is meant to get ("verified: …"), so that
// a newcomer reads what each row shows and tests check every row against it. It exercises every
// verdict except unchecked, which needs the registry to fail. The list is the same on every run.
func (r *Registry) SampleClaims() string {
	s := sampler{r: r}
	s.build()
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"reference", "serial", "batch", "retirement", "kg", "beneficiary", "retired_at"})
	for _, row := range s.rows {
		_ = w.Write(row)
	}
	w.Flush()
	return b.String()
}

// SampleClaimRow is one row of SampleClaims: its reference and the verdict it is meant to get.
type SampleClaimRow struct {
	Reference string
	Verdict   string
}

// SampleClaimVerdicts are the verdicts SampleClaims' rows are meant to get, in its order.
func (r *Registry) SampleClaimVerdicts() []SampleClaimRow {
	s := sampler{r: r}
	s.build()
	out := make([]SampleClaimRow, len(s.rows))
	for i, row := range s.rows {
		v, _, _ := strings.Cut(row[0], ":")
		_, v, _ = strings.Cut(v, " ")
		out[i] = SampleClaimRow{Reference: row[0], Verdict: v}
	}
	return out
}

type sampler struct {
	r    *Registry
	rows [][]string
	n    int
}

func (s *sampler) add(verdict, why, serial, batch, ret, kg, beneficiary, date string) {
	s.n++
	ref := "S" + pad2(s.n) + " " + verdict + ": " + why
	s.rows = append(s.rows, []string{ref, serial, batch, ret, kg, beneficiary, date})
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func (s *sampler) batch(id string) registry.CreditBatch {
	b, _ := s.r.Batch(id)
	return b
}

func (s *sampler) kids(b registry.CreditBatch) (registry.CreditBatch, registry.CreditBatch) {
	return s.batch(b.LeftChildID), s.batch(b.RightChildID)
}

func serialOf(b registry.CreditBatch) registry.Serial {
	v, _ := registry.ParseSerial(b.SerialNumber)
	return v
}

func sub(v registry.Serial, first, last int64) string {
	v.First, v.Last = first, last
	return v.String()
}

func kgText(kg int64) string { return strconv.FormatInt(kg, 10) }

func dayOf(t registry.Timestamp) string { return t.UTC().Format(time.DateOnly) }

func benef(b registry.CreditBatch) string {
	if b.Beneficiary == nil {
		return ""
	}
	return b.Beneficiary.Name
}

// retiredUnder is the first retired batch under id, breadth first.
func (s *sampler) retiredUnder(id string) (registry.CreditBatch, bool) {
	queue := []registry.CreditBatch{s.batch(id)}
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		if b.Status == registry.StatusRetired {
			return b, true
		}
		queue = append(queue, s.r.Children(b)...)
	}
	return registry.CreditBatch{}, false
}

// build lists the sample's rows. Each row claims units no other row claims, except the rows
// meant to be double_claimed, so that every row shows the one verdict its reference names. It
// is long because it is the list itself, a few lines a verdict.
func (s *sampler) build() {
	d := s.r.d
	f := d.fixtures

	// The all-final tree: root → a, b; every batch two splits down is split into two retired
	// leaves.
	root := s.batch(f.AllFinalRoot)
	a, b := s.kids(root)
	aa, ab := s.kids(a)
	aaa, aab := s.kids(aa)
	aba, abb := s.kids(ab)
	ba, bb := s.kids(b)
	baa, _ := s.kids(ba)
	sAAA, sAB := serialOf(aaa), serialOf(ab)

	// The deep chain: every split retires a small left half.
	cur := s.batch(f.DeepChainRoot)
	var chain []registry.CreditBatch
	for len(chain) < 21 && cur.Status == registry.StatusSplit {
		l, rt := s.kids(cur)
		chain = append(chain, l)
		cur = rt
	}
	tip := s.batch(f.DeepChainLeaf)
	lastRetired, _ := s.kids(s.batch(tip.ParentID))
	sTip := serialOf(tip)

	s.add("verified", "a retired batch by serial, with its kg, beneficiary and day", aaa.SerialNumber, "", "", kgText(aaa.Size.CreditKgs), benef(aaa), dayOf(aaa.RetiredAt))
	s.add("verified", "a range covered by 2 retired batches (their parent's serial)", bb.SerialNumber, "", "", kgText(bb.Size.CreditKgs), "", "")
	s.add("verified", "a split batch by id, covered by its 2 retired leaves, for one beneficiary", "", ba.ID, "", kgText(ba.Size.CreditKgs), benef(baa), "")
	s.add("verified", "250 kg (0.25 credits) inside one retired batch", sub(serialOf(aba), serialOf(aba).First+10, serialOf(aba).First+260), "", "", "250", benef(aba), "")
	s.add("verified", "a range across the split boundary of two retired batches", sub(sAB, serialOf(abb).First-5, serialOf(abb).First+5), "", "", "10", "", "")
	s.add("verified", "a batch id in lower case, as a spreadsheet's LOWER() leaves it", "", strings.ToLower(chain[12].ID), "", "", "", dayOf(chain[12].RetiredAt))
	s.add("verified", "a retired batch by id with its beneficiary in other case and spacing", "", chain[13].ID, "", "", "  "+strings.ToUpper(benef(chain[13]))+" ", "")
	for i, l := range chain[:8] {
		if i%2 == 0 {
			s.add("verified", "a small retirement of a long chain, by serial", l.SerialNumber, "", "", kgText(l.Size.CreditKgs), benef(l), dayOf(l.RetiredAt))
		} else {
			s.add("verified", "a small retirement of a long chain, by id", "", l.ID, "", kgText(l.Size.CreditKgs), "", dayOf(l.RetiredAt))
		}
	}
	two := serialOf(chain[19])
	two.Last = serialOf(chain[20]).Last
	s.add("verified", "a range covered by 2 retired batches of different splits", two.String(), "", "", kgText(two.Size()), "", "")

	ri := d.retIndex[f.Retirement]
	ret := d.retirements[ri]
	s.add("verified", "a retirement by id, with its total, beneficiary and day", "", "", ret.id, kgText(ret.kg), d.orgs[ret.beneficiary].name, formatDate(ret.retiredAt))

	// Malformed rows: the row says which part is wrong.
	s.add("malformed", "a serial number with seven parts", "ISO-1-BSTORE-GBR-F5X7-2024-78177", "", "", "", "", "")
	s.add("malformed", "a range whose last unit is before its first", sub(sAAA, sAAA.Last, sAAA.First), "", "", "", "", "")
	s.add("malformed", "a batch id too short", "", "ctb_12345", "", "", "", "")
	s.add("malformed", "kg with a decimal point (kg are whole)", chain[16].SerialNumber, "", "", "12.5", "", "")
	s.add("malformed", "a date in an order that cannot be told (day or month first?)", "", chain[17].ID, "", "", "", "03/04/2025")

	// Not found.
	s.add("not_found", "a serial number of a project no issuance has", "ISO-1-BSTORE-GBR-NOPE-2024-1-1000", "", "", "", "", "")
	s.add("not_found", "a well-formed batch id the registry does not have", "", "ctb_NOTINTHEDEMO0000", "", "", "", "")
	s.add("not_found", "a well-formed retirement id the registry does not have", "", "", "ret_NOTINTHEDEMO0000", "", "", "")

	// Not retired, partly retired.
	h2 := s.batch(f.HostileOrgBatch)
	big := s.batch(f.BigKgRoot)
	dangling := s.batch(f.DanglingChild)
	s.add("not_retired", "an active batch, still tradable", "", h2.ID, "", "", "", "")
	s.add("not_retired", "an active tree past 2^53 kg, its kg exact to the unit", "", big.ID, "", kgText(big.Size.CreditKgs), "", "")
	s.add("not_retired", "2,000 kg inside the active tip of a long chain, by serial", sub(sTip, sTip.First+1000, sTip.First+3000), "", "", "2000", "", "")
	s.add("partly_retired", "a range over a retired and an active batch", sub(sTip, serialOf(lastRetired).Last-100, sTip.First+100), "", "", "200", "", "")
	s.add("partly_retired", "a split batch, part retired, part held (its tree has a problem too)", "", dangling.LeftChildID, "", "", "", "")

	// Retired for another beneficiary: names that are markup or right-to-left text stay text.
	s.add("retired_for_other", "claimed for another organisation", aab.SerialNumber, "", "", "", "Someone Else Ltd", "")
	s.add("retired_for_other", "a claimed name that is markup", "", chain[14].ID, "", "", `<script>alert("claim")</script>`, "")
	s.add("retired_for_other", "a claimed name in right-to-left script", "", chain[8].ID, "", "", "קרן הגליל \u202Eevil", "")
	hi := d.retIndex[f.HostileRetirement]
	s.add("retired_for_other", "a retirement whose registry beneficiary is markup", "", "", d.retirements[hi].id, "", "Acme", "")

	// Kg and date mismatches.
	s.add("kg_mismatch", "one kg more than the batch holds", "", chain[9].ID, "", kgText(chain[9].Size.CreditKgs+1), "", "")
	s.add("kg_mismatch", "a range claimed as a whole credit more than it holds", chain[10].SerialNumber, "", "", kgText(chain[10].Size.CreditKgs+1000), "", "")
	s.add("date_mismatch", "claimed a day after the registry retired it", "", chain[11].ID, "", "", "", dayOf(registry.Timestamp{Time: chain[11].RetiredAt.AddDate(0, 0, 1)}))
	ri18 := d.retIndex[chain[18].RetirementID]
	r18 := d.retirements[ri18]
	s.add("date_mismatch", "a retirement claimed on another day", "", "", r18.id, "", d.orgs[r18.beneficiary].name, formatDate(r18.retiredAt-400*24*int64(time.Hour/time.Microsecond)))

	// Claimed twice: overlapping ranges, and one batch named twice.
	w, _ := s.retiredUnder(f.WideLeafDeep)
	if w.ID == "" {
		w, _ = s.retiredUnder(f.WideRoot)
	}
	sw := serialOf(w)
	half := sw.First + sw.Size()/2
	s.add("double_claimed", "units also claimed by the next row", sub(sw, sw.First, half+1), "", "", "", "", "")
	s.add("double_claimed", "overlaps the row before by exactly one unit", sub(sw, half, sw.Last), "", "", "", "", "")
	for range 2 {
		s.add("double_claimed", "the same batch named on two rows", "", chain[15].ID, "", "", "", "")
	}

	// Tree problems: the claim holds, but the audit of its tree does not.
	for _, id := range []string{f.SizeMismatch, f.RangeGap, f.MixedIssuance} {
		if rb, ok := s.retiredUnder(id); ok {
			s.add("tree_problem", "a retired batch of a tree whose audit finds a problem", "", rb.ID, "", "", "", "")
		}
	}
}

// BenchClaims is a list of n claims spread evenly over the first trees trees of the dataset
// that have been split at least once and hold at most 500 batches (the huge and wide trees
// left out, so that no one walk dominates; the planted ones too), one identifier a line. Each
// tree's claims go round its batches in breadth-first order, every other one by serial
// number, so a small tree's batches are claimed more than once (double_claimed, which costs
// nothing more). roots are the trees' root batches. The list is the same on every run; n
// must be a multiple of trees.
func (r *Registry) BenchClaims(n, trees int) (list string, roots []string) {
	per := n / trees
	var b strings.Builder
	for _, t := range r.d.trees {
		if len(roots) == trees {
			break
		}
		if t.planted {
			continue
		}
		root := r.d.ids[t.root]
		var batches []registry.CreditBatch
		queue := []string{root}
		for len(queue) > 0 && len(batches) <= 500 {
			bt, ok := r.Batch(queue[0])
			queue = queue[1:]
			if !ok {
				continue
			}
			batches = append(batches, bt)
			for _, k := range r.Children(bt) {
				queue = append(queue, k.ID)
			}
		}
		if len(batches) < 3 || len(batches) > 500 {
			continue
		}
		roots = append(roots, root)
		for i := range per {
			bt := batches[i%len(batches)]
			if i%2 == 1 {
				b.WriteString(bt.SerialNumber + "\n")
			} else {
				b.WriteString(bt.ID + "\n")
			}
		}
	}
	return b.String(), roots
}
