package views

import (
	"net/url"
	"strings"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// What changed since a day (?since=YYYY-MM-DD on the lineage and issuance pages) and what a tree
// looked like on a day (?as_of=YYYY-MM-DD on the lineage page), from the explorer's journal of
// observations.

// SinceMark is what the journal observed at one batch since the day asked. The zero value
// marks nothing.
type SinceMark struct {
	New     bool // split off its parent since the day
	Retired bool // retired since the day
	// HolderFrom is set when the batch changed hands since the day: the name (or id) of the
	// holder before; for a new batch, its parent's holder when the batch went to another.
	HolderFrom string
}

// Any reports whether the mark says anything.
func (m SinceMark) Any() bool { return m.New || m.Retired || m.HolderFrom != "" }

// Label is the mark in words, for badges and tooltips: "new", "retired", "changed hands".
func (m SinceMark) Label() string {
	var parts []string
	if m.New {
		parts = append(parts, "new")
	}
	if m.Retired {
		parts = append(parts, "retired")
	}
	if m.HolderFrom != "" {
		parts = append(parts, "changed hands")
	}
	return strings.Join(parts, ", ")
}

// SinceView is the summary of what changed in a tree (or an issuance's trees) since a day.
type SinceView struct {
	Day string // YYYY-MM-DD, UTC, as asked
	// Splits, Retirements and HolderChanges count what was observed since the day.
	Splits, Retirements, HolderChanges int
	// RetiredKg is the size of the batches retired since the day, in kg.
	RetiredKg int64
	// Unavailable: the journal could not be read, so nothing is marked.
	Unavailable bool
	// NotKept: this explorer keeps no journal.
	NotKept bool
	// FirstObserved is the day the journal first observed the tree when that is after Day
	// (changes between Day and then were not seen as changes); "" otherwise.
	FirstObserved string
	// LiveURL is the page without ?since=.
	LiveURL string
	// WalkedAt is when the tree shown was walked ("2006-01-02 15:04 UTC"; of several trees,
	// the last): only what the journal observed up to then is counted. "" when not known.
	WalkedAt string
	// Several: the page shows several trees (an issuance's), whose walks WalkedAt ends.
	Several bool
	// Later counts the changes observed since the day that the tree shown does not have yet
	// (observed after its walk): not counted above. AgainURL walks the tree again, to see them.
	Later    int
	AgainURL string
}

// Summary is the one line said above the totals: "since 2026-10-01: 3 splits, 2 retirements,
// 1 change of holder, 41,000 kg retired".
func (v SinceView) Summary() string {
	var parts []string
	add := func(n int, one, many string) {
		if n > 0 {
			parts = append(parts, FormatCount(n)+" "+plural(n, one, many))
		}
	}
	add(v.Splits, "split", "splits")
	add(v.Retirements, "retirement", "retirements")
	add(v.HolderChanges, "change of holder", "changes of holder")
	if len(parts) == 0 {
		return "since " + v.Day + ": no change observed"
	}
	if v.RetiredKg > 0 {
		parts = append(parts, FormatKg(v.RetiredKg)+" kg retired")
	}
	return "since " + v.Day + ": " + strings.Join(parts, ", ")
}

// ObservedUpTo says what the summary rests on: "as observed by this explorer up to when this
// tree was walked (2026-11-30 19:21 UTC)".
func (v SinceView) ObservedUpTo() string {
	switch {
	case v.WalkedAt == "":
		return "as observed by this explorer"
	case v.Several:
		return "as observed by this explorer up to when the trees shown were walked (by " + v.WalkedAt + ")"
	}
	return "as observed by this explorer up to when this tree was walked (" + v.WalkedAt + ")"
}

// LaterNote says that Later changes are left out: "2 changes observed after this tree was
// walked are not counted: the tree shown does not have them yet."
func (v SinceView) LaterNote() string {
	what, has := "this tree was", "the tree shown does"
	if v.Several {
		what, has = "these trees were", "the trees shown do"
	}
	return FormatCount(v.Later) + " " + plural(v.Later, "change", "changes") + " observed after " + what + " walked " +
		plural(v.Later, "is", "are") + " not counted: " + has + " not have " + plural(v.Later, "it", "them") + " yet."
}

// AgainText is the words of the link that walks the trees again.
func (v SinceView) AgainText() string {
	if v.Several {
		return "Walk them again"
	}
	return "Walk it again"
}

// WithDay adds ?name=day to the page link u (keeping a fragment after it); "" stays "".
func WithDay(u, name, day string) string {
	if u == "" || day == "" {
		return u
	}
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + name + "=" + url.QueryEscape(day) + frag
}

// MarkSince marks the rows and bars of the batches in marks, and makes the tree's, chart's
// and header's links to other lineage pages keep ?since=.
func (p *BatchPage) MarkSince(v SinceView, marks map[string]SinceMark) {
	p.Since = &v
	p.Header.DayParam, p.Header.Day = "since", v.Day
	markItems(p.Tree.Items, func(r *NodeRow) {
		r.Since = marks[r.ID]
		r.URL = WithDay(r.URL, "since", v.Day)
	})
	for _, rows := range [][]NodeRow{p.Path.Head, p.Path.Middle, p.Path.Tail} {
		for i := range rows {
			rows[i].Since = marks[rows[i].ID]
			rows[i].URL = WithDay(rows[i].URL, "since", v.Day)
		}
	}
	p.Chart.MarkSince(v.Day, marks)
}

// MarkSince marks the bars of the batches in marks ("new since …" in the tooltip and a dashed
// outline) and makes their links keep ?since=day.
func (c *IcicleView) MarkSince(day string, marks map[string]SinceMark) {
	marked := false
	for i := range c.Bars {
		b := &c.Bars[i]
		if m := marks[b.ID]; m.Any() && b.Kind != BarMore {
			b.Since, marked = true, true
			b.Title += " · since " + day + ": " + m.Label()
		}
		if strings.HasPrefix(b.Href, "/batches/") {
			b.Href = WithDay(b.Href, "since", day)
		}
	}
	if marked {
		c.Legend = append(c.Legend, LegendItem{Class: "since", Label: "changed since " + day})
	}
}

// KeepAsOf makes the tree's links to other lineage pages keep ?as_of=day, so that a reader
// moving through the reconstruction stays in it, and the downloads be of the reconstruction.
func (p *BatchPage) KeepAsOf(day string) {
	p.JSONURL, p.CSVURL = WithDay(p.JSONURL, "as_of", day), WithDay(p.CSVURL, "as_of", day)
	p.Header.DayParam, p.Header.Day = "as_of", day
	for i := range p.Chart.Bars {
		if b := &p.Chart.Bars[i]; strings.HasPrefix(b.Href, "/batches/") {
			b.Href = WithDay(b.Href, "as_of", day)
		}
	}
	// The chart's own page makes no reconstruction (it refuses ?as_of=): not offered here.
	p.ChartURL = ""
	KeepAsOfRows(p.Tree.Items, day)
	for _, rows := range [][]NodeRow{p.Path.Head, p.Path.Middle, p.Path.Tail} {
		for i := range rows {
			rows[i].URL = WithDay(rows[i].URL, "as_of", day)
		}
	}
}

// KeepAsOfRows makes the rows of a fragment of a reconstruction (and the branches below them)
// link and load as of day, as KeepAsOf does for a page.
func KeepAsOfRows(items []TreeItem, day string) {
	markItems(items, func(r *NodeRow) { r.URL = WithDay(r.URL, "as_of", day) })
	keepLazyDay(items, day)
}

// keepLazyDay makes the collapsed branches of a reconstruction load from it, not from today's
// tree: their fragment URLs carry ?as_of=.
func keepLazyDay(items []TreeItem, day string) {
	for i := range items {
		if items[i].LazyURL != "" {
			items[i].LazyURL = WithDay(items[i].LazyURL, "as_of", day)
		}
		keepLazyDay(items[i].Children, day)
	}
}

func markItems(items []TreeItem, f func(*NodeRow)) {
	for i := range items {
		f(&items[i].Row)
		markItems(items[i].Children, f)
	}
}

// AsOfView is the banner of a tree reconstructed from the journal (?as_of=).
type AsOfView struct {
	Day string // YYYY-MM-DD, UTC, as asked
	// Today: Day is today (UTC), not over: the tree is as last observed so far today.
	Today bool
	// From and To are the earliest and latest observations the reconstruction rests on,
	// "2006-01-02 15:04 UTC".
	From, To string
	// Changed is how many of the tree's batches were seen to change after the day.
	Changed int
	// Absent is how many batches of today's tree were first seen after the day (not shown).
	Absent int
	// TargetAbsent: the page's batch was first seen after the day; the tree is shown from its
	// root.
	TargetAbsent bool
	TargetID     string // the batch asked for
	LiveURL      string // the live lineage page of the batch
}

// AsOfNothingPage says that the journal holds no observation of a tree as old as the day asked.
type AsOfNothingPage struct {
	Base
	ID       string // the batch asked for
	Day      string // YYYY-MM-DD
	Earliest string // the first day the journal observed the tree, "" if never
	NotKept  bool   // this explorer keeps no journal at all
	LiveURL  string
}

// MarkSince marks the issuance page with what changed in its trees since the day: the summary,
// the chart's bars, and on each root row the count of its tree's batches marked; links to
// the trees keep ?since=.
func (p *IssuancePage) MarkSince(v SinceView, marks map[string]SinceMark, trees []*lineage.Tree) {
	p.Since = &v
	p.Chart.MarkSince(v.Day, marks)
	byRoot := map[string]int{}
	for _, t := range trees {
		if t == nil || t.Root == nil {
			continue
		}
		for id := range t.Nodes {
			if marks[id].Any() {
				byRoot[t.Root.ID]++
			}
		}
	}
	for _, rows := range [][]RootRow{p.SupplierRoots, p.BufferRoots} {
		for i := range rows {
			rows[i].SinceChanged = byRoot[rows[i].ID]
			rows[i].URL = WithDay(rows[i].URL, "since", v.Day)
		}
	}
}
