package claims

// Judging a claim against the batches that cover it: which batches hold the claimed units, and
// what each of them says of the claim (status, beneficiary, kg, date, the audit of its tree).

import (
	"slices"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// coverage is the set of unsplit batches that hold a claim's units.
type coverage struct {
	batches             []Covered
	count               int
	kg                  int64 // claimed units found in batches
	retiredKg, activeKg int64
	otherKg             int64 // in batches of a status the explorer does not know
	otherStatus         string
	unknown             bool // part of the tree could not be fetched: the cover is incomplete
	retirements         []string
	retiredBatches      []*registry.CreditBatch
}

func (c *coverage) add(b *registry.CreditBatch, kg int64) {
	c.count++
	c.kg += kg
	cv := Covered{ID: b.ID, SerialNumber: b.SerialNumber, Status: b.Status, Kg: kg, BatchKg: b.Size.CreditKgs}
	switch b.Status {
	case registry.StatusRetired:
		c.retiredKg += kg
		cv.RetirementID, cv.RetiredAt = b.RetirementID, b.RetiredAt.Time
		if b.Beneficiary != nil {
			cv.Beneficiary = b.Beneficiary.Name
		}
		if b.RetirementID != "" && !slices.Contains(c.retirements, b.RetirementID) {
			c.retirements = append(c.retirements, b.RetirementID)
		}
		c.retiredBatches = append(c.retiredBatches, b)
	case registry.StatusActive:
		c.activeKg += kg
	default:
		c.otherKg += kg
		c.otherStatus = string(b.Status)
	}
	if len(c.batches) < maxCovered {
		c.batches = append(c.batches, cv)
	}
}

// cover collects the unsplit batches under n that hold units of s (all of them when s is nil),
// following left and right children only: a child that only claims its parent (parent_id)
// holds none of the parent's units.
func cover(n *lineage.Node, s *registry.Serial) coverage {
	var c coverage
	if n == nil {
		c.unknown = true
		return c
	}
	stack := []*lineage.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Batch == nil {
			if x.Missing == lineage.MissingFetchFailed || x.Missing == lineage.MissingTruncated {
				c.unknown = true
			}
			continue
		}
		kg := x.Batch.Size.CreditKgs
		if s != nil {
			bs, err := registry.ParseSerial(x.Batch.SerialNumber)
			if err != nil || !bs.Overlaps(*s) {
				continue
			}
			kg = min(bs.Last, s.Last) - max(bs.First, s.First)
		}
		if x.Batch.Status == registry.StatusSplit && len(x.Children) > 0 {
			for i := len(x.Children) - 1; i >= 0; i-- {
				if k := x.Children[i]; k.Link == lineage.LinkLeft || k.Link == lineage.LinkRight {
					stack = append(stack, k)
				}
			}
			continue
		}
		c.add(x.Batch, kg)
	}
	return c
}

// judge gives the findings of a serial or batch claim from the batches that cover it and the
// audit of their tree.
func (ch *Checker) judge(r *Result, problems []lineage.Problem, cov coverage) {
	r.Batches, r.CoverCount, r.Retirements = cov.batches, cov.count, cov.retirements
	if cov.unknown {
		r.add(Unchecked, "part of the batch's tree could not be fetched from the registry: retry later")
	}
	switch {
	case cov.count == 0:
		if !cov.unknown && !hasCode(r.Findings, NotFound) {
			r.add(NotFound, "no batch of the registry holds the claimed units")
		}
	case cov.retiredKg == 0:
		r.add(NotRetired, "not retired: %s kg in %d active %s, still tradable", fmtKg(cov.activeKg+cov.otherKg), cov.count, plural(cov.count, "batch", "batches"))
	case cov.activeKg > 0 || cov.otherKg > 0:
		f := r.add(PartlyRetired, "partly retired: %s kg retired and %s kg still active across %d batches", fmtKg(cov.retiredKg), fmtKg(cov.activeKg+cov.otherKg), cov.count)
		f.FoundKg = cov.retiredKg
	}
	if cov.otherKg > 0 {
		r.add(NotRetired, "%s kg are in batches whose status %q the explorer does not know", fmtKg(cov.otherKg), registry.TruncateForError(cov.otherStatus))
	}
	claim := r.Claim
	if claim.Beneficiary != "" {
		others := map[string]int64{}
		var names []string
		for _, b := range cov.retiredBatches {
			var org registry.Organisation
			if b.Beneficiary != nil {
				org = *b.Beneficiary
			}
			if !sameBeneficiary(claim.Beneficiary, org) {
				if _, ok := others[org.Name]; !ok {
					names = append(names, org.Name)
				}
				others[org.Name] += b.Size.CreditKgs
			}
		}
		for _, name := range names {
			shown := name
			if shown == "" {
				shown = "no beneficiary"
			}
			f := r.add(RetiredForOther, "claimed for %q, but batches holding it were retired for %q", claim.Beneficiary, shown)
			f.Claimed, f.Found = claim.Beneficiary, name
		}
	}
	ch.judgeKg(r)
	if !claim.Date.IsZero() {
		var seen []string
		for _, b := range cov.retiredBatches {
			if b.RetiredAt.IsZero() || sameDay(claim.Date, b.RetiredAt.Time) {
				continue
			}
			if d := day(b.RetiredAt.Time); !slices.Contains(seen, d) {
				seen = append(seen, d)
				f := r.add(DateMismatch, "claimed as retired on %s, but %s was retired on %s", day(claim.Date), b.ID, d)
				f.Claimed, f.Found = day(claim.Date), d
			}
		}
	}
	if len(problems) > 0 {
		kinds := []string{}
		for _, p := range problems {
			if !slices.Contains(kinds, string(p.Kind)) {
				kinds = append(kinds, string(p.Kind))
			}
		}
		r.add(TreeProblem, "the audit of the batch's tree found %d %s (%s); see the lineage page", len(problems), plural(len(problems), "problem", "problems"), strings.Join(kinds, ", "))
	}
}

func (ch *Checker) judgeKg(r *Result) {
	if !r.Claim.HasKg || r.Claim.Kg == r.FoundKg || hasCode(r.Findings, NotFound) && r.FoundKg == 0 {
		return
	}
	f := r.add(KgMismatch, "claimed %s kg, the registry holds %s kg", fmtKg(r.Claim.Kg), fmtKg(r.FoundKg))
	f.ClaimedKg, f.FoundKg = r.Claim.Kg, r.FoundKg
}

// sameBeneficiary compares a claimed beneficiary with the registry's: its org_ id, or its
// name with case and runs of white space aside.
func sameBeneficiary(claimed string, org registry.Organisation) bool {
	if org.ID != "" && strings.EqualFold(strings.TrimSpace(claimed), org.ID) {
		return true
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return org.Name != "" && norm(claimed) == norm(org.Name)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func blockOf(s registry.Serial) registry.Serial {
	s.First, s.Last = 0, 0
	return s
}

// merge adds o's batches and figures to c: the cover of a range that spans several trees.
func (c *coverage) merge(o coverage) {
	c.count += o.count
	c.kg += o.kg
	c.retiredKg += o.retiredKg
	c.activeKg += o.activeKg
	c.otherKg += o.otherKg
	if o.otherStatus != "" {
		c.otherStatus = o.otherStatus
	}
	c.unknown = c.unknown || o.unknown
	for _, id := range o.retirements {
		if !slices.Contains(c.retirements, id) {
			c.retirements = append(c.retirements, id)
		}
	}
	c.retiredBatches = append(c.retiredBatches, o.retiredBatches...)
	c.batches = append(c.batches, o.batches[:min(len(o.batches), maxCovered-len(c.batches))]...)
}
