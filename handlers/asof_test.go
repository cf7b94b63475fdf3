package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/views"
)

// Issue 18, point 2: ?as_of=YYYY-MM-DD shows the tree as the journal last observed it on or
// before that day, checked against the tree recorded by the walk of that day.

func TestAsOfRebuildsTheTreeOfTheFirstWalk(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	want, now := states(d.walk1), states(d.walk2)
	if len(want) == 0 || len(now) == len(want) {
		t.Fatalf("the second walk has %d batches, the first %d: the step did not change the tree", len(now), len(want))
	}

	got := exportOf(t, d.a, d.root, "2026-10-01")
	if gs := states(got); len(gs) != len(want) {
		t.Errorf("as of 2026-10-01: %d batches; the first walk had %d", len(gs), len(want))
	}
	for id, w := range want {
		if g := states(got)[id]; g != w {
			t.Errorf("as of 2026-10-01, %s: %+v; the first walk saw %+v", id, g, w)
		}
	}
	if !got.Summary.Clean || got.Summary.RootKg != d.walk1.Summary.RootKg || got.Totals.RetiredKg != d.walk1.Totals.RetiredKg {
		t.Errorf("the audit of the reconstruction: clean %v, root %d kg, retired %d kg; the first walk's: %d kg, %d kg",
			got.Summary.Clean, got.Summary.RootKg, got.Totals.RetiredKg, d.walk1.Summary.RootKg, d.walk1.Totals.RetiredKg)
	}
	var info struct {
		AsOf asOfInfoJSON `json:"as_of"`
	}
	r := d.a.get(t, views.LineageJSONURL(d.root)+"?as_of=2026-10-01")
	if err := json.Unmarshal([]byte(r.body), &info); err != nil || !info.AsOf.Reconstruction || info.AsOf.ObservedTo != walk1At.Format("2006-01-02T15:04:05Z07:00") ||
		info.AsOf.AbsentBatches != len(now)-len(want) {
		t.Errorf("as_of member: %+v, %v", info.AsOf, err)
	}
	// A day after the second walk is today's tree.
	for id, w := range now {
		if g := states(exportOf(t, d.a, d.root, "2026-10-05"))[id]; g != w {
			t.Errorf("as of 2026-10-05, %s: %+v; the second walk saw %+v", id, g, w)
			break
		}
	}

	// The page: under a banner that says what it is, from when, with the live page a link away.
	doc, _ := d.a.page(t, views.BatchURL(d.root)+"?as_of=2026-10-01", http.StatusOK)
	banner := doc.Find("[data-testid=asof-banner]")
	if b := text(banner); !strings.Contains(b, "As of 2026-10-01") || !strings.Contains(b, "reconstruction from this explorer’s observations") ||
		!strings.Contains(b, "2026-10-01 12:00 UTC") {
		t.Errorf("banner %q", b)
	}
	if href, _ := banner.Find("[data-testid=asof-live]").Attr("href"); href != views.BatchURL(d.root) {
		t.Errorf("the live page link is %q", href)
	}
	rows := doc.Find("[data-testid=tree] li[id]")
	if rows.Length() != len(want) {
		t.Errorf("the page's tree has %d rows; the first walk's had %d batches", rows.Length(), len(want))
	}
	rows.Each(func(_ int, li *goquery.Selection) {
		if id := strings.TrimPrefix(li.AttrOr("id", ""), "n-"); want[id] == (nodeState{}) {
			t.Errorf("row %s was first seen after the day", id)
		}
	})
	if doc.Find(".audit, [data-testid=audit]").Length() == 0 {
		t.Error("no audit on the reconstruction's page")
	}

	// Before anything was observed: said so, not an empty tree.
	doc, _ = d.a.page(t, views.BatchURL(d.root)+"?as_of=2026-09-30", http.StatusNotFound)
	if s := text(doc.Find("[data-testid=asof-nothing]")); !strings.Contains(s, "first observation of the tree was on 2026-10-01") {
		t.Errorf("as of a day before any observation: %q", s)
	}
	if r := d.a.get(t, views.LineageJSONURL(d.root)+"?as_of=2026-09-30"); r.status != http.StatusNotFound || !strings.Contains(r.body, "2026-10-01") {
		t.Errorf("JSON as of a day before any observation: %d %s", r.status, head(r.body, 200))
	}
}

// A branch opened on a reconstruction loads from the reconstruction: a batch split after the
// day shows no halves there, though today's tree has them, and the rows it does show link and
// load as of the day too.
func TestAsOfBranchesLoadFromTheReconstruction(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	before, after := states(d.walk1), states(d.walk2)
	var splitSince string
	for id, w := range before {
		if w.status == "active" && after[id].status == "split" {
			splitSince = id
			break
		}
	}
	if splitSince == "" {
		t.Fatal("the step split no batch of the tree: nothing to open")
	}
	rowsOf := func(path string) *goquery.Selection {
		t.Helper()
		doc, _ := d.a.page(t, path, http.StatusOK)
		return doc.Find("li[id]")
	}
	if n := rowsOf(views.SubtreeURL(d.root, splitSince)).Length(); n < 2 {
		t.Fatalf("today's branch of %s has %d rows, want its halves at least", splitSince, n)
	}
	if n := rowsOf(views.SubtreeURL(d.root, splitSince) + "?as_of=2026-10-01").Length(); n != 0 {
		t.Errorf("as of 2026-10-01 the branch of %s shows %d rows: today's halves inside a reconstruction", splitSince, n)
	}
	rows := rowsOf(views.SubtreeURL(d.root, d.root) + "?as_of=2026-10-01")
	if rows.Length() == 0 {
		t.Fatal("the root's branch as of 2026-10-01 is empty")
	}
	rows.Each(func(_ int, li *goquery.Selection) {
		id := strings.TrimPrefix(li.AttrOr("id", ""), "n-")
		if before[id] == (nodeState{}) {
			t.Errorf("row %s of the reconstruction's branch was first seen after the day", id)
		}
		if href := li.Find("a[href*='/batches/']").First().AttrOr("href", ""); href != "" && !strings.Contains(href, "as_of=2026-10-01") {
			t.Errorf("row %s links to %q, out of the reconstruction", id, href)
		}
	})
}
