package views

// The layout of a lineage tree on a page: which branches open, how long runs of single-child
// splits fold, where the node bound collapses a large tree into fragments loaded on demand.

import (
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// layout decides which rows a tree renders, which are open, and how they nest.
type layout struct {
	t      *lineage.Tree
	target string
	opt    LineageOptions
	rootKg int64

	desc     map[*lineage.Node]int // descendants
	probs    map[*lineage.Node]int // problems marked in the subtree, the node included
	run      map[*lineage.Node]int // length of the single-continuation run starting here
	expanded map[*lineage.Node]bool
	open     map[*lineage.Node]bool
	onPath   map[*lineage.Node]bool
	rows     int
	maxDepth int
	rendered map[string]bool // ids whose row carries the anchor on this page
}

func newLayout(t *lineage.Tree, target string, opt LineageOptions) *layout {
	l := &layout{t: t, target: target, opt: opt,
		desc: map[*lineage.Node]int{}, probs: map[*lineage.Node]int{}, run: map[*lineage.Node]int{},
		expanded: map[*lineage.Node]bool{}, open: map[*lineage.Node]bool{}, onPath: map[*lineage.Node]bool{},
		rendered: map[string]bool{}}
	if t.Root != nil && t.Root.Batch != nil {
		l.rootKg = t.Root.Batch.Size.CreditKgs
	}
	// Post-order sums without recursion: a chain can be thousands deep.
	var order []*lineage.Node
	t.Each(func(n *lineage.Node) bool {
		order = append(order, n)
		l.maxDepth = max(l.maxDepth, n.Depth)
		return true
	})
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if l.canonical(n) {
			l.probs[n] += len(t.ProblemsAt(n.ID))
		}
		var cont *lineage.Node
		branches := 0
		for _, c := range n.Children {
			l.desc[n] += 1 + l.desc[c]
			l.probs[n] += l.probs[c]
			if len(c.Children) > 0 {
				branches++
				cont = c
			}
		}
		if branches == 1 {
			l.run[n] = 1 + l.run[cont]
		}
	}
	return l
}

// canonical reports whether n is the node its id names in the tree: a repeated id's second
// place is not, and must not carry the anchor or the problems of the first.
func (l *layout) canonical(n *lineage.Node) bool { return l.t.Nodes[n.ID] == n }

// expand marks n's children as rendered if the row budget allows (or force).
func (l *layout) expand(n *lineage.Node, force bool, budget int) bool {
	if l.expanded[n] || len(n.Children) == 0 {
		return false
	}
	if !force && l.rows+len(n.Children) > budget {
		return false
	}
	l.expanded[n] = true
	l.rows += len(n.Children)
	return true
}

// page lays out the whole tree: the path to the target open, the target's subtree open as
// far as the budget goes, then the rest of the tree breadth first, collapsed.
func (l *layout) page() TreeView {
	t := l.t
	if t.Root == nil {
		return TreeView{}
	}
	l.rows = 1
	path := t.Path()
	for _, n := range path {
		l.onPath[n] = true
	}
	for _, n := range path[:len(path)-1] {
		l.expand(n, true, 0)
		l.open[n] = true
	}
	l.bfs(t.Target, l.opt.MaxRows, true)
	l.bfs(t.Root, l.opt.MaxRows, false)
	tv := TreeView{Total: t.Len(), Rows: l.rows}
	tv.Items = l.items(t.Root, 0)
	tv.Collapsed = t.Len() - l.rows
	return tv
}

// fragment lays out the children of n, collapsed, as far as the fragment budget goes.
func (l *layout) fragment(n *lineage.Node) TreeView {
	l.rows = 0
	l.expand(n, true, 0)
	for _, c := range n.Children {
		l.bfs(c, l.opt.MaxFragmentRows, false)
	}
	tv := TreeView{Total: l.t.Len(), Rows: l.rows}
	for _, c := range n.Children {
		tv.Items = append(tv.Items, l.items(c, 0)...)
	}
	tv.Collapsed = l.desc[n] - l.rows
	return tv
}

func (l *layout) bfs(from *lineage.Node, budget int, open bool) {
	queue := []*lineage.Node{from}
	for len(queue) > 0 && l.rows < budget {
		n := queue[0]
		queue = queue[1:]
		if !l.expanded[n] && !l.expand(n, false, budget) {
			continue
		}
		if open {
			l.open[n] = true
		}
		queue = append(queue, n.Children...)
	}
}

// items renders start's row and its subtree as the items of one list at nesting level.
// Runs that continue in one half only, and subtrees past MaxNest, continue in the same list
// (labelled with their parent) instead of nesting deeper, so that the HTML stays shallow
// whatever the tree's depth. It recurses only to nest, which MaxNest bounds.
func (l *layout) items(start *lineage.Node, level int) []TreeItem {
	type work struct {
		n       *lineage.Node
		hoisted bool
	}
	var out []TreeItem
	stack := []work{{start, false}}
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := w.n
		it := TreeItem{Row: l.row(n), Open: l.open[n]}
		if w.hoisted {
			it.ContinuesFrom = n.Parent.ID
		}
		var hoisted []*lineage.Node
		switch {
		case l.expanded[n]:
			for _, c := range n.Children {
				if l.hoist(n, c, level, w.hoisted) {
					hoisted = append(hoisted, c)
					continue
				}
				it.Children = append(it.Children, l.items(c, level+1)...)
			}
		case len(n.Children) > 0:
			it.LazyURL = SubtreeURL(l.target, n.ID)
			it.Hidden = l.desc[n]
			it.HiddenProblems = l.probs[n] - len(it.Row.Problems)
		}
		out = append(out, it)
		for i := len(hoisted) - 1; i >= 0; i-- {
			stack = append(stack, work{hoisted[i], true})
		}
	}
	return out
}

// hoist reports whether child c of n renders at n's level rather than nested below n.
func (l *layout) hoist(n, c *lineage.Node, level int, nHoisted bool) bool {
	if !l.expanded[c] {
		return false // a row without rendered children adds no nesting
	}
	if level >= l.opt.MaxNest {
		return true
	}
	if l.run[n] == 0 {
		return false
	}
	// n continues in exactly one half; fold when the run is long or already folding.
	if len(c.Children) == 0 {
		return false
	}
	return l.run[n] >= l.opt.FoldRun || nHoisted
}

// row is the display of one node.
func (l *layout) row(n *lineage.Node) NodeRow {
	r := NodeRow{ID: n.ID, Depth: n.Depth, Target: n.ID == l.t.Target.ID && l.canonical(n),
		OnPath: l.onPath[n], Status: missingStatus(n.Missing), Err: n.Err}
	if n.Missing != lineage.MissingInvalidID {
		r.URL = BatchURL(n.ID)
	}
	if l.canonical(n) {
		r.Anchor = NodeAnchor(n.ID)
		l.rendered[n.ID] = true
		for _, p := range l.t.ProblemsAt(n.ID) {
			r.Problems = append(r.Problems, problemView(p, ""))
		}
	}
	r.Link = linkLabel(n.Link)
	if b := n.Batch; b != nil {
		r.Status = statusView(b.Status)
		r.Credits = FormatCredits(b.Size.CreditKgs)
		r.Kg = FormatKg(b.Size.CreditKgs)
		r.Share = FormatShare(b.Size.CreditKgs, l.rootKg)
		r.HolderVerb, r.HolderNote = holderWords(b)
		r.Holder = orgView(b.Holder())
	}
	return r
}

func (l *layout) path() PathView {
	nodes := l.t.Path()
	rows := make([]NodeRow, len(nodes))
	for i, n := range nodes {
		rows[i] = l.row(n)
		rows[i].Anchor = "" // the tree's row carries the anchor
	}
	pv := PathView{Len: len(rows)}
	if top := l.t.Root; top != nil && (top.Batch == nil || top.Batch.ParentID != "") {
		pv.Incomplete, pv.TopID = true, top.ID
	}
	const head, tail = 3, 6
	if len(rows) <= head+tail+2 {
		pv.Head = rows
		return pv
	}
	pv.Head, pv.Middle, pv.Tail = rows[:head], rows[head:len(rows)-tail], rows[len(rows)-tail:]
	return pv
}

// href is where a batch id links from the foot of the page: its row when the page renders
// it, else its own page.
func (l *layout) href(id string) string {
	if l.rendered[id] {
		return "#" + NodeAnchor(id)
	}
	return BatchURL(id)
}
