package views

// How an icicle chart is laid out: every batch's share of the root's kg in exact integers,
// placed row by row, the bars too thin to draw merged into "n more", within a budget of bars.

import (
	"cmp"
	"container/heap"
	"math"
	"math/bits"
	"slices"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// nodeInfo is what the layout needs to know of a node's place and subtree.
type nodeInfo struct {
	order int // pre-order position over the whole forest, for stable ties
	size  int // nodes in its subtree, itself included
	probs int // problems marked in its subtree, itself included
	own   int // problems marked at the node itself
}

// icicleLayout places the bars. Sizes are int64 kg throughout; pixels come from kg by
// 128-bit integer arithmetic, so that sizes above 2^53 place exactly.
type icicleLayout struct {
	opt     IcicleOptions
	tops    []*lineage.Node
	info    map[*lineage.Node]*nodeInfo
	onPath  map[*lineage.Node]bool
	cur     *lineage.Node
	ref     int64 // the kg the full width stands for
	nodes   int
	batches int // distinct batches present, for the caption

	// sums of the unsplit batches by status, for the legend's figures
	activeKg, retiredKg, otherKg int64
	otherStatuses                []registry.Status

	bars    []IcicleBar
	items   []*barItem
	pending int // drawn batches with children not drawn yet: each will get a "more below" bar
	view    IcicleView
}

// barItem is a batch bar that may still be expanded.
type barItem struct {
	n        *lineage.Node
	a, b     int64 // kg span, from the left edge of the chart
	x0, x1   int   // pixels
	level    int
	bar      int // its index in bars
	expanded bool
	hidden   int // batches below it too small to draw
	hiddenKg int64
}

func (it *barItem) width() int { return it.x1 - it.x0 }

func (l *icicleLayout) index(trees []*lineage.Tree) {
	order := 0
	for _, t := range trees {
		if t == nil || t.Root == nil {
			continue
		}
		l.tops = append(l.tops, t.Root)
		tot := t.Totals()
		l.activeKg += tot.ActiveKg
		l.retiredKg += tot.RetiredKg
		l.otherKg += tot.OtherKg
		for _, st := range tot.OtherStatuses {
			if !slices.Contains(l.otherStatuses, st) {
				l.otherStatuses = append(l.otherStatuses, st)
			}
		}
		var pre []*lineage.Node
		t.Each(func(n *lineage.Node) bool {
			pre = append(pre, n)
			own := 0
			if t.Nodes[n.ID] == n { // a repeated id's second place does not carry the first's problems
				own = len(t.ProblemsAt(n.ID))
				if n.Batch != nil && n.Missing == lineage.MissingNone {
					l.batches++ // as the pages count batches: each once, missing ones apart
				}
			}
			l.info[n] = &nodeInfo{order: order, own: own}
			order++
			return true
		})
		l.nodes += len(pre)
		// Post-order sums without recursion: a chain can be thousands deep.
		for i := len(pre) - 1; i >= 0; i-- {
			n := pre[i]
			in := l.info[n]
			in.size++
			in.probs += in.own
			if n.Parent != nil && l.info[n.Parent] != nil {
				l.info[n.Parent].size += in.size
				l.info[n.Parent].probs += in.probs
			}
		}
		if l.opt.Current != "" && l.cur == nil {
			if n := t.Nodes[l.opt.Current]; n != nil && l.info[n] != nil {
				l.cur = n
				for a := n; a != nil; a = a.Parent {
					l.onPath[a] = true
				}
			}
		}
	}
}

// link is where a batch's bar leads: see IcicleOptions.Link.
func (l *icicleLayout) link(id string) string {
	if l.opt.Link != nil {
		return l.opt.Link(id)
	}
	return BatchURL(id)
}

// kgOf is a node's size as the chart reads it: its batch's kg (never below zero), or -1 when
// the batch is missing and its size unknown.
func kgOf(n *lineage.Node) int64 {
	if n.Batch == nil {
		return -1
	}
	return max(n.Batch.Size.CreditKgs, 0)
}

// topKg is the width a tree's root claims: its kg, or its children's when the root is missing.
func topKg(n *lineage.Node) int64 {
	if kg := kgOf(n); kg >= 0 {
		return kg
	}
	var sum int64
	for _, c := range n.Children {
		sum = satAdd(sum, max(kgOf(c), 0))
	}
	return sum
}

// satAdd adds sizes that are never negative, stopping at the largest int64 rather than
// wrapping: inconsistent data must not turn a width negative.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// mulDiv is x*y/z rounded down, in 128 bits. It needs x <= z (so that the quotient fits) and z > 0.
func mulDiv(x, y, z uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	q, _ := bits.Div64(hi, lo, z)
	return q
}

// px is the pixel of a kg offset from the chart's left edge.
func (l *icicleLayout) px(off int64) int {
	off = min(max(off, 0), l.ref)
	return int(mulDiv(uint64(off), uint64(l.opt.Width), uint64(l.ref)))
}

// span is a child's place within its parent, in kg from the chart's left edge.
type span struct{ a, b int64 }

// split divides a node's span among its children in proportion to their kg. When the
// children hold less than the parent, missing children (size unknown) share what is
// unaccounted for, and any rest stays a visible gap; when they claim more, they are scaled
// down to fit, so that the chart stays a partition (the audit reports the mismatch).
func split(n *lineage.Node, a, b int64) []span {
	length := b - a
	var known int64
	unknown := 0
	for _, c := range n.Children {
		if kg := kgOf(c); kg >= 0 {
			known = satAdd(known, kg)
		} else {
			unknown++
		}
	}
	out := make([]span, len(n.Children))
	if known > length {
		var cum int64
		for i, c := range n.Children {
			start := a + int64(mulDiv(uint64(cum), uint64(length), uint64(known)))
			cum = satAdd(cum, max(kgOf(c), 0))
			out[i] = span{start, a + int64(mulDiv(uint64(cum), uint64(length), uint64(known)))}
		}
		return out
	}
	var share, extra int64
	if unknown > 0 {
		share, extra = (length-known)/int64(unknown), (length-known)%int64(unknown)
	}
	pos := a
	seen := 0
	for i, c := range n.Children {
		w := kgOf(c)
		if w < 0 {
			w = share
			if seen++; seen == unknown {
				w += extra
			}
		}
		out[i] = span{pos, pos + w}
		pos += w
	}
	return out
}

func (l *icicleLayout) run() IcicleView {
	o := l.opt
	v := &l.view
	v.Width, v.Nodes, v.Batches = o.Width, l.nodes, l.batches
	for _, t := range l.tops {
		l.ref = satAdd(l.ref, topKg(t))
	}
	if l.ref <= 0 {
		v.Empty = true
		v.Height = o.RowHeight
		return *v
	}
	v.RefKg, v.RefCredits = FormatKg(l.ref), FormatCredits(l.ref)
	if l.cur != nil {
		v.Current = l.cur.ID
	}

	// The roots, side by side; thin ones merge like any siblings.
	var pos int64
	spans := make([]span, len(l.tops))
	for i, t := range l.tops {
		end := satAdd(pos, topKg(t))
		spans[i] = span{pos, end}
		pos = end
	}
	l.commit(l.plan(nil, l.tops, spans, 0))

	// The path to the current batch is drawn whatever the budget.
	for {
		var next *barItem
		for _, it := range l.items {
			if !it.expanded && l.onPath[it.n] && it.n != l.cur && len(it.n.Children) > 0 {
				next = it
				break
			}
		}
		if next == nil {
			break
		}
		l.expand(next, true)
	}

	// Then the widest first, as far as the budget goes.
	h := &itemHeap{l: l}
	for _, it := range l.items {
		if !it.expanded && len(it.n.Children) > 0 {
			heap.Push(h, it)
		}
	}
	for h.Len() > 0 {
		it := heap.Pop(h).(*barItem)
		before := len(l.items)
		if !l.expand(it, false) {
			continue
		}
		for _, c := range l.items[before:] {
			if len(c.n.Children) > 0 {
				heap.Push(h, c)
			}
		}
	}
	l.finish()
	return *v
}

// expand draws an item's children if the budget allows (or force). It reports whether it did.
func (l *icicleLayout) expand(it *barItem, force bool) bool {
	spans := split(it.n, it.a, it.b)
	p := l.plan(it, it.n.Children, spans, it.level+1)
	if !force && len(l.bars)+l.pending+p.cost() > l.opt.MaxBars {
		return false
	}
	l.commit(p)
	return true
}

// finish places every bar in units, adds the "more below" bars, labels, links and tooltips.
func (l *icicleLayout) finish() {
	o, v := l.opt, &l.view
	for _, it := range l.items {
		n := it.n
		b := &l.bars[it.bar]
		b.X, b.W = it.x0, it.width()
		in := l.info[n]
		b.Current = n == l.cur
		b.OnPath = l.onPath[n] && !b.Current
		b.Problem = in.own > 0
		if n.Missing != lineage.MissingInvalidID {
			b.Href = l.link(n.ID)
		}
		var short string
		b.Class, b.Title, b.Label, short = l.describe(n)
		if in.own > 0 {
			b.Title += "\n⚠ " + FormatCount(in.own) + " " + plural(in.own, "problem", "problems") + " marked here"
		}
		if it.hidden > 0 {
			b.Title += "\n+" + FormatCount(it.hidden) + " " + plural(it.hidden, "batch", "batches") + " below, too small to draw"
			if it.hiddenKg > 0 {
				b.Title += " (" + FormatKg(it.hiddenKg) + " kg)"
			}
			v.Hidden += it.hidden
		}
		if b.Current {
			b.Title += "\n(this batch)"
		}
		b.Label = fitLabel(b.W, b.Label, short)
		if !it.expanded && len(n.Children) > 0 {
			count := in.size - 1
			title := FormatCount(count) + " more " + plural(count, "batch", "batches") + " below " + n.ID + ", not drawn at this scale"
			if probs := in.probs - in.own; probs > 0 {
				title += "\n⚠ " + FormatCount(probs) + " " + plural(probs, "problem", "problems") + " inside"
			}
			l.bars = append(l.bars, IcicleBar{Kind: BarMore, ID: n.ID, X: it.x0, W: max(it.width(), 1), Y: it.level + 1,
				Class: "c-more", Problem: in.probs > in.own, Href: b.Href, Title: title, Count: count, under: n,
				Label: firstFit(it.width(), FormatCount(count)+" more", "+"+FormatCount(count))})
		}
	}
	l.bars = mergeMore(l.bars, l.link)
	rows := 0
	for i := range l.bars {
		b := &l.bars[i]
		switch b.Kind {
		case BarMore:
			v.Merged += b.Count
		case BarFold:
			v.Folded += b.Count
		}
		rows = max(rows, b.Y+1)
		b.Y *= o.RowHeight
		b.H = o.RowHeight - 2
		// A one-unit gap keeps neighbours apart; bars too thin for it keep their width, and the
		// outlined batch stays visible however thin.
		if b.W >= 3 {
			b.W--
		}
		if b.Current || b.OnPath {
			b.W = max(b.W, 2)
		}
		b.W = max(b.W, 1)
		b.LabelX, b.LabelY = b.X+4, b.Y+o.RowHeight/2+4
		if b.Label != "" && labelWidth(b.Label) > b.W-6 {
			b.Label = ""
		}
	}
	// The outlined batch last, so that no neighbour covers its outline.
	for i := range l.bars {
		if l.bars[i].Current {
			cur := l.bars[i]
			l.bars = append(append(l.bars[:i:i], l.bars[i+1:]...), cur)
			break
		}
	}
	v.Bars, v.Rows = l.bars, rows
	v.Height = max(rows, 1) * o.RowHeight
	v.Legend = l.legend()
}

// itemHeap orders expandable bars widest first, then higher up, then in tree order.
type itemHeap struct {
	l     *icicleLayout
	items []*barItem
}

func (h *itemHeap) Len() int { return len(h.items) }

func (h *itemHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return cmp.Or(cmp.Compare(b.width(), a.width()), cmp.Compare(a.level, b.level),
		cmp.Compare(h.l.info[a.n].order, h.l.info[b.n].order)) < 0
}

func (h *itemHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }

func (h *itemHeap) Push(x any) { h.items = append(h.items, x.(*barItem)) }

func (h *itemHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}
