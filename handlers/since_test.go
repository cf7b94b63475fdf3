package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// Issue 18, point 2: ?since=YYYY-MM-DD on the lineage page marks what the journal observed
// since that day, in the tree, the chart and the totals.

// sinceExpected is what the step did in the tree, counted as the summary counts it, and the
// mark each batch should carry.
func sinceExpected(changes []demo.Change) (views.SinceView, map[string]string) {
	v := views.SinceView{}
	marks := map[string]string{}
	add := func(id, word string) {
		if marks[id] != "" {
			marks[id] += " "
		}
		marks[id] += word
	}
	for _, c := range changes {
		switch c.Kind {
		case demo.ChangeSplit:
			v.Splits++
			add(c.Left, "new")
			add(c.Right, "new")
			if c.LeftKind == demo.ChangeRetire {
				v.Retirements++
				v.RetiredKg += c.Kg
				add(c.Left, "retired")
			} else {
				v.HolderChanges++
				add(c.Left, "changed hands")
			}
		case demo.ChangeRetire:
			v.Retirements++
			v.RetiredKg += c.Kg
			add(c.Batch, "retired")
		case demo.ChangeTransfer:
			v.HolderChanges++
			add(c.Batch, "changed hands")
		}
	}
	return v, marks
}

// rowMarks is the "since" badge of each tree row that has one, by batch id.
func rowMarks(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	doc.Find("[data-testid=tree] li[id]").Each(func(_ int, li *goquery.Selection) {
		id := strings.TrimPrefix(li.AttrOr("id", ""), "n-")
		badge := li.ChildrenFiltered("details").ChildrenFiltered("summary").AddSelection(li.ChildrenFiltered("div.leaf")).Find("[data-testid=since-mark]")
		if badge.Length() == 0 {
			return
		}
		if !li.HasClass("since") {
			out[id] = "badge without the row's class"
			return
		}
		var words []string
		for _, w := range []string{"new", "retired", "changed hands"} {
			if strings.Contains(text(badge), w) {
				words = append(words, w)
			}
		}
		out[id] = strings.Join(words, " ")
	})
	return out
}

func TestSinceMarksWhatChangedBetweenTwoObservations(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	want, wantMarks := sinceExpected(d.changes)
	want.Day = "2026-10-02"
	doc, _ := d.a.page(t, views.BatchURL(d.root)+"?since=2026-10-02", http.StatusOK)
	summary := text(doc.Find("[data-testid=since-summary]"))
	if !strings.Contains(summary, want.Summary()) || want.Splits+want.Retirements+want.HolderChanges == 0 {
		t.Errorf("summary %q; want %q in it (the step did %+v)", summary, want.Summary(), d.changes)
	}
	got := rowMarks(doc)
	if len(got) != len(wantMarks) {
		t.Errorf("marked rows %v; want %v", got, wantMarks)
	}
	for id, w := range wantMarks {
		if got[id] != w {
			t.Errorf("row %s marked %q; want %q", id, got[id], w)
		}
	}
	// The chart: the bars of the batches changed are outlined and say so in their tooltip.
	bars := doc.Find("figure.icicle svg .since")
	if bars.Length() == 0 || !strings.Contains(bars.First().Find("title").Text(), "since 2026-10-02:") {
		t.Errorf("%d chart bars marked; want the changed ones, with the change in their tooltip", bars.Length())
	}
	// Links within the tree keep the day.
	if href, _ := doc.Find("[data-testid=tree] li a[href^='/batches/']").First().Attr("href"); !strings.Contains(href, "since=2026-10-02") {
		t.Errorf("a tree link %q does not keep ?since=", href)
	}

	// Since a day after the second walk: nothing changed, nothing marked.
	doc, _ = d.a.page(t, views.BatchURL(d.root)+"?since=2026-10-04", http.StatusOK)
	if s := text(doc.Find("[data-testid=since-summary]")); !strings.Contains(s, "since 2026-10-04: no change observed") {
		t.Errorf("since after the last walk: %q", s)
	}
	if m := rowMarks(doc); len(m) != 0 {
		t.Errorf("since after the last walk, rows marked: %v", m)
	}
	// Without ?since= the page marks nothing.
	doc, _ = d.a.page(t, views.BatchURL(d.root), http.StatusOK)
	if doc.Find("[data-testid=since-summary], [data-testid=since-mark]").Length() != 0 {
		t.Error("the page without ?since= has since marks")
	}
}

func TestBadDaysAre400WithTheReason(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	id := a.fx.WideLeafDeep
	for _, q := range []string{"since=2026-13-01", "since=yesterday", "as_of=2026-02-30", "as_of=01/10/2026",
		"since=2026-10-01&as_of=2026-10-02"} {
		doc, r := a.page(t, views.BatchURL(id)+"?"+q, http.StatusBadRequest)
		if r.status != http.StatusBadRequest {
			continue
		}
		if msg := text(doc.Find("main")); !strings.Contains(msg, "YYYY-MM-DD") {
			t.Errorf("?%s: the page does not say what a day looks like: %q", q, head(msg, 300))
		}
	}
	if r := a.get(t, views.LineageJSONURL(id)+"?as_of=2026-1-1"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "as_of") {
		t.Errorf("JSON ?as_of=2026-1-1: %d %s", r.status, head(r.body, 200))
	}
}

// ?since= on the issuance page: the summary counts the changes in all its trees, and the root
// row of the tree that changed says how many of its batches did.
func TestSinceOnTheIssuancePage(t *testing.T) {
	// By id only, so that the first walk observes the one tree (the planner would also observe
	// batches of other trees from their holders' lists).
	d := newChangingDemo(t, appOptions{noPlanner: true})
	want, wantMarks := sinceExpected(d.changes)
	want.Day = "2026-10-02"
	iss := d.a.fx.Issuance
	d.a.get(t, views.IssuanceRetryURL(iss)) // the report walks its trees again
	doc, _ := d.a.page(t, views.IssuanceURL(iss)+"?since=2026-10-02", http.StatusOK)
	if s := text(doc.Find("[data-testid=since-summary]")); !strings.Contains(s, want.Summary()) {
		t.Errorf("summary %q; want %q in it", s, want.Summary())
	}
	counts := doc.Find("[data-testid=since-count]")
	row := counts.Closest("tr")
	if counts.Length() != 1 || !strings.Contains(row.Find("a").AttrOr("href", ""), d.root) ||
		!strings.Contains(text(counts), strconv.Itoa(len(wantMarks))+" change") {
		t.Errorf("%d root rows say they changed (%q); want the row of %s, with %d changes", counts.Length(), text(counts), d.root, len(wantMarks))
	}
	if href := row.Find("a").AttrOr("href", ""); !strings.Contains(href, "since=2026-10-02") {
		t.Errorf("the root's link %q does not keep ?since=", href)
	}
	// The chart draws the batches wide enough on their own (thinner ones merge into "n more"):
	// those of them that changed are marked, and only those.
	doc.Find("figure.icicle svg a[data-kind=batch]").Each(func(_ int, a *goquery.Selection) {
		id := strings.TrimPrefix(strings.SplitN(a.AttrOr("href", ""), "?", 2)[0], "/batches/")
		if changed := wantMarks[id] != ""; changed != a.HasClass("since") {
			t.Errorf("chart bar of %s: marked %v, changed %v", id, a.HasClass("since"), changed)
		}
	})
	d.a.page(t, views.IssuanceURL(iss)+"?since=2026-1-2", http.StatusBadRequest)
}
