package views

import (
	"strconv"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// DefaultPartialRows bounds the batches of a tree shown while its walk runs, besides the path
// to the batch: the progress page reloads every second, so a 30,000-batch walk must not
// render (nor copy) its whole tree each time.
const DefaultPartialRows = 250

// PartialLineage is what a progress page shows of a tree while its walk runs: the batch
// itself, its path from the highest batch reached, and the part of the tree walked so far
// (bounded), each branch still being walked marked; totals that are provisional and no audit
// verdict, since the batches still to fetch could change either.
type PartialLineage struct {
	Header BatchHeader // the batch itself
	Path   PathView    // from the highest batch reached down to the batch
	// RootReached: the climb has reached the batch its issuance created, so the path is
	// whole. Climbing: the climb is still under way (the path will grow upwards).
	RootReached, Climbing bool
	Tree                  TreeView // the copied part of the tree, with the walk's marks
	// Shown is the batches in Tree, Known the batches the walk knows of so far; NotShown
	// (Known - Shown) are left out to keep the page light, Limit is the bound that did it.
	Shown, Known, NotShown, Limit int
	// Provisional totals: the kg of the fetched batches that were split no further, by status,
	// and the root's kg ("" until the climb has reached it), formatted.
	ActiveCredits, ActiveKg   string
	RetiredCredits, RetiredKg string
	OtherCredits, OtherKg     string
	HasOther                  bool
	RootCredits, RootKg       string
}

// The marks of a row while its tree is walked.
const (
	walkPendingMark = "not yet walked"
	walkUnderMark   = "still walking"
)

// NewPartialLineage builds the partial view of a snapshot taken with limit (see
// lineage.Progress.Snapshot); active, retired, other and root are the walk's provisional
// figures in kg (lineage.Progress.SoFar). It returns nil for a nil snapshot (the walk has not
// fetched the batch yet, or is over).
func NewPartialLineage(s *lineage.Snapshot, active, retired, other, root int64, limit int, opt LineageOptions) *PartialLineage {
	if s == nil || s.Tree.Target == nil {
		return nil
	}
	opt = opt.withDefaults()
	opt.MaxRows = s.Shown + 1 // the snapshot is the bound: render all of it
	t := s.Tree
	l := newLayout(t, t.Target.ID, opt)
	h := newHeader(t.Target)
	h.Sub = true
	p := &PartialLineage{Header: h, Tree: l.page(), Path: l.path(),
		Shown: s.Shown, Known: s.Known, NotShown: max(s.Known-s.Shown, 0), Limit: limit, Climbing: !s.Climbed}
	if top := t.Root; top != nil && top.Batch != nil && top.Batch.ParentID == "" {
		p.RootReached = true
	}
	if !p.RootReached && p.Climbing {
		p.Path.Incomplete = false // not a failure yet: the climb goes on
	}
	if !p.RootReached {
		// Depths and shares would be counted from the highest batch found, not the root.
		for _, rows := range [][]NodeRow{p.Path.Head, p.Path.Middle, p.Path.Tail} {
			for i := range rows {
				rows[i].DepthUnknown = true
			}
		}
		markItems(p.Tree.Items, func(r *NodeRow) { r.Share = "" })
	}
	marks := map[string]string{}
	t.Each(func(n *lineage.Node) bool {
		if t.Nodes[n.ID] != n {
			return true // a repeated id's second place: marked where it is shown
		}
		var m string
		switch s.State(n) {
		case lineage.WalkPending:
			m = walkPendingMark
		case lineage.WalkUnder:
			m = walkUnderMark
		}
		if k := s.Unshown(n); k > 0 {
			m = joinMark(m, strconv.Itoa(k)+" "+plural(k, "half", "halves")+" not shown yet")
		}
		if m != "" {
			marks[n.ID] = m
		}
		return true
	})
	markWalk(p.Tree.Items, marks)
	p.ActiveCredits, p.ActiveKg = FormatCredits(active), FormatKg(active)
	p.RetiredCredits, p.RetiredKg = FormatCredits(retired), FormatKg(retired)
	p.OtherCredits, p.OtherKg, p.HasOther = FormatCredits(other), FormatKg(other), other > 0
	if root > 0 {
		p.RootCredits, p.RootKg = FormatCredits(root), FormatKg(root)
	}
	return p
}

func joinMark(a, b string) string {
	if a == "" {
		return b
	}
	return a + " · " + b
}

// markWalk puts the walk's marks on the rows that carry their batch's anchor (the one place
// a batch is shown in full). It recurses only as deep as the items nest (MaxNest).
func markWalk(items []TreeItem, marks map[string]string) {
	for i := range items {
		if items[i].Row.Anchor != "" {
			items[i].Row.Walk = marks[items[i].Row.ID]
		}
		markWalk(items[i].Children, marks)
	}
}
