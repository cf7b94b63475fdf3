package views

import (
	"cmp"
	"container/heap"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// IcicleOptions sizes and bounds an icicle chart. Zero values take the defaults given.
type IcicleOptions struct {
	// Width is the chart's width in SVG units; the page scales it to the column. Default 960.
	Width int
	// RowHeight is the height of one row (one split further down) in SVG units. Default 24.
	RowHeight int
	// MinWidth is the narrowest bar drawn on its own; thinner siblings merge into one "n more"
	// bar. Default 4.
	MinWidth int
	// MaxBars bounds the bars of the chart (and so the SVG's size). The path to Current is
	// drawn whatever the bound; the rest is drawn widest first until the bound. Default 200.
	MaxBars int
	// FoldRun is the length from which a run of splits that each continue in one half and
	// peel off a small batch in the other (a chain of small retirements) folds into one
	// labelled band. Default 3.
	FoldRun int
	// PeelWidth is the width below which a leaf split off a chain counts as a small peel that
	// may fold. Default 16 (too narrow for a label).
	PeelWidth int
	// Current is the batch outlined (the page's own). Its path from the root is always drawn,
	// however thin. "" outlines nothing (an issuance's chart, say).
	Current string
	// Link is where the bar of a batch leads, given its id (a bar of merged batches leads where
	// the batch they descend from does). nil leads to the batch's page (BatchURL); a zoomed
	// chart leads to the chart from that bar instead.
	Link func(id string) string
}

func (o IcicleOptions) withDefaults() IcicleOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Width, 960)
	def(&o.RowHeight, 24)
	def(&o.MinWidth, 4)
	def(&o.MaxBars, 200)
	def(&o.FoldRun, 3)
	def(&o.PeelWidth, 16)
	return o
}

// BarKind says what a bar of an icicle chart stands for.
type BarKind string

// The kinds of bar.
const (
	BarBatch BarKind = "batch" // one credit batch (or the place of a missing one)
	BarMore  BarKind = "more"  // several batches too thin to draw, merged: "n more"
	BarFold  BarKind = "fold"  // a run of single peels folded into one band
)

// IcicleView is an icicle chart ready to render: every bar placed in SVG units, labelled and
// linked. Build it with NewIcicle or NewIcicleForest.
type IcicleView struct {
	Width, Height int         // SVG viewBox, in units
	Bars          []IcicleBar // in drawing order: the outlined batch last, so that its outline is on top
	Legend        []LegendItem
	Rows          int    // rows drawn
	RefKg         string // the kg the full width stands for, formatted
	RefCredits    string // the same in credits
	Nodes         int    // nodes of the tree(s) the chart stands for: batches, and places of missing or repeated ones
	Batches       int    // the batches among them, each once, as the pages count them
	Merged        int    // batches inside "n more" bars
	Folded        int    // batches inside folded bands
	Hidden        int    // batches too small to draw at all (named in their parent's tooltip)
	Current       string // the outlined batch, "" for none
	// Empty is set when there is nothing with a size to draw (no tree, or every size zero).
	Empty bool
}

// IcicleBar is one rectangle of the chart, a link to its batch with a tooltip.
type IcicleBar struct {
	Kind    BarKind
	ID      string // the batch; the first batch of a merge or a fold
	X, Y    int    // top left, SVG units
	W, H    int    // size, SVG units
	Class   string // fill class: "c-active", "c-split", "c-retired", "c-missing", "c-skipped", "c-other", "c-more", "c-fold"
	Current bool   // the page's own batch: outlined
	OnPath  bool   // an ancestor of the page's batch (or a band containing some)
	Problem bool   // problems are marked at this batch (or inside the merge or fold)
	Href    string // its batch page; "" for a malformed id
	Title   string // the tooltip, plain text (rendered escaped: it holds organisation names)
	Label   string // text drawn in the bar, already cut to fit; "" when it does not fit
	LabelX  int    // where the label starts
	LabelY  int    // the label's baseline
	Count   int    // batches the bar stands for

	under *lineage.Node // for a "more" bar: the batch its batches descend from
}

// LegendItem is one entry of the chart's legend: a swatch class and its meaning in words.
type LegendItem struct {
	Class string // as IcicleBar.Class, or "cur" / "pb" for the outlines
	Label string
}

// NewIcicle lays out the icicle chart of one lineage tree: the root spans the full width and
// every batch is as wide as its share of the root's kg. opt.Current defaults to the tree's
// target.
func NewIcicle(t *lineage.Tree, opt IcicleOptions) IcicleView {
	if opt.Current == "" && t != nil && t.Target != nil {
		opt.Current = t.Target.ID
	}
	if t == nil {
		return NewIcicleForest(nil, opt)
	}
	return NewIcicleForest([]*lineage.Tree{t}, opt)
}

// NewIcicleForest lays out several trees side by side (an issuance's roots, say): the full
// width is their roots' kg together, and each batch is as wide as its share of that.
func NewIcicleForest(trees []*lineage.Tree, opt IcicleOptions) IcicleView {
	opt = opt.withDefaults()
	l := &icicleLayout{opt: opt, info: map[*lineage.Node]*nodeInfo{}, onPath: map[*lineage.Node]bool{}}
	l.index(trees)
	return l.run()
}

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

// plan is what drawing a set of siblings adds: bars for the wide ones (and those on the path
// to the current batch), one "n more" bar per run of thin ones, a band for each long chain of
// single peels. parent is nil for the roots.
type plan struct {
	parent *barItem
	bars   []IcicleBar
	items  []*barItem // batch bars among bars that may be expanded later (with bar indexes relative to bars)
	hidden int
	hidKg  int64
}

// drawn reports whether a node gets a bar of its own: wide enough to see, or on the path to
// the current batch, which must show however thin.
func (l *icicleLayout) drawn(n *lineage.Node, s span) bool {
	return l.onPath[n] || l.px(s.b)-l.px(s.a) >= l.opt.MinWidth
}

func (l *icicleLayout) plan(parent *barItem, kids []*lineage.Node, spans []span, level int) plan {
	p := plan{parent: parent}
	for i := 0; i < len(kids); {
		c, s := kids[i], spans[i]
		if l.drawn(c, s) {
			if parent == nil {
				l.planBatch(&p, c, s, level) // a root is drawn as itself, never folded away
			} else {
				l.planDrawn(&p, c, s, level)
			}
			i++
			continue
		}
		// A run of thin siblings merges into one bar.
		j := i
		var count, probs int
		var kg int64
		for j < len(kids) && !l.drawn(kids[j], spans[j]) {
			in := l.info[kids[j]]
			count += in.size
			probs += in.probs
			kg = satAdd(kg, max(kgOf(kids[j]), 0))
			j++
		}
		a, b := spans[i].a, spans[j-1].b
		x0, x1 := l.px(a), l.px(b)
		if j-i == 1 && len(kids[i].Children) == 0 && x1-x0 >= 1 {
			// A lone thin batch merges with nothing: drawn as itself, its tooltip says more.
			l.planBatch(&p, kids[i], spans[i], level)
			i = j
			continue
		}
		if x1-x0 < 1 {
			p.hidden += count
			p.hidKg = satAdd(p.hidKg, kg)
			i = j
			continue
		}
		href := l.link(kids[i].ID)
		if j-i > 1 && parent != nil {
			href = l.link(parent.n.ID) // several branches: their parent's page lists them
		}
		if kids[i].Missing == lineage.MissingInvalidID && j-i == 1 {
			href = ""
		}
		title := FormatCount(count) + " more " + plural(count, "batch", "batches") + ", too thin to draw at this scale"
		if kg > 0 {
			title += "\n" + FormatCredits(kg) + " credits = " + FormatKg(kg) + " kg (" + FormatShare(kg, l.ref) + " of the chart)"
		}
		if parent != nil {
			title += "\nbelow " + parent.n.ID
		}
		if probs > 0 {
			title += "\n⚠ " + FormatCount(probs) + " " + plural(probs, "problem", "problems") + " inside"
		}
		under := kids[i]
		if parent != nil {
			under = parent.n
		}
		p.bars = append(p.bars, IcicleBar{Kind: BarMore, ID: kids[i].ID, X: x0, W: x1 - x0, Class: "c-more",
			Problem: probs > 0, Href: href, Title: title, Count: count, under: under,
			Label: firstFit(x1-x0, FormatCount(count)+" more", "+"+FormatCount(count))})
		p.barsLevel(level)
		i = j
	}
	return p
}

// barsLevel sets the row of the bar just added.
func (p *plan) barsLevel(level int) { p.bars[len(p.bars)-1].Y = level }

// planDrawn adds a drawn child: its own bar, or a band when it starts a long chain of single
// peels, followed by the batch the chain ends at.
func (l *icicleLayout) planDrawn(p *plan, c *lineage.Node, s span, level int) {
	var chain []*lineage.Node
	m, ms := c, s
	var peeledKg int64
	peeled := 0
	for m != l.cur && len(m.Children) > 0 {
		spans := split(m, ms.a, ms.b)
		next, peel := -1, true
		for k, k2 := range m.Children {
			w := l.px(spans[k].b) - l.px(spans[k].a)
			switch {
			case next < 0 && l.drawn(k2, spans[k]) && (len(k2.Children) > 0 || l.onPath[k2]):
				next = k // where the chain continues
			case l.onPath[k2]:
				peel = false // the path branches off here: it must stay drawn
			case w < l.opt.MinWidth:
				// too thin to draw: merged anyway
			case len(k2.Children) == 0 && w < l.opt.PeelWidth:
				// a small batch peeled off
			default:
				peel = false // a branch worth drawing
			}
		}
		if next < 0 || !peel {
			break
		}
		chain = append(chain, m)
		for k, k2 := range m.Children {
			if k != next {
				peeled += l.info[k2].size
				peeledKg = satAdd(peeledKg, max(kgOf(k2), 0))
			}
		}
		m, ms = m.Children[next], spans[next]
	}
	if len(chain) < l.opt.FoldRun {
		l.planBatch(p, c, s, level)
		return
	}
	first, last := chain[0], chain[len(chain)-1]
	count := l.info[first].size - l.info[m].size
	probs := l.info[first].probs - l.info[m].probs
	onPath := false
	for _, n := range chain {
		onPath = onPath || l.onPath[n]
	}
	x0, x1 := l.px(s.a), l.px(s.b)
	splits := len(chain)
	title := FormatCount(splits) + " " + plural(splits, "split", "splits") + " folded, from " + first.ID + " to " + last.ID +
		"\neach peels off a small batch and continues in its other half: " + FormatCount(peeled) + " " +
		plural(peeled, "batch", "batches") + " peeled off, " + FormatCredits(peeledKg) + " credits = " + FormatKg(peeledKg) + " kg in all"
	if kg := kgOf(first); kg >= 0 {
		title += "\nthe chain starts at " + FormatCredits(kg) + " credits = " + FormatKg(kg) + " kg"
	}
	if probs > 0 {
		title += "\n⚠ " + FormatCount(probs) + " " + plural(probs, "problem", "problems") + " inside"
	}
	href := l.link(first.ID)
	if first.Missing == lineage.MissingInvalidID {
		href = ""
	}
	p.bars = append(p.bars, IcicleBar{Kind: BarFold, ID: first.ID, X: x0, W: max(x1-x0, 1), Class: "c-fold",
		OnPath: onPath, Problem: probs > 0, Href: href, Title: title, Count: count,
		Label: firstFit(x1-x0, "⋯ "+FormatCount(splits)+" "+plural(splits, "split", "splits")+" folded: "+FormatCount(peeled)+" small "+plural(peeled, "batch", "batches")+" peeled off, "+FormatCredits(peeledKg)+" cr",
			"⋯ "+FormatCount(splits)+" "+plural(splits, "split", "splits")+" folded, "+FormatCount(peeled)+" small "+plural(peeled, "batch", "batches")+" peeled off",
			"⋯ "+FormatCount(splits)+" "+plural(splits, "split", "splits")+" folded", "⋯ "+FormatCount(splits))})
	p.barsLevel(level)
	l.planBatch(p, m, ms, level+1)
}

// planBatch adds one batch's bar.
func (l *icicleLayout) planBatch(p *plan, n *lineage.Node, s span, level int) {
	x0, x1 := l.px(s.a), l.px(s.b)
	it := &barItem{n: n, a: s.a, b: s.b, x0: x0, x1: x1, level: level, bar: len(p.bars)}
	p.bars = append(p.bars, IcicleBar{Kind: BarBatch, ID: n.ID, Y: level, Count: 1})
	p.items = append(p.items, it)
}

// cost is how many bars committing p adds, counting the "more below" bar every drawn batch
// with undrawn children will get, and the one the expanded parent no longer needs.
func (p plan) cost() int {
	c := len(p.bars)
	for _, it := range p.items {
		if len(it.n.Children) > 0 {
			c++
		}
	}
	if p.parent != nil && len(p.parent.n.Children) > 0 {
		c--
	}
	return c
}

func (l *icicleLayout) commit(p plan) {
	base := len(l.bars)
	l.bars = append(l.bars, p.bars...)
	for _, it := range p.items {
		it.bar += base
		l.items = append(l.items, it)
		if len(it.n.Children) > 0 {
			l.pending++
		}
	}
	if p.parent != nil {
		p.parent.expanded = true
		p.parent.hidden, p.parent.hiddenKg = p.hidden, p.hidKg
		l.pending--
	} else {
		l.view.Hidden += p.hidden
	}
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

// describe is a batch bar's fill class, tooltip, and its label in full and short.
func (l *icicleLayout) describe(n *lineage.Node) (class, title, label, short string) {
	b := n.Batch
	if b == nil || n.Missing != lineage.MissingNone {
		st := missingStatus(n.Missing)
		return "c-" + st.Class, n.ID + "\n" + st.Label, st.Label, "?"
	}
	st := statusView(b.Status)
	kg := b.Size.CreditKgs
	var sb strings.Builder
	sb.WriteString(n.ID)
	sb.WriteString("\nserial ")
	sb.WriteString(b.SerialNumber)
	sb.WriteString("\n")
	sb.WriteString(FormatCredits(kg) + " credits = " + FormatKg(kg) + " kg")
	if share := FormatShare(kg, l.ref); share != "" {
		sb.WriteString(" (" + share + " of the chart)")
	}
	sb.WriteString("\n" + st.Label)
	h := b.Holder()
	holder := OrgView{Name: h.Name, ID: h.ID}.Label()
	verb, note := holderWords(b)
	// The status is just before: "retired, for X" rather than "retired, retired for X". A
	// tooltip is plain text: the name is isolated there by the Unicode isolates themselves.
	sb.WriteString(", " + strings.TrimPrefix(verb, "retired ") + " " + Isolate(holder))
	if note != "" {
		sb.WriteString(" " + note)
	}
	return "c-" + st.Class, sb.String(), FormatCredits(kg) + " cr" + labelSep + holder, FormatCredits(kg) + " cr"
}

// labelSep separates a bar's size from its holder's name in its label.
const labelSep = " · "

// splitLabel splits a bar's label into what the chart wrote and the holder's name after it
// (cut to fit, perhaps), so that the name can be isolated; name is "" for a label with none.
func splitLabel(label string) (lead, name string) {
	if i := strings.Index(label, labelSep); i >= 0 {
		return label[:i+len(labelSep)], label[i+len(labelSep):]
	}
	return label, ""
}

// legend lists the swatches of the colours and outlines the chart uses, statuses first,
// each status of the unsplit batches with its figure, so that kg of a status the explorer
// does not know are seen beside active and retired ones, never inside them.
func (l *icicleLayout) legend() []LegendItem {
	used := map[string]bool{"c-active": true, "c-split": true, "c-retired": true, "c-other": l.otherKg != 0}
	for _, b := range l.bars {
		used[b.Class] = true
		if b.Current {
			used["cur"] = true
		}
		if b.OnPath {
			used["onpath"] = true
		}
		if b.Problem {
			used["pb"] = true
		}
	}
	figure := func(kg int64) string { return " · " + FormatCredits(kg) + " credits" }
	other := "other status"
	if len(l.otherStatuses) > 0 {
		slices.Sort(l.otherStatuses)
		other += " (" + statusList(l.otherStatuses) + "), not counted as active"
	}
	var out []LegendItem
	for _, li := range []LegendItem{
		{"c-active", "active" + figure(l.activeKg)}, {"c-split", "split"}, {"c-retired", "retired" + figure(l.retiredKg)},
		{"c-missing", "missing or not fetched"}, {"c-skipped", "repeated, or beyond the walk's bound"},
		{"c-other", other + figure(l.otherKg)}, {"c-more", "n more: batches too thin to draw, merged"},
		{"c-fold", "a chain of single peels, folded"}, {"cur", "this batch"}, {"onpath", "its path from the root"},
		{"pb", "problems marked"},
	} {
		if used[li.Class] {
			out = append(out, li)
		}
	}
	return out
}

// labelWidth estimates a label's width in units at the chart's font size (11 units, about 6.2
// a character on average), erring wide so that labels stay inside their bars.
func labelWidth(s string) int { return utf8.RuneCountInString(s)*13/2 + 1 }

// labelRoom is the room for a label in a bar w units wide: the gap and a little padding off.
func labelRoom(w int) int { return w - 8 }

// firstFit is the first label that fits in a bar w units wide, or "". Labels with figures are
// never cut: a cut number would read as another number.
func firstFit(w int, labels ...string) string {
	for _, s := range labels {
		if labelWidth(s) <= labelRoom(w) {
			return s
		}
	}
	return ""
}

// fitLabel fits a batch's label: in full, else cut with "…" where the cut keeps more than the
// short form (the size, whole), else the short form, else nothing.
func fitLabel(w int, full, short string) string {
	if labelWidth(full) <= labelRoom(w) {
		return full
	}
	r := []rune(full)
	keep := utf8.RuneCountInString(short) + 3
	for n := len(r) - 1; n > keep; n-- {
		if s := string(r[:n]) + "…"; labelWidth(s) <= labelRoom(w) {
			return s
		}
	}
	return firstFit(w, short)
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
func (h *itemHeap) Push(x any)    { h.items = append(h.items, x.(*barItem)) }
func (h *itemHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// barClass is the classes of a bar's link: outlines for the current batch, its path and
// problems ("" for none, to keep the SVG small).
func barClass(b IcicleBar) string {
	var cs []string
	if b.Current {
		cs = append(cs, "cur")
	}
	if b.OnPath {
		cs = append(cs, "onpath")
	}
	if b.Problem {
		cs = append(cs, "pb")
	}
	return strings.Join(cs, " ")
}

// mergeMore joins "more" bars that touch in a row into one: below a row of narrow batches
// whose children are not drawn, one "n more" bar wide enough to be labelled reads better than
// many unlabelled slivers. The joined bar links to the nearest batch all its batches descend
// from, whose page lists them all.
func mergeMore(bars []IcicleBar, link func(string) string) []IcicleBar {
	var idx []int
	for i, b := range bars {
		if b.Kind == BarMore {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(i, j int) int {
		return cmp.Or(cmp.Compare(bars[i].Y, bars[j].Y), cmp.Compare(bars[i].X, bars[j].X))
	})
	drop := map[int]bool{}
	for k := 0; k < len(idx); {
		first := &bars[idx[k]]
		end, under, count, parts := first.X+first.W, first.under, first.Count, 1
		problem := first.Problem
		j := k + 1
		for ; j < len(idx); j++ {
			b := bars[idx[j]]
			if b.Y != first.Y || b.X != end {
				break
			}
			end, count, parts = b.X+b.W, count+b.Count, parts+1
			problem = problem || b.Problem
			under = commonAncestor(under, b.under)
			drop[idx[j]] = true
		}
		if parts > 1 {
			first.W, first.Count, first.Problem = end-first.X, count, problem
			first.Title = FormatCount(count) + " more " + plural(count, "batch", "batches") + ", too small to draw at this scale"
			if under != nil {
				first.Title += "\nall descend from " + under.ID
				first.ID = under.ID
				if under.Missing != lineage.MissingInvalidID {
					first.Href = link(under.ID)
				}
			}
			if problem {
				first.Title += "\n⚠ problems inside"
			}
			first.Label = firstFit(first.W, FormatCount(count)+" more", "+"+FormatCount(count))
		}
		k = j
	}
	if len(drop) == 0 {
		return bars
	}
	out := bars[:0]
	for i, b := range bars {
		if !drop[i] {
			out = append(out, b)
		}
	}
	return out
}

// commonAncestor is the nearest node both descend from (either included), or nil when they are
// in different trees.
func commonAncestor(a, b *lineage.Node) *lineage.Node {
	if a == nil || b == nil {
		return nil
	}
	seen := map[*lineage.Node]bool{}
	for n := a; n != nil; n = n.Parent {
		seen[n] = true
	}
	for n := b; n != nil; n = n.Parent {
		if seen[n] {
			return n
		}
	}
	return nil
}
