package views

import (
	"strings"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// AuditView is the audit panel of a lineage: a verdict with the tree's figures, then every
// problem with links to the batches involved.
type AuditView struct {
	Clean bool // nothing found at all
	// Figures is the clean tree's "adds up" line, e.g. "1,023 batches, 1,024,000 kg conserved".
	Figures string
	// Checked says what was checked, with the number of splits.
	Checked string
	// Conserved is set when problems were found but every split still adds up: the same
	// figures, so that the reader knows the sizes at least hold.
	Conserved string
	Count     int         // problems, of every kind
	Kinds     []KindCount // problems by kind, in the order first found
	Problems  []ProblemView
	// NotListed is how many problems are beyond the page's bound (still marked in the tree).
	NotListed int
}

// KindCount is how many problems of one kind the audit found.
type KindCount struct {
	Class string // the kind as the registry names it, e.g. "size_mismatch"
	Label string // in words, e.g. "Size mismatch"
	Count int
}

// KindsText lists the kinds found, with a count where there are several: "Size mismatch,
// Range partition ×2".
func (v AuditView) KindsText() string {
	parts := make([]string, len(v.Kinds))
	for i, k := range v.Kinds {
		parts[i] = k.Label
		if k.Count > 1 {
			parts[i] += " ×" + FormatCount(k.Count)
		}
	}
	return strings.Join(parts, ", ")
}

// newAudit builds the audit panel. href gives where a batch id links on this page (its row,
// or its own page when the row is not rendered).
func newAudit(t *lineage.Tree, maxListed int, href func(id string) string) AuditView {
	s := t.Summary()
	v := AuditView{Clean: s.Clean(), Count: s.Problems}
	figures := FormatCount(s.Batches) + " " + plural(s.Batches, "batch", "batches") + ", " + FormatKg(s.ConservedKg) + " kg conserved"
	atSplits := "Checked at each of the " + FormatCount(s.Splits) + " splits"
	switch s.Splits {
	case 0:
		atSplits = "No split to check (at a split: "
	case 1:
		atSplits = "Checked at its one split"
	}
	v.Checked = atSplits + ": kg conserved to the kilogram, two children whose parent_id points back, serial ranges that partition the parent's"
	if s.Splits == 0 {
		v.Checked += ")"
	}
	v.Checked += "; across the tree: one issuance, project and supplier, coherent statuses, no cycle, dangling or repeated id."
	if v.Clean {
		v.Figures = figures
	} else if s.Conserved {
		v.Conserved = figures
	}
	at := map[lineage.ProblemKind]int{}
	for i, p := range t.Problems {
		if j, ok := at[p.Kind]; ok {
			v.Kinds[j].Count++
		} else {
			at[p.Kind] = len(v.Kinds)
			v.Kinds = append(v.Kinds, KindCount{Class: string(p.Kind), Label: problemLabel(p.Kind), Count: 1})
		}
		if i >= maxListed {
			v.NotListed++
			continue
		}
		pv := problemView(p, href(p.BatchID))
		if p.Related != "" {
			pv.Related, pv.RelatedHref, pv.RelatedRole = p.Related, href(p.Related), relatedRole(p.Kind)
		}
		v.Problems = append(v.Problems, pv)
	}
	return v
}

// relatedRole says how a problem's other batch is involved, in words that read after its id.
func relatedRole(k lineage.ProblemKind) string {
	switch k {
	case lineage.ProblemDangling, lineage.ProblemInvalidLink, lineage.ProblemFetchFailed:
		return "linked from"
	case lineage.ProblemParentMismatch:
		return "listed as a child by"
	case lineage.ProblemUnlisted:
		return "its parent_id names"
	case lineage.ProblemCycle:
		return "links back to"
	case lineage.ProblemRepeated:
		return "links to"
	case lineage.ProblemMixedLineage:
		return "root"
	case lineage.ProblemRangePartition:
		return "child"
	}
	return "with"
}
