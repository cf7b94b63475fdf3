package handlers

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/views"
)

// tableRows reads a batches table's rows as the registry's own records of their batches, in
// the order shown.
func tableRows(t *testing.T, a *testApp, doc *goquery.Document, testid string) []registry.CreditBatch {
	t.Helper()
	var out []registry.CreditBatch
	doc.Find(`[data-testid=` + testid + `] tbody > tr`).Each(func(_ int, tr *goquery.Selection) {
		b, ok := a.reg.Batch(text(tr.Find("th > a code").First()))
		if !ok {
			t.Fatalf("row %q is no batch", text(tr.Find("th").First()))
		}
		out = append(out, b)
	})
	return out
}

// A retirement's batches are one compact table, sorted by a column heading's link (no
// JavaScript), each row's path a click away.
func TestRetirementBatchesAreASortableTable(t *testing.T) {
	a := newApp(t, appOptions{})
	list, err := a.client.RetirementCreditBatches(context.Background(), a.fx.Retirement)
	if err != nil {
		t.Fatal(err)
	}
	page := views.RetirementURL(a.fx.Retirement)
	doc, _ := a.page(t, page, http.StatusOK)
	rows := tableRows(t, a, doc, "batches")
	if len(rows) != len(list.Nodes) || len(rows) < 3 {
		t.Fatalf("%d rows, the registry lists %d batches", len(rows), len(list.Nodes))
	}
	for i, b := range list.Nodes {
		if rows[i].ID != b.ID {
			t.Fatalf("unsorted row %d is %s, the registry's order has %s", i, rows[i].ID, b.ID)
		}
	}
	if n := doc.Find(`[data-testid=batches] tbody > tr details.row-path [data-testid=path]`).Length(); n != len(rows) {
		t.Errorf("%d rows have their path on demand, want %d", n, len(rows))
	}
	href, ok := doc.Find(`[data-testid=batches] thead a[data-sort=kg]`).Attr("href")
	if !ok || href != page+"?sort=kg" {
		t.Fatalf("kg heading links %q", href)
	}
	byKg := func(desc bool) func(x, y registry.CreditBatch) int {
		return func(x, y registry.CreditBatch) int {
			c := x.Size.CreditKgs - y.Size.CreditKgs
			if desc {
				c = -c
			}
			switch {
			case c < 0:
				return -1
			case c > 0:
				return 1
			}
			return 0
		}
	}
	for _, sort := range []string{"kg", "-kg"} {
		doc, _ := a.page(t, page+"?sort="+sort, http.StatusOK)
		rows := tableRows(t, a, doc, "batches")
		if len(rows) != len(list.Nodes) || !slices.IsSortedFunc(rows, byKg(sort == "-kg")) {
			t.Errorf("?sort=%s: rows not sorted by kg", sort)
		}
		th := doc.Find(`[data-testid=batches] thead th[aria-sort!=none]`)
		if th.Length() != 1 || text(th.Find("a")) == "" || th.AttrOr("aria-sort", "") != map[string]string{"kg": "ascending", "-kg": "descending"}[sort] {
			t.Errorf("?sort=%s: sorted heading %q aria-sort %q", sort, text(th), th.AttrOr("aria-sort", ""))
		}
	}
}

// The organisation page's holdings are the same table, sorted the same way.
func TestOrganisationHoldingsAreASortableTable(t *testing.T) {
	a := newApp(t, appOptions{})
	list, err := a.client.AllOrganisationCreditBatches(context.Background(), a.fx.Organisation, isometric.OrganisationBatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, b := range list {
		if b.Status == registry.StatusActive && b.Owner.ID == a.fx.Organisation {
			held++
		}
	}
	doc, _ := a.page(t, views.OrganisationURL(a.fx.Organisation)+"?sort=-kg", http.StatusOK)
	rows := tableRows(t, a, doc, "holdings")
	if len(rows) != held || held < 2 {
		t.Fatalf("%d rows, want %d", len(rows), held)
	}
	if !slices.IsSortedFunc(rows, func(x, y registry.CreditBatch) int {
		switch {
		case x.Size.CreditKgs > y.Size.CreditKgs:
			return -1
		case x.Size.CreditKgs < y.Size.CreditKgs:
			return 1
		}
		return 0
	}) {
		t.Error("holdings not sorted by kg, largest first")
	}
	if doc.Find(`[data-testid=holdings] thead th[aria-sort=descending] a[data-sort=kg]`).Length() != 1 {
		t.Error("the kg heading is not marked as sorted descending")
	}
	// Each row's path is one click away, on the batch's own page.
	href, _ := doc.Find(`[data-testid=holdings] tbody > tr [data-testid=row-path]`).First().Attr("href")
	if want := views.BatchURL(rows[0].ID) + "#path-h"; href != want {
		t.Fatalf("first row's path links %q, want %q", href, want)
	}
	if page, _ := a.page(t, views.BatchURL(rows[0].ID), http.StatusOK); page.Find("#path-h").Length() != 1 {
		t.Error("the batch page has no #path-h to land on")
	}
}
