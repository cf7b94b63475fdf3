package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// Issue 14, point 10: what a CJK input method types in full-width mode is the same id or serial
// number, wherever input is read; digits of other scripts get a message that names them.

func TestFullWidthInputFindsTheSamePages(t *testing.T) {
	a := newApp(t, appOptions{})
	leaf, _ := a.reg.Batch(a.fx.AllFinalRoot)
	serial := leaf.SerialNumber
	for _, c := range []struct {
		path, to string
		status   int
	}{
		{"/batches/" + url.PathEscape(demo.FullWidth(a.fx.AllFinalRoot)), views.BatchURL(a.fx.AllFinalRoot), http.StatusMovedPermanently},
		{"/issuances/" + url.PathEscape(demo.FullWidth(a.fx.Issuance)), views.IssuanceURL(a.fx.Issuance), http.StatusMovedPermanently},
		{"/retirements/" + url.PathEscape(demo.FullWidth(a.fx.Retirement)), views.RetirementURL(a.fx.Retirement), http.StatusMovedPermanently},
		{"/serial/" + url.PathEscape(demo.FullWidth(serial)), views.BatchURL(a.fx.AllFinalRoot), http.StatusSeeOther},
		{"/search?q=" + url.QueryEscape("\u3000"+demo.FullWidth(serial)+"\u3000"), views.SerialURL(serial), http.StatusSeeOther},
		{"/search?q=" + url.QueryEscape(demo.FullWidth(a.fx.AllFinalRoot)), views.BatchURL(a.fx.AllFinalRoot), http.StatusSeeOther},
		{"/search?q=" + url.QueryEscape(demo.FullWidth("https://registry.isometric.com/credit-batches/"+a.fx.AllFinalRoot)), views.BatchURL(a.fx.AllFinalRoot), http.StatusSeeOther},
	} {
		r := a.get(t, c.path)
		if r.status != c.status || r.header.Get("Location") != c.to {
			t.Errorf("GET %s: %d → %q; want %d → %q", c.path, r.status, r.header.Get("Location"), c.status, c.to)
		}
	}
	if r := a.get(t, "/api/v1/batches/"+url.PathEscape(demo.FullWidth(a.fx.AllFinalRoot))+"/lineage"); r.status != http.StatusOK {
		t.Errorf("lineage JSON by a full-width id: %d", r.status)
	}
}

func TestOtherScriptsDigitsAreNamedOnThePage(t *testing.T) {
	a := newApp(t, appOptions{})
	arabic := "ISO-1-BSTORE-GBR-F5X7-٢٠٢٤-78177-81177"
	doc, _ := a.page(t, "/serial/"+url.PathEscape(arabic), http.StatusBadRequest)
	if got := text(doc.Find("main")); !strings.Contains(got, "Arabic-Indic digits") {
		t.Errorf("the serial's 400 does not name the digits: %q", head(got, 400))
	}
	doc, _ = a.page(t, "/search?q="+url.QueryEscape("ctb_१२३DRBTYA8Q1S07CBY"), http.StatusBadRequest)
	if got := text(doc.Find("[data-testid=other-digits]")); !strings.Contains(got, "Devanagari digits") {
		t.Errorf("the search page does not name the digits: %q", got)
	}
	doc, _ = a.page(t, "/batches/"+url.PathEscape("ctb_١DRBTYA8Q1S07CBY"), http.StatusBadRequest)
	if got := text(doc.Find("main")); !strings.Contains(got, "Arabic-Indic digits") {
		t.Errorf("the batch's 400 does not name the digits: %q", head(got, 400))
	}
	if a.reg.Requests() != 0 {
		t.Error("malformed input reached the registry")
	}
}
