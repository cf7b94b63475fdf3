package views

// Planning one row of an icicle chart: which children of a bar are drawn, which merge into "n
// more", and what that costs against the chart's budget of bars.

import (
	"github.com/lineage-explorer/explorer/registry/lineage"
)

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
