package views

import (
	"net/url"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// ChartURL is the icicle chart of one branch of the lineage tree of the batch id, drawn from
// the batch from (its subtree spans the full width); from "" is the branch of id itself
// (BranchOf). It works without script: each bar of that chart links to the chart from that bar.
func ChartURL(id, from string) string {
	u := "/batches/" + url.PathEscape(id) + "/chart"
	if from != "" {
		u += "?from=" + url.QueryEscape(from)
	}
	return u
}

// branchWidth is how many times a batch's kg its branch may hold at most: the batch then takes
// at least a 32nd of the zoomed chart (30 units of 960), wide enough to see and to click.
const branchWidth = 32

// BranchOf is the node a zoomed chart of n starts from: the highest ancestor of n of at most
// branchWidth times n's kg, and at least n's parent, so that n shows beside its other half.
// The root is its own branch. A batch of unknown or zero size gets its parent.
func BranchOf(n *lineage.Node) *lineage.Node {
	if n == nil || n.Parent == nil {
		return n
	}
	from := n.Parent
	kg := kgOf(n)
	if kg <= 0 {
		return from
	}
	for from.Parent != nil {
		up := kgOf(from.Parent)
		if up < 0 || up/branchWidth > kg || (up/branchWidth == kg && up%branchWidth != 0) {
			break
		}
		from = from.Parent
	}
	return from
}

// ChartPage is the icicle chart of one branch of a lineage tree, zoomed in so that a batch
// that is a sliver of the whole tree's chart can be seen and followed.
type ChartPage struct {
	Base
	ID       string // the batch whose lineage this is (outlined when inside the branch)
	From     string // the batch the chart starts from
	FromRoot bool   // From is the tree's root: the chart is the whole tree's
	Depth    int    // splits from the root to From
	Batches  string // batches in the branch, formatted
	PageURL  string // the lineage page of ID
	FromURL  string // the lineage page of From
	UpURL    string // the chart from From's parent; "" at the root
	TreeURL  string // the chart of the whole tree; "" when From is the root
	HereURL  string // the chart of ID's own branch; "" when this is it
	Chart    IcicleView
}

// NewChartPage builds the chart of t (the tree of t.Target) from the node from, which must be
// in t. Its bars lead to the chart from that bar, and a leaf's to the leaf's lineage page.
func NewChartPage(base Base, t *lineage.Tree, from *lineage.Node, opt IcicleOptions) ChartPage {
	id := t.Target.ID
	p := ChartPage{Base: base, ID: id, From: from.ID, FromRoot: from == t.Root, Depth: from.Depth,
		PageURL: BatchURL(id), FromURL: BatchURL(from.ID)}
	if from.Parent != nil {
		p.UpURL = ChartURL(id, from.Parent.ID)
		p.TreeURL = ChartURL(id, t.Root.ID)
	}
	if BranchOf(t.Target) != from {
		p.HereURL = ChartURL(id, "")
	}
	// The branch as a tree of its own: the same nodes and problems, its root moved down.
	branch := *t
	branch.Root = from
	opt.Current = id
	opt.Link = func(bar string) string {
		if n := t.Nodes[bar]; n != nil && len(n.Children) > 0 {
			return ChartURL(id, bar)
		}
		return BatchURL(bar)
	}
	p.Chart = NewIcicle(&branch, opt)
	p.Batches = FormatCount(p.Chart.Batches)
	return p
}
