package lineage

import (
	"fmt"
	"github.com/lineage-explorer/explorer/registry"
	"strconv"
	"strings"
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
	// ProblemRangePartition: a split's children's serial ranges do not partition its own.
	ProblemRangePartition ProblemKind = "range_partition"
	// ProblemUnreadable: a field of the batch's record holds a value that cannot be read as
	// its type (a date that is no date, a size in quotes); it is shown as sent.
	ProblemUnreadable ProblemKind = "unreadable_field"
)

// AuditSummary is what the audit found, in figures for a clean tree's "adds up" line.
type AuditSummary struct {
	Batches     int   // batches checked (present in the tree)
	Splits      int   // splits whose sizes were checked
	RootKg      int64 // the root batch's size, kg
	Conserved   bool  // every split adds up and the unsplit batches hold the root's kg exactly
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
		if b.Status == registry.StatusSplit {
			t.auditSplit(n)
		}
		return true
	})
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
	next := pr.First
	for _, k := range kids {
		kr, err := registry.ParseSerial(k.SerialNumber)
		if err != nil {
			return
		}
		if !sameBlock(kr, pr) || kr.First != next {
			t.AddProblem(Problem{Kind: ProblemRangePartition, BatchID: b.ID, Related: k.ID,
				Detail: fmt.Sprintf("%s covers units %d–%d, but child %s is %s where units from %d were expected", b.ID, pr.First, pr.Last, k.ID, kr, next)})
			return
		}
		next = kr.Last
	}
	if next != pr.Last {
		t.AddProblem(Problem{Kind: ProblemRangePartition, BatchID: b.ID,
			Detail: fmt.Sprintf("%s covers units %d–%d, but its children end at %d", b.ID, pr.First, pr.Last, next)})
	}
}

// Summary gives the audit's figures for the tree.
func (t *Tree) Summary() AuditSummary {
	s := AuditSummary{Problems: len(t.Problems)}
	if t.Root != nil && t.Root.Batch != nil {
		s.RootKg = t.Root.Batch.Size.CreditKgs
	}
	sizeOK := true
	for _, p := range t.Problems {
		if p.Kind == ProblemSizeMismatch || p.Kind == ProblemDangling || p.Kind == ProblemFetchFailed || p.Kind == ProblemTruncated {
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
		if tot.ActiveKg+tot.RetiredKg == s.RootKg {
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

// sameBlock reports whether two serials differ at most in their unit range.
func sameBlock(a, b registry.Serial) bool {
	a.First, a.Last, b.First, b.Last = 0, 0, 0, 0
	return a == b
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
