package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
)

const testBase = "/lineage"

// urlsOf lists every URL a page hands the browser: href, src, action, every data-* attribute
// that holds a path, and the meta refresh target; each with where it was found.
func urlsOf(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	doc.Find("*").Each(func(_ int, el *goquery.Selection) {
		for _, n := range el.Nodes {
			for _, at := range n.Attr {
				name := strings.ToLower(at.Key)
				switch {
				case name == "href", name == "src", name == "action", name == "xlink:href", name == "formaction":
				case strings.HasPrefix(name, "data-") && strings.HasPrefix(at.Val, "/"):
				default:
					continue
				}
				out[at.Val] = n.Data + "@" + name
			}
		}
	})
	doc.Find("meta[http-equiv=refresh]").Each(func(_ int, m *goquery.Selection) {
		if _, u, ok := strings.Cut(m.AttrOr("content", ""), ";url="); ok {
			out[u] = "meta refresh"
		}
	})
	return out
}

// checkUnderBase fails for a URL of ours that is not under the base path: a path, or an
// absolute URL naming the app's own host. Fragments and other sites' URLs are left alone.
func checkUnderBase(t *testing.T, a *testApp, from, u, where string) {
	t.Helper()
	if strings.HasPrefix(u, "#") {
		return
	}
	p, err := url.Parse(u)
	if err != nil {
		t.Errorf("%s: %s %q does not parse: %v", from, where, u, err)
		return
	}
	own, _ := url.Parse(a.url)
	if p.Host != "" && p.Host != own.Host {
		return // another site (the registry's public record)
	}
	if !strings.HasPrefix(p.Path, testBase+"/") || strings.HasPrefix(u, "//") {
		t.Errorf("%s: %s %q escapes %s", from, where, u, testBase)
	}
}

func TestBasePathKeepsEveryURLUnderIt(t *testing.T) {
	a := newApp(t, appOptions{basePath: testBase})
	serialOf := func(id string) string {
		b, ok := a.reg.Batch(id)
		if !ok {
			t.Fatalf("demo has no batch %s", id)
		}
		return b.SerialNumber
	}
	wide, huge := a.fx.WideLeafDeep, a.fx.HugeRoot
	pages := []struct {
		path   string
		status int
	}{
		{"/", http.StatusOK},
		{"/search?q=", http.StatusBadRequest},
		{"/search?q=" + url.QueryEscape("no id in here"), http.StatusBadRequest},
		{"/search?q=" + url.QueryEscape(wide+" "+huge), http.StatusOK}, // several: a choice page
		{"/batches/" + wide, http.StatusOK},
		{"/batches/" + huge, http.StatusOK},
		{"/issuances/" + a.fx.Issuance, http.StatusOK},
		{"/retirements/" + a.fx.Retirement, http.StatusOK},
		{"/retirements/" + a.fx.HostileRetirement, http.StatusOK},
		{"/batches/not-a-batch", http.StatusBadRequest},
		{"/nowhere", http.StatusNotFound},
		{"/static/", http.StatusNotFound},
	}
	seen := map[string]string{} // every URL found, with the page it was found on
	for _, pg := range pages {
		doc, _ := a.page(t, testBase+pg.path, pg.status)
		for u, where := range urlsOf(doc) {
			checkUnderBase(t, a, pg.path, u, where)
			seen[u] = pg.path
		}
	}

	// The large tree's collapsed branches are fetched by app.js from data-src: those URLs
	// answer under the base path, and the fragments' own links stay under it too.
	doc, _ := a.page(t, testBase+"/batches/"+huge, http.StatusOK)
	lazy := doc.Find("details.lazy[data-src]")
	if lazy.Length() == 0 {
		t.Fatal("the large tree has no collapsed branch: nothing checks the fragment URLs")
	}
	frag, _ := a.page(t, lazy.First().AttrOr("data-src", ""), http.StatusOK)
	if frag.Find("a[href]").Length() == 0 {
		t.Fatal("the fragment has no links")
	}
	for u, where := range urlsOf(frag) {
		checkUnderBase(t, a, "fragment", u, where)
	}

	// The lineage page's exports, the icicle chart's links and the assets were among them.
	for _, want := range []string{testBase + "/api/v1/batches/" + wide + "/lineage", testBase + "/batches/" + wide + "/lineage.csv",
		testBase + "/search", testBase + "/"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no page links %s", want)
		}
	}
	if doc.Find("svg a[href]").Length() == 0 {
		t.Error("the lineage page has no chart links to check")
	}
	for _, asset := range []string{"style.css", "app.js", "favicon.svg"} {
		found := false
		for u := range seen {
			found = found || strings.HasPrefix(u, testBase+"/static/"+asset+"?v=")
		}
		if !found {
			t.Errorf("no page loads %s from %s/static/", asset, testBase)
		}
	}

	// Every distinct app URL the pages link to names a route under the base path (a lookup
	// may still fail, but never with "no page at this address").
	followed := 0
	for u, from := range seen {
		if !strings.HasPrefix(u, testBase+"/") || strings.Contains(u, "retry=1") || followed == 80 {
			continue
		}
		followed++
		r := a.get(t, u)
		if r.status == http.StatusNotFound && strings.Contains(r.body, "There is no page at this address") ||
			r.status == http.StatusMethodNotAllowed || r.status >= 500 {
			t.Errorf("%s links %s, which answers %d", from, u, r.status)
		}
	}

	// Redirects: search, serial lookup, retry. Each Location is under the base path, and the
	// serial's JSON names the same page.
	serial := serialOf(wide)
	for _, p := range []string{
		"/search?q=" + url.QueryEscape(wide),
		"/search?q=" + url.QueryEscape(serial),
		"/search?q=" + url.QueryEscape(a.fx.Issuance),
		"/serial/" + url.PathEscape(serial),
		"/batches/" + wide + "?retry=1",
		"/issuances/" + a.fx.Issuance + "?retry=1",
		"/retirements/" + a.fx.Retirement + "?retry=1",
		"", // the base path without its slash: gin adds it
	} {
		r := a.get(t, testBase+p)
		loc := r.header.Get("Location")
		if r.status/100 != 3 || loc == "" {
			t.Errorf("GET %s%s = %d to %q, want a redirect", testBase, p, r.status, loc)
			continue
		}
		checkUnderBase(t, a, p, loc, "Location")
	}
	r := a.get(t, testBase+"/api/v1/serial/"+url.PathEscape(serial))
	var res struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(r.body), &res); err != nil || r.status != http.StatusOK {
		t.Fatalf("serial JSON: %d %v", r.status, err)
	}
	if res.URL != testBase+"/batches/"+wide {
		t.Errorf("serial JSON url = %q, want %s/batches/%s", res.URL, testBase, wide)
	}
	for _, p := range []string{"/batches/" + wide + "/lineage.csv", "/api/v1/batches/" + wide + "/lineage",
		"/api/v1/issuances/" + a.fx.Issuance, "/api/v1/retirements/" + a.fx.Retirement, "/static/app.js", "/healthz", "/readyz"} {
		if r := a.get(t, testBase+p); r.status != http.StatusOK {
			t.Errorf("GET %s%s = %d, want 200", testBase, p, r.status)
		}
	}
}

func TestBasePathProgressPageRefreshesUnderIt(t *testing.T) {
	// As in TestLongWalkShowsProgressThenThePage: a 320-deep chain at 5 ms an answer outlasts
	// a 1 ms wait.
	a := newApp(t, appOptions{basePath: testBase, demo: demo.Options{Latency: 5 * time.Millisecond}, progressWait: time.Millisecond})
	path := testBase + "/batches/" + a.fx.DeepChainLeaf
	doc, _ := a.page(t, path, http.StatusAccepted)
	if got := doc.Find("meta[http-equiv=refresh]").AttrOr("content", ""); !strings.HasPrefix(got, "1;url="+path+"?walk=") {
		t.Errorf("refresh = %q, want 1;url=%s?walk=…", got, path)
	}
	for u, where := range urlsOf(doc) {
		checkUnderBase(t, a, "progress page", u, where)
	}
}

func TestBasePathAppIsNotAtTheRoot(t *testing.T) {
	a := newApp(t, appOptions{basePath: testBase, metrics: true})
	for _, p := range []string{"/", "/search?q=x", "/batches/" + a.fx.WideLeafDeep, "/static/app.js", "/api/v1/batches/" + a.fx.WideLeafDeep + "/lineage",
		"/lineagefoo/", "/lineagefoo/batches/" + a.fx.WideLeafDeep} {
		doc, _ := a.page(t, p, http.StatusNotFound)
		// Even the 404 page outside the base path leads back inside it.
		for u, where := range urlsOf(doc) {
			checkUnderBase(t, a, p, u, where)
		}
	}
	// Probes and scrapes reach the pod directly: they answer at the root as well.
	for _, p := range []string{"/healthz", "/readyz", "/metrics", testBase + "/metrics"} {
		if r := a.get(t, p); r.status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, r.status)
		}
	}
}

func TestBasePathKeepsProbesPublicUnderAuth(t *testing.T) {
	proxies, err := ParseCIDRs("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, appOptions{basePath: testBase, auth: &AuthConfig{Mode: AuthHeader, TrustedProxies: proxies}})
	// The test client connects from loopback, outside TRUSTED_PROXIES: pages are refused...
	if r := a.get(t, testBase+"/"); r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
		t.Errorf("GET %s/ from an untrusted peer = %d, want 401 or 403", testBase, r.status)
	}
	// ...but probes and assets are public under the base path as at the root.
	for _, p := range []string{testBase + "/healthz", testBase + "/readyz", testBase + "/static/style.css", "/healthz"} {
		if r := a.get(t, p); r.status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200 without identity", p, r.status)
		}
	}
}

func TestCleanBasePath(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "/lineage": "/lineage", "/a/b-c_d.e~f": "/a/b-c_d.e~f"} {
		if got, err := CleanBasePath(in); err != nil || got != want {
			t.Errorf("CleanBasePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"lineage", "/lineage/", "//x", "/a//b", "/a/./b", "/a/..", "/a b", "/a?b", "/a#b", "/a%2fb", `/a"b`, "/a<b", "/é", "/a;b"} {
		if got, err := CleanBasePath(in); err == nil {
			t.Errorf("CleanBasePath(%q) = %q, want an error", in, got)
		}
	}
}
