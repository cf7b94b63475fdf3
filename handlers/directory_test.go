package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/views"
)

func TestSearchFindsProjectsAndOrganisations(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, tc := range []struct{ q, want string }{
		{a.fx.Project, views.ProjectURL(a.fx.Project)},
		{strings.ToLower(a.fx.Organisation), views.OrganisationURL(a.fx.Organisation)},
		{"https://registry.isometric.com/project/" + a.fx.Project, views.ProjectURL(a.fx.Project)},
	} {
		r := a.get(t, "/search?q="+tc.q)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
			t.Errorf("search %q: %d to %q, want 303 to %q", tc.q, r.status, r.header.Get("Location"), tc.want)
		}
	}
}

func TestProjectPageListsItsIssuances(t *testing.T) {
	a := newApp(t, appOptions{})
	ctx := context.Background()
	doc, _ := a.page(t, views.ProjectURL(a.fx.Project), http.StatusOK)
	all, err := a.client.AllIssuances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, iss := range all {
		if iss.ProjectID == a.fx.Project {
			want[views.IssuanceURL(iss.ID)] = true
		}
	}
	rows := doc.Find(`[data-testid=issuances] tbody tr`)
	if rows.Length() != len(want) || len(want) < 2 {
		t.Fatalf("%d issuance rows, want %d", rows.Length(), len(want))
	}
	rows.Each(func(_ int, r *goquery.Selection) {
		if href, _ := r.Find("a").Attr("href"); !want[href] {
			t.Errorf("row links %q, not an issuance of the project", href)
		}
	})
	if n := doc.Find(`[data-testid=checks] [data-state=ok]`).Length(); n < 2 || doc.Find(`[data-testid=mismatch]`).Length() != 0 {
		t.Errorf("%d checks that add up; mismatch shown: %v", n, doc.Find(`[data-testid=mismatch]`).Length() != 0)
	}
	// The supplier's organisation links to its page.
	p, err := a.client.Project(ctx, a.fx.Project)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find(`a[href="`+views.OrganisationURL(p.Supplier.Organisation.ID)+`"]`).Length() == 0 {
		t.Errorf("no link to the supplier's organisation %s", p.Supplier.Organisation.ID)
	}

	var rep struct {
		Issuances []json.RawMessage `json:"issuances"`
		TotalKg   int64             `json:"total_kg"`
	}
	r := a.get(t, "/api/v1"+views.ProjectURL(a.fx.Project))
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &rep) != nil || len(rep.Issuances) != len(want) ||
		rep.TotalKg != p.IssuedCreditsTotal.CreditKgs {
		t.Errorf("JSON: %d, %d issuances, total %d kg (project states %d); body %.200s", r.status, len(rep.Issuances), rep.TotalKg, p.IssuedCreditsTotal.CreditKgs, r.body)
	}

	doc, _ = a.page(t, views.ProjectURL("prj_1ABC"), http.StatusBadRequest)
	if h := text(doc.Find("h1")); !strings.Contains(h, "not a valid project id") {
		t.Errorf("malformed project: heading %q", h)
	}
	a.page(t, views.ProjectURL("prj_1000000000000000"), http.StatusNotFound)
}

func TestOrganisationPageChecksItsBalance(t *testing.T) {
	a := newApp(t, appOptions{})
	ctx := context.Background()
	id := a.fx.Organisation
	doc, _ := a.page(t, views.OrganisationURL(id), http.StatusOK)
	list, err := a.client.AllOrganisationCreditBatches(ctx, id, isometric.OrganisationBatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	held, retirements := 0, map[string]bool{}
	for _, b := range list {
		switch {
		case b.Status == registry.StatusActive && b.Owner.ID == id:
			held++
		case b.Status == registry.StatusRetired:
			retirements[b.RetirementID] = true
		}
	}
	if n := doc.Find(`[data-testid=holdings] tbody tr`).Length(); n != held || held == 0 {
		t.Errorf("%d holdings rows, want %d", n, held)
	}
	if n := doc.Find(`[data-testid=retirements] tbody tr`).Length(); n != len(retirements) || n == 0 {
		t.Errorf("%d retirement rows, want %d", n, len(retirements))
	}
	if doc.Find(`[data-testid=mismatch]`).Length() != 0 || doc.Find(`[data-testid=checks] [data-state=ok]`).Length() != 2 {
		t.Errorf("consistent balance: checks %q", text(doc.Find(`[data-testid=checks]`)))
	}

	doc, _ = a.page(t, views.OrganisationURL(a.fx.UnbalancedOrganisation), http.StatusOK)
	if doc.Find(`[data-testid=mismatch]`).Length() != 1 {
		t.Fatal("no mismatch shown for the unbalanced organisation")
	}
	bad := text(doc.Find(`[data-testid=checks] [data-state=bad]`))
	if !strings.Contains(bad, views.FormatKg(a.fx.UnbalancedOrganisationKg)+" kg less") {
		t.Errorf("the mismatch does not say by how much: %q", bad)
	}
	var rep struct {
		Checks []struct {
			StatedKg int64 `json:"stated_kg"`
			SummedKg int64 `json:"summed_kg"`
		} `json:"checks"`
	}
	r := a.get(t, "/api/v1"+views.OrganisationURL(a.fx.UnbalancedOrganisation))
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &rep) != nil || len(rep.Checks) != 2 ||
		rep.Checks[0].StatedKg-rep.Checks[0].SummedKg != a.fx.UnbalancedOrganisationKg {
		t.Errorf("JSON: %d %+v", r.status, rep.Checks)
	}
	a.page(t, views.OrganisationURL("org_1000000000000000"), http.StatusNotFound)
}

func TestBatchPageLinksItsProjectAndOrganisations(t *testing.T) {
	a := newApp(t, appOptions{})
	b, _ := a.reg.Batch(a.fx.WideLeafDeep)
	doc, _ := a.page(t, views.BatchURL(b.ID), http.StatusOK)
	for _, href := range []string{views.ProjectURL(b.ProjectID), views.OrganisationURL(b.Owner.ID)} {
		if doc.Find(`a[href="`+href+`"]`).Length() == 0 {
			t.Errorf("the batch page does not link %s", href)
		}
	}
}
