package lineage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// directoryExplorer is an Explorer over the real client, in front of the demo registry served
// over HTTP.
func directoryExplorer(t *testing.T) (*demo.Registry, *isometric.Client, *lineage.Explorer) {
	t.Helper()
	reg := demo.New(demo.Options{})
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg),
		AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret, BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return reg, c, lineage.NewExplorer(c, lineage.ExplorerConfig{})
}

func TestProjectReportSumsItsIssuances(t *testing.T) {
	reg, c, ex := directoryExplorer(t)
	ctx := context.Background()
	id := reg.Fixtures().Project
	r, err := ex.ProjectReport(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The project's issuances as GET /issuances lists them, a route the report does not read.
	all, err := c.AllIssuances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	var wantKg int64
	for _, iss := range all {
		if iss.ProjectID == id {
			want[iss.ID] = iss.CreditBatchSizeTotal.CreditKgs
			wantKg += iss.CreditBatchSizeTotal.CreditKgs
		}
	}
	if len(want) < 2 || len(r.Issuances) != len(want) {
		t.Fatalf("report lists %d issuances, GET /issuances has %d of the project", len(r.Issuances), len(want))
	}
	for _, iss := range r.Issuances {
		if _, ok := want[iss.ID]; !ok {
			t.Errorf("issuance %s is not the project's", iss.ID)
		}
	}
	if r.TotalKg != wantKg || r.SupplierKg+r.BufferKg != wantKg {
		t.Errorf("totals %d = %d + %d, want %d", r.TotalKg, r.SupplierKg, r.BufferKg, wantKg)
	}
	if r.SupplierIssuances <= len(r.Issuances) {
		t.Errorf("read %d issuances of the supplier: the supplier's other projects were not filtered out", r.SupplierIssuances)
	}
	if r.Mismatches() != 0 || len(r.Checks) < 2 {
		t.Errorf("checks %+v", r.Checks)
	}

	if _, err := ex.ProjectReport(ctx, "prj_1000000000000000"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("unknown project: %v", err)
	}
	if _, err := ex.ProjectReport(ctx, "prj_x"); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("malformed project: %v", err)
	}
}

func TestOrganisationReportChecksTheBalance(t *testing.T) {
	reg, c, ex := directoryExplorer(t)
	ctx := context.Background()
	f := reg.Fixtures()

	r, err := ex.OrganisationReport(ctx, f.Organisation)
	if err != nil {
		t.Fatal(err)
	}
	if r.Pages < 2 {
		t.Errorf("read %d pages; the fixture has more than one", r.Pages)
	}
	if r.Mismatches() != 0 {
		t.Errorf("consistent organisation: checks %+v", r.Checks)
	}
	// Every batch the list holds is in exactly one of the report's lists.
	list, err := c.AllOrganisationCreditBatches(ctx, f.Organisation, isometric.OrganisationBatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Held) + len(r.Retired) + len(r.RetiredFor) + len(r.Other); n != len(list) || len(list) <= registry.MaxPageSize {
		t.Errorf("report has %d batches, the registry lists %d", n, len(list))
	}
	var retired int64
	for _, s := range r.Retirements {
		retired += s.Kg
	}
	if retired != r.RetiredKg+r.RetiredForKg || len(r.Retirements) == 0 {
		t.Errorf("retirements sum to %d, want %d + %d", retired, r.RetiredKg, r.RetiredForKg)
	}

	bad, err := ex.OrganisationReport(ctx, f.UnbalancedOrganisation)
	if err != nil {
		t.Fatal(err)
	}
	if bad.Mismatches() != 1 {
		t.Fatalf("unbalanced organisation: checks %+v", bad.Checks)
	}
	for _, ch := range bad.Checks {
		if !ch.OK() && (ch.DifferenceKg() != f.UnbalancedOrganisationKg || ch.SummedKg != bad.HeldKg) {
			t.Errorf("mismatch %+v: want the balance %d kg over the held batches' %d", ch, f.UnbalancedOrganisationKg, bad.HeldKg)
		}
	}
}
