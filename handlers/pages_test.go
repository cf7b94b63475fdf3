package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
)

func TestEveryPageAnswersHEADLikeGET(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, path := range []string{
		"/", "/search?q=" + a.fx.WideRoot, "/search?q=nothing", "/batches/" + a.fx.WideRoot,
		"/batches/ctb_bad", "/serial/ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", "/no/such/page",
		"/healthz", "/static/style.css", "/issuances/" + a.fx.Issuance, "/retirements/" + a.fx.Retirement,
		"/issuances/iss_bad", "/retirements/" + registry.ExampleID(registry.PrefixRetirement),
		"/serial/not-a-serial", "/api/v1/serial/ISO-1-BSTORE-GBR-F5X7-2024-78177-81177",
		"/api/v1/issuances/" + a.fx.Issuance, "/api/v1/retirements/" + a.fx.Retirement,
	} {
		g, h := a.get(t, path), a.do(t, http.MethodHead, path)
		if g.status != h.status {
			t.Errorf("%s: HEAD %d, GET %d", path, h.status, g.status)
		}
		if h.body != "" {
			t.Errorf("%s: HEAD has a body", path)
		}
		if g.status == http.StatusOK && h.header.Get("Content-Length") != strconv.Itoa(len(g.body)) {
			t.Errorf("%s: HEAD Content-Length %q, GET body %d bytes", path, h.header.Get("Content-Length"), len(g.body))
		}
		if h.header.Get("Content-Type") != g.header.Get("Content-Type") {
			t.Errorf("%s: HEAD Content-Type %q, GET %q", path, h.header.Get("Content-Type"), g.header.Get("Content-Type"))
		}
	}
}

func TestEveryHTMLPageHasTheDemoBannerAndASafePolicy(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/", 200}, {"/batches/" + a.fx.AllFinalRoot, 200}, {"/batches/ctb_bad", 400},
		{"/batches/ctb_1ZZZZZZZZZZZZZZZ", 404}, {"/search?q=", 400}, {"/serial/ISO-1-X-GBR-01P4-2024-1-2", 404},
		{"/serial/ISO-1-X-GBR-01P4-2024-2-1", 400}, {"/nowhere", 404},
		{"/issuances/" + a.fx.Issuance, 200}, {"/retirements/" + a.fx.HostileRetirement, 200},
		{"/issuances/iss_bad", 400}, {"/retirements/" + registry.ExampleID(registry.PrefixRetirement), 404},
	} {
		doc, r := a.page(t, tc.path, tc.status)
		if doc.Find("[data-testid=demo-banner]").Length() != 1 {
			t.Errorf("%s: no demo banner", tc.path)
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: CSP = %q", tc.path, r.header.Get("Content-Security-Policy"))
		}
		if doc.Find("script:not([src]), [style], [onclick], [onload]").Length() != 0 {
			t.Errorf("%s: inline script or style, which the policy blocks", tc.path)
		}
	}
}

func TestNoDemoBannerForARealRegistry(t *testing.T) {
	a := newApp(t, appOptions{})
	h := New(Config{Explorer: a.explorer})
	srv := newTestServer(t, h)
	r := srvGet(t, srv+"/")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r))
	if doc.Find("[data-testid=demo-banner]").Length() != 0 {
		t.Error("demo banner without demo mode")
	}
}

func TestHomePage(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/", 200)
	form := doc.Find("form[role=search][action='/search']")
	if form.Length() != 1 || form.Find("input[name=q]").Length() != 1 {
		t.Fatalf("search forms: %d", form.Length())
	}
	if doc.Find("a[href='/batches/"+a.fx.WideRoot+"']").Length() != 1 {
		t.Error("the configured example is not linked")
	}
}
