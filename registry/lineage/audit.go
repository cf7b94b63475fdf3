package lineage

import (
	"cmp"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

// The problems the audit adds to those of the walk.
const (
	// ProblemSizeMismatch: a split's children do not add up to it, to the kg.
	ProblemSizeMismatch ProblemKind = "size_mismatch"
	// ProblemSplitShape: a split batch without exactly two children, or an unsplit one with children.
	ProblemSplitShape ProblemKind = "split_shape"
	// ProblemStatus: a status that contradicts the rest of the record (retired without a
	// retirement id or date, say).
	ProblemStatus ProblemKind = "status"
	// ProblemMixedLineage: a batch whose issuance, project or supplier differs from its root's.
	ProblemMixedLineage ProblemKind = "mixed_lineage"
	// ProblemSerial: a serial number that cannot be read, or whose range does not hold credit_kgs units.
	ProblemSerial ProblemKind = "serial"
	// ProblemRangePartition: a split's children's serial ranges do not partition its own: a
	// unit held by two children, by none, or by a child outside the parent's range. The
	// detail names the units; the tree is then not conserved, whatever the kg say.
	ProblemRangePartition ProblemKind = "range_partition"
	// ProblemCredits: a batch's credits disagree with its credit_kgs (1,000 kg = 1 credit).
	// The kg are the truth: every figure is computed from them.
	ProblemCredits ProblemKind = "credits_mismatch"
	// ProblemUnreadable: a field of the batch's record holds a value that cannot be read as
	// its type (a date that is no date, a size in quotes); it is shown as sent.
	ProblemUnreadable ProblemKind = "unreadable_field"
)

// AuditSummary is what the audit found, in figures for a clean tree's "adds up" line.
type AuditSummary struct {
	Batches     int   // batches checked (present in the tree)
	Splits      int   // splits whose sizes were checked
	RootKg      int64 // the root batch's size, kg
	Conserved   bool  // every split adds up, in kg and in units, and the unsplit batches (every status) hold the root's kg exactly
	ConservedKg int64 // RootKg when Conserved, else 0 (which is then no figure: see Conserved)
	Problems    int   // problems of every kind, walk and audit
}

// Clean reports whether the tree has no problem at all.
func (s AuditSummary) Clean() bool { return s.Problems == 0 }

// audit checks the whole tree and adds what it finds to t.Problems. It never changes a figure:
// a total that does not add up is reported, not fixed.
func (t *Tree) audit() {
	root := t.Root
	if root == nil {
		return
	}
	t.Each(func(n *Node) bool {
		b := n.Batch
		if b == nil {
			return true
		}
		for _, u := range b.Unread() {
			t.AddProblem(Problem{Kind: ProblemUnreadable, BatchID: n.ID, Detail: unreadDetail(n.ID, u)})
		}
		t.auditStatus(n)
		if root.Batch != nil && n != root {
			t.auditLineage(root.Batch, b)
		}
		if sr, err := registry.ParseSerial(b.SerialNumber); err != nil {
			t.AddProblem(Problem{Kind: ProblemSerial, BatchID: b.ID,
				Detail: fmt.Sprintf("serial number %q cannot be read", registry.TruncateForError(b.SerialNumber))})
		} else if sr.Size() != b.Size.CreditKgs {
			t.AddProblem(Problem{Kind: ProblemSerial, BatchID: b.ID,
				Detail: fmt.Sprintf("serial range %d–%d holds %s units, but credit_kgs is %s", sr.First, sr.Last, FormatKg(sr.Size()), FormatKg(b.Size.CreditKgs))})
		}
		if p, ok := creditsProblem(b); ok {
			t.AddProblem(p)
		}
		if b.Status == registry.StatusSplit {
			t.auditSplit(n)
		}
		return true
	})
}

// creditsProblem reports a batch whose credits disagree with its credit_kgs.
func creditsProblem(b *registry.CreditBatch) (Problem, bool) {
	sent, bad := creditsDisagree(b.Size)
	if !bad {
		return Problem{}, false
	}
	return Problem{Kind: ProblemCredits, BatchID: b.ID,
		Detail: fmt.Sprintf("%s has credits %s, but its credit_kgs %s kg make %s credits; the kg are taken as the truth",
			b.ID, sent, FormatKg(b.Size.CreditKgs), registry.FormatCredits(b.Size.CreditKgs))}, true
}

// recordCreditsProblem reports a quantity of a record (an issuance's or a retirement's total,
// named by field) whose credits disagree with its credit_kgs; the problem is marked at the
// record's id.
func recordCreditsProblem(id, field string, q registry.Quantity) (Problem, bool) {
	sent, bad := creditsDisagree(q)
	if !bad {
		return Problem{}, false
	}
	return Problem{Kind: ProblemCredits, BatchID: id,
		Detail: fmt.Sprintf("%s has %s credits %s, but its credit_kgs %s kg make %s credits; the kg are taken as the truth",
			id, field, sent, FormatKg(q.CreditKgs), registry.FormatCredits(q.CreditKgs))}, true
}

// maxCreditsText bounds the credits text read as a number: an int64 of kg makes at most 20
// digits of credits, so a longer text only ever disagrees (with its zeros, say).
const maxCreditsText = 64

// creditsDisagree reports whether a quantity's credits (as sent, returned shortened for a
// message) disagree with its credit_kgs (1,000 kg = 1 credit). A registry that renders credits
// through a float64 cannot send the last digits of a size past 2^53 kg, so credits equal to
// the double nearest the exact value are no disagreement: only the kg carry the size, and
// they are exact. Absent credits say nothing.
func creditsDisagree(q registry.Quantity) (sent string, bad bool) {
	sent = q.Credits.String()
	if sent == "" {
		return "", false
	}
	if len(sent) > maxCreditsText {
		return registry.TruncateForError(sent), true
	}
	if i := strings.IndexAny(sent, "eE"); i >= 0 {
		// Reading 1e999999 exactly takes big.Rat tens of milliseconds, per batch: with a
		// mantissa this short, an exponent past ±128 cannot give a credit count an int64 of kg
		// makes, unless both are zero.
		if exp, err := strconv.Atoi(sent[i+1:]); err != nil || exp > 128 || exp < -128 {
			zero := strings.Trim(sent[:i], "+-0.") == ""
			return registry.TruncateForError(sent), !(zero && q.CreditKgs == 0)
		}
	}
	exact := new(big.Rat).SetFrac(big.NewInt(q.CreditKgs), big.NewInt(1000))
	got, ok := new(big.Rat).SetString(sent)
	if ok && got.Cmp(exact) == 0 {
		return "", false
	}
	if ok {
		near, _ := exact.Float64()
		if f, err := strconv.ParseFloat(sent, 64); err == nil && f == near {
			return "", false
		}
	}
	return registry.TruncateForError(sent), true
}

func (t *Tree) auditStatus(n *Node) {
	b := n.Batch
	kids := len(b.Children())
	switch b.Status {
	case registry.StatusSplit:
		if kids != 2 {
			t.AddProblem(Problem{Kind: ProblemSplitShape, BatchID: b.ID,
				Detail: fmt.Sprintf("%s is split but lists %d %s instead of 2", b.ID, kids, map[bool]string{true: "child", false: "children"}[kids == 1])})
		}
	case registry.StatusRetired, registry.StatusActive:
		if kids > 0 {
			t.AddProblem(Problem{Kind: ProblemSplitShape, BatchID: b.ID,
				Detail: fmt.Sprintf("%s is %s yet lists %d children: only a split batch has children", b.ID, b.Status, kids)})
		}
	default:
		t.AddProblem(Problem{Kind: ProblemStatus, BatchID: b.ID,
			Detail: fmt.Sprintf("%s has an unknown status %q", b.ID, registry.TruncateForError(string(b.Status)))})
	}
	if b.Status == registry.StatusRetired {
		var lacks []string
		if b.RetirementID == "" {
			lacks = append(lacks, "retirement_id")
		}
		if b.RetiredAt.IsZero() && !b.RetiredAt.Unread() {
			lacks = append(lacks, "retired_at")
		}
		if b.Beneficiary == nil {
			lacks = append(lacks, "beneficiary")
		}
		if len(lacks) > 0 {
			t.AddProblem(Problem{Kind: ProblemStatus, BatchID: b.ID,
				Detail: fmt.Sprintf("%s is retired but has no %s", b.ID, joinAnd(lacks))})
		}
	} else if b.RetirementID != "" || !b.RetiredAt.IsZero() || b.RetiredAt.Unread() {
		t.AddProblem(Problem{Kind: ProblemStatus, BatchID: b.ID,
			Detail: fmt.Sprintf("%s is %s but carries a retirement", b.ID, b.Status)})
	}
}

func (t *Tree) auditLineage(root, b *registry.CreditBatch) {
	var differs []string
	for _, f := range []struct{ name, want, got string }{
		{"issuance_id", root.IssuanceID, b.IssuanceID},
		{"project_id", root.ProjectID, b.ProjectID},
		{"supplier_id", root.SupplierID, b.SupplierID},
	} {
		if f.want != f.got {
			differs = append(differs, fmt.Sprintf("%s %s (root: %s)", f.name, orNull(f.got), orNull(f.want)))
		}
	}
	if len(differs) > 0 {
		t.AddProblem(Problem{Kind: ProblemMixedLineage, BatchID: b.ID, Related: root.ID,
			Detail: fmt.Sprintf("%s has %s; every batch of a tree shares its root's", b.ID, strings.Join(differs, ", "))})
	}
}

// auditSplit checks that a split's present children add up to it, in kg and in serial range.
func (t *Tree) auditSplit(n *Node) {
	b := n.Batch
	var kids []*registry.CreditBatch
	for _, c := range n.Children {
		if c.Link == LinkClaimed {
			continue
		}
		if c.Batch == nil || c.Missing == MissingRepeated {
			return // a missing child is reported by the walk; the sum cannot be checked
		}
		kids = append(kids, c.Batch)
	}
	if len(kids) == 0 {
		return
	}
	var sum int64
	overflow := false
	for _, k := range kids {
		kg := k.Size.CreditKgs
		next := sum + kg
		if sum > 0 && kg > 0 && next < 0 || sum < 0 && kg < 0 && next >= 0 {
			overflow = true
		}
		sum = next
	}
	if overflow || sum != b.Size.CreditKgs {
		t.AddProblem(Problem{Kind: ProblemSizeMismatch, BatchID: b.ID,
			Detail: fmt.Sprintf("%s is %s kg, but its children add up to %s kg (%s)", b.ID, FormatKg(b.Size.CreditKgs), sumText(sum, overflow), diffText(b.Size.CreditKgs, sum, overflow))})
	}
	pr, err := registry.ParseSerial(b.SerialNumber)
	if err != nil {
		return // reported as unreadable above
	}
	var ranges []childRange
	for _, k := range kids {
		kr, err := registry.ParseSerial(k.SerialNumber)
		if err != nil {
			return // reported as unreadable above; the units cannot be placed
		}
		if !kr.SameBlock(pr) {
			t.AddProblem(Problem{Kind: ProblemRangePartition, BatchID: b.ID, Related: k.ID,
				Detail: fmt.Sprintf("%s is %s, but its child %s is %s, in another block of units: none of its units lie in the parent's", b.ID, pr, k.ID, kr)})
			continue
		}
		ranges = append(ranges, childRange{id: k.ID, first: kr.First, last: kr.Last})
	}
	for _, d := range partitionFaults(b.ID, pr.First, pr.Last, ranges) {
		t.AddProblem(Problem{Kind: ProblemRangePartition, BatchID: b.ID, Related: d.related, Detail: d.detail})
	}
}

// childRange is a child's units, half-open: [first, last).
type childRange struct {
	id          string
	first, last int64
}

type partitionFault struct{ related, detail string }

// partitionFaults compares the children's units with the parent's [first, last), all half-open
// (a batch holds last-first units: PRODUCT.md), and names every unit held by two children, by
// no child, or by a child outside the parent, as runs of units. The order of the children does
// not matter: only which units each holds.
func partitionFaults(parent string, first, last int64, kids []childRange) []partitionFault {
	// Sweep the boundaries: between two consecutive ones, every unit is held by the same set
	// of children.
	type edge struct {
		at    int64
		delta int
		id    string
	}
	var edges []edge
	for _, k := range kids {
		if k.last > k.first {
			edges = append(edges, edge{k.first, 1, k.id}, edge{k.last, -1, k.id})
		}
	}
	edges = append(edges, edge{first, 0, ""}, edge{last, 0, ""})
	slices.SortStableFunc(edges, func(a, b edge) int { return cmp.Compare(a.at, b.at) })
	holders := map[string]bool{}
	var out []partitionFault
	for i := 0; i < len(edges); {
		at := edges[i].at
		for ; i < len(edges) && edges[i].at == at; i++ {
			switch edges[i].delta {
			case 1:
				holders[edges[i].id] = true
			case -1:
				delete(holders, edges[i].id)
			}
		}
		if i == len(edges) {
			break
		}
		next := edges[i].at
		inside := at >= first && next <= last
		ids := slices.Sorted(maps.Keys(holders))
		units := unitsText(at, next)
		switch {
		case !inside && len(ids) > 0:
			out = append(out, partitionFault{ids[0], fmt.Sprintf("%s: %s %s outside its units %s, yet held by %s", parent, units, verb(at, next, "lies", "lie"), unitsSpan(first, last), strings.Join(ids, " and "))})
		case inside && len(ids) == 0:
			out = append(out, partitionFault{"", fmt.Sprintf("%s: %s %s held by no child", parent, units, verb(at, next, "is", "are"))})
		case inside && len(ids) > 1:
			out = append(out, partitionFault{ids[0], fmt.Sprintf("%s: %s %s held by both %s", parent, units, verb(at, next, "is", "are"), strings.Join(ids, " and "))})
		}
	}
	return out
}

// unitsText names the units [from, to) as a reader counts them: "unit 2499", or "units
// 2500–2599 (100 units)", the last unit included. Positions are left ungrouped, to be read
// against the serial number's own digits.
func unitsText(from, to int64) string {
	if to-from == 1 {
		return fmt.Sprintf("unit %d", from)
	}
	return fmt.Sprintf("units %s (%s units)", unitsSpan(from, to), FormatKg(to-from))
}

func unitsSpan(from, to int64) string { return fmt.Sprintf("%d–%d", from, to-1) }

func verb(from, to int64, one, many string) string {
	if to-from == 1 {
		return one
	}
	return many
}

// Summary gives the audit's figures for the tree.
func (t *Tree) Summary() AuditSummary {
	s := AuditSummary{Problems: len(t.Problems)}
	if t.Root != nil && t.Root.Batch != nil {
		s.RootKg = t.Root.Batch.Size.CreditKgs
	}
	sizeOK := true
	for _, p := range t.Problems {
		switch p.Kind {
		case ProblemSizeMismatch, ProblemRangePartition, ProblemDangling, ProblemFetchFailed, ProblemTruncated:
			sizeOK = false
		}
	}
	t.Each(func(n *Node) bool {
		if n.Batch != nil && n.Missing == MissingNone {
			s.Batches++
			if n.Batch.Status == registry.StatusSplit {
				s.Splits++
			}
		}
		return true
	})
	if sizeOK {
		tot := t.Totals()
		if tot.SumKg() == s.RootKg {
			s.Conserved, s.ConservedKg = true, s.RootKg
		}
	}
	return s
}

// unreadDetail says which field of batch id could not be read, and what it held, quoted and
// cut short ("ctb_…: delivered_at is not a date: the registry sent "not a date"").
func unreadDetail(id string, u registry.UnreadField) string {
	if u.Field == "" {
		return fmt.Sprintf("%s: the registry's record is %s; it sent %s", id, u.Why, registry.TruncateForError(u.Raw))
	}
	return fmt.Sprintf("%s: %s is %s; the registry sent %s, shown as sent", id, u.Field, u.Why, registry.TruncateForError(u.Raw))
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	out := xs[0]
	for _, x := range xs[1 : len(xs)-1] {
		out += ", " + x
	}
	return out + " or " + xs[len(xs)-1]
}

func sumText(sum int64, overflow bool) string {
	if overflow {
		return "more than an int64 holds"
	}
	return FormatKg(sum)
}

func diffText(parent, sum int64, overflow bool) string {
	switch {
	case overflow:
		return "overflow"
	case sum < parent:
		return FormatKg(parent-sum) + " kg short"
	default:
		return FormatKg(sum-parent) + " kg too many"
	}
}

// FormatKg renders kg (or a count of units) with thousands separators, exactly, in integers:
// 45000000 → "45,000,000". Audit details are read next to the pages' figures, which group
// digits the same way; float64 would lose units past 2^53. Serial unit positions are left
// ungrouped by the callers, since they are read against the serial number's own digits.
func FormatKg(kg int64) string {
	s := strconv.FormatInt(kg, 10)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	out = append(out, s[:first]...)
	for i := first; i < len(s); i += 3 {
		out = append(out, ',')
		out = append(out, s[i:i+3]...)
	}
	return sign + string(out)
}
