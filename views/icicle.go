package views

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

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
	Since   bool   // changed since the day of ?since= (see MarkSince): a dashed outline

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
	if b.Since {
		cs = append(cs, "since")
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
