package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// What a first user found on the search page: a supplier id is not "not valid"; other scripts'
// digits are named once; a pasted list longer than the parser reads says it was cut.
func TestSearchWordingAsAFirstUserReadsIt(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/search?q="+url.QueryEscape("spl_1G4X618G2AKBBJGG"), http.StatusBadRequest)
	if h := text(doc.Find("h1")); strings.Contains(h, "not a valid") || !strings.Contains(h, "Suppliers have no page") {
		t.Errorf("a supplier id's heading: %q", h)
	}
	doc, _ = a.page(t, "/search?q="+url.QueryEscape("ISO-1-BSTORE-GBR-F5X7-٢٠٢٤-78177-81177"), http.StatusBadRequest)
	if n := strings.Count(text(doc.Find("main")), "Arabic-Indic digits"); n != 1 {
		t.Errorf("Arabic-Indic digits named %d times, want once", n)
	}
	long := a.fx.WideRoot + " " + a.fx.DeepChainRoot + " " + strings.Repeat("and ", 1100) + a.fx.HostileOrgBatch
	doc, _ = a.page(t, "/search?q="+url.QueryEscape(long), http.StatusOK)
	if got := text(doc.Find("[data-testid=query-cut]")); !strings.Contains(got, "4,096") {
		t.Errorf("a query cut at 4,096 characters does not say so: %q", got)
	}
}
