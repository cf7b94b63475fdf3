package handlers

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/static"
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

func TestUnknownRoutesAndMethods(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/issuances/iss_1CD1CEPJ1R5SDWHN/nothing", http.StatusNotFound)
	if !strings.Contains(text(doc.Find("h1")), "no page") {
		t.Errorf("404 heading: %q", text(doc.Find("h1")))
	}
	r := a.do(t, http.MethodPost, "/batches/"+a.fx.WideRoot)
	if r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Errorf("POST = %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestStaticAssets(t *testing.T) {
	a := newApp(t, appOptions{})
	r := a.get(t, "/static/style.css?v="+static.Version)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("style.css: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("versioned asset Cache-Control = %q", r.header.Get("Cache-Control"))
	}
	if r := a.get(t, "/static/app.js"); r.status != 200 || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned app.js: %d %q", r.status, r.header.Get("Cache-Control"))
	}
	for _, p := range []string{"/static/", "/static/nope.css", "/static/../main.go"} {
		if r := a.get(t, p); r.status != http.StatusNotFound && r.status != http.StatusMovedPermanently {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	// Every asset a page refers to is served.
	doc, _ := a.page(t, "/", 200)
	doc.Find("link[href], script[src], img[src]").Each(func(_ int, s *goquery.Selection) {
		u := s.AttrOr("href", s.AttrOr("src", ""))
		if r := a.get(t, u); r.status != 200 {
			t.Errorf("%s: %d", u, r.status)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	a := newApp(t, appOptions{})
	if r := a.get(t, "/healthz"); r.status != 200 {
		t.Errorf("/healthz = %d", r.status)
	}
	if r := a.get(t, "/readyz"); r.status != 200 {
		t.Fatalf("/readyz = %d %q", r.status, r.body)
	}
	before := a.reg.Requests()
	for range 5 {
		if r := a.get(t, "/readyz"); r.status != 200 {
			t.Fatalf("/readyz = %d", r.status)
		}
	}
	if n := a.reg.Requests() - before; n != 0 {
		t.Errorf("%d upstream calls for 5 probes within the cache period", n)
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

func TestLargePagesAreCompressedWhenAsked(t *testing.T) {
	a := newApp(t, appOptions{})
	path := "/batches/" + a.fx.WideRoot
	plain := a.get(t, path)
	req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != plain.body {
		t.Error("the compressed page differs from the plain one")
	}
	if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl == 0 || cl >= len(plain.body) {
		t.Errorf("compressed Content-Length %d, plain %d", cl, len(plain.body))
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true,
		"gzip;q=0": false, "gzip; q=0.000": false, "br": false, "x-gzip": false} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}
