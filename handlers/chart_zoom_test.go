package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/views"
)

// curWidth is the width, in the chart's units, of the outlined bar (the page's batch) of the
// chart in doc, and the chart's own width.
func curWidth(t *testing.T, doc *goquery.Document) (bar, chart int) {
	t.Helper()
	svg := doc.Find("[data-testid=icicle] svg")
	rect := svg.Find("a.cur rect")
	if rect.Length() != 1 {
		t.Fatalf("%d outlined bars, want 1", rect.Length())
	}
	bar, err1 := strconv.Atoi(rect.AttrOr("width", ""))
	chart, err2 := strconv.Atoi(svg.AttrOr("width", ""))
	if err1 != nil || err2 != nil {
		t.Fatalf("widths %q of %q", rect.AttrOr("width", ""), svg.AttrOr("width", ""))
	}
	return bar, chart
}

// A batch ten splits down a 3,001-batch tree is a sliver of the lineage page's chart: the page
// links, before the chart's hundreds of tab stops, past the chart and to a chart of the
// batch's branch, which works as plain links (no script) and shows the batch wide enough to
// see and click.
func TestChartZoomAndSkipLink(t *testing.T) {
	a := newApp(t, appOptions{})
	id := a.fx.WideLeafDeep
	doc, _ := a.page(t, "/batches/"+id, http.StatusOK)

	t.Run("skip link", func(t *testing.T) {
		skip := doc.Find("[data-testid=skip-chart]")
		if skip.Length() != 1 || text(skip) != "Skip the chart" {
			t.Fatalf("skip link: %d, %q", skip.Length(), text(skip))
		}
		target := strings.TrimPrefix(skip.AttrOr("href", ""), "#")
		if target == "" || doc.Find("#"+target).Length() != 1 {
			t.Fatalf("the skip link leads to %q, which is not on the page", skip.AttrOr("href", ""))
		}
		// It comes before the chart's first link, and what it leads to after the chart's last.
		var order []string
		doc.Find("[data-testid=skip-chart], [data-testid=icicle] svg a, #" + target).Each(func(_ int, s *goquery.Selection) {
			switch {
			case s.Is("[data-testid=skip-chart]"):
				order = append(order, "skip")
			case s.Is("#" + target):
				order = append(order, "target")
			case len(order) == 0 || order[len(order)-1] != "bar":
				order = append(order, "bar")
			}
		})
		if strings.Join(order, " ") != "skip bar target" {
			t.Errorf("document order %q, want the skip link, the chart's bars, then its target", order)
		}
	})

	page, full := curWidth(t, doc)
	zoom := doc.Find("[data-testid=chart-zoom]")
	href := zoom.AttrOr("href", "")
	if href != views.ChartURL(id, "") {
		t.Fatalf("zoom link %q, want %q", href, views.ChartURL(id, ""))
	}
	zdoc, _ := a.page(t, href, http.StatusOK)
	rec, _ := a.reg.Batch(id)
	t.Run("the branch's chart", func(t *testing.T) {
		bar, chart := curWidth(t, zdoc)
		t.Logf("the batch's bar: %d of %d units on its lineage page, %d of %d on its branch's chart", page, full, bar, chart)
		if bar*32 < chart {
			t.Errorf("on its branch's chart the batch is %d of %d units, want at least a 32nd", bar, chart)
		}
		if page*32 >= full {
			t.Errorf("on the lineage page the batch is already %d of %d units: the case is not the one the zoom is for", page, full)
		}
		scope := text(zdoc.Find("h1"))
		if !strings.Contains(scope, "branch from") || zdoc.Find(`[data-testid=chart-nav] a[href="`+views.BatchURL(id)+`"]`).Length() == 0 {
			t.Errorf("heading %q, or no link back to the lineage page", scope)
		}
		// Its bars lead to the chart from that bar while there is something below, and a bar
		// with nothing below to its batch's page; the batch itself is a leaf.
		if h := zdoc.Find("[data-testid=icicle] svg a.cur").AttrOr("href", ""); h != views.BatchURL(id) {
			t.Errorf("the batch's bar leads to %q, want its page", h)
		}
		if h := zdoc.Find(`[data-testid=icicle] svg a[href="` + views.ChartURL(id, rec.ParentID) + `"]`); h.Length() == 0 {
			t.Errorf("no bar leads to the chart from the batch's parent %s", rec.ParentID)
		}
	})

	t.Run("up and to the whole tree", func(t *testing.T) {
		from := text(zdoc.Find("h1 code"))
		up, _ := a.reg.Batch(from)
		u := zdoc.Find("[data-testid=chart-up]").AttrOr("href", "")
		if u != views.ChartURL(id, up.ParentID) {
			t.Fatalf("one split up from %s: %q, want the chart from %s", from, u, up.ParentID)
		}
		updoc, _ := a.page(t, u, http.StatusOK)
		if got := text(updoc.Find("h1 code")); got != up.ParentID {
			t.Errorf("one split up charts from %q, want %s", got, up.ParentID)
		}
		whole, _ := a.page(t, zdoc.Find("[data-testid=chart-tree]").AttrOr("href", ""), http.StatusOK)
		if got := text(whole.Find("h1")); !strings.Contains(got, "whole tree") {
			t.Errorf("the whole tree's chart is headed %q", got)
		}
		if whole.Find("[data-testid=chart-up]").Length() != 0 {
			t.Error("the whole tree's chart offers to go up")
		}
	})

	t.Run("a root has no zoom", func(t *testing.T) {
		rdoc, _ := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusOK)
		if rdoc.Find("[data-testid=chart-zoom]").Length() != 0 {
			t.Error("a root's page offers to zoom to its branch, which is the whole chart")
		}
		if rdoc.Find("[data-testid=skip-chart]").Length() != 1 {
			t.Error("a root's page has no skip link past the chart")
		}
	})

	t.Run("from outside the tree", func(t *testing.T) {
		a.page(t, views.ChartURL(id, a.fx.DeepChainLeaf), http.StatusNotFound)
		a.page(t, views.ChartURL(id, "not-an-id"), http.StatusBadRequest)
	})
}
