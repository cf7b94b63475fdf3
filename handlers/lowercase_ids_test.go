package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/views"
)

// A link whose id went through a spreadsheet's LOWER() names the same record: every page
// redirects to its canonical address and every JSON route answers for it, never "the registry
// has no such record".
func TestLowerCaseIDsNameTheSameRecord(t *testing.T) {
	a := newApp(t, appOptions{})
	big, _ := a.reg.Batch(a.fx.BigKgRoot)
	for _, c := range []struct{ path, to string }{
		{"/issuances/" + strings.ToLower(a.fx.Issuance), views.IssuanceURL(a.fx.Issuance)},
		{"/retirements/" + strings.ToLower(a.fx.Retirement), views.RetirementURL(a.fx.Retirement)},
		{"/projects/" + strings.ToLower(big.ProjectID), views.ProjectURL(big.ProjectID)},
		{"/organisations/" + strings.ToLower(big.Owner.ID) + "?sort=kg", views.OrganisationURL(big.Owner.ID) + "?sort=kg"},
		{"/batches/" + strings.ToUpper(a.fx.BigKgRoot), views.BatchURL(a.fx.BigKgRoot)},
	} {
		r := a.get(t, c.path)
		if r.status != http.StatusMovedPermanently || r.header.Get("Location") != c.to {
			t.Errorf("GET %s: %d → %q, want 301 → %q", c.path, r.status, r.header.Get("Location"), c.to)
		}
	}
	for _, p := range []string{
		"/api/v1/batches/" + strings.ToLower(a.fx.BigKgRoot) + "/lineage",
		"/api/v1/issuances/" + strings.ToLower(a.fx.Issuance),
		"/api/v1/retirements/" + strings.ToLower(a.fx.Retirement),
		"/api/v1/projects/" + strings.ToLower(big.ProjectID),
		"/api/v1/organisations/" + strings.ToLower(big.Owner.ID),
	} {
		if r := a.get(t, p); r.status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200: %.200s", p, r.status, r.body)
		}
	}
}
