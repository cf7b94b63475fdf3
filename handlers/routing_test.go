package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAPIUnknownRoutesAnswerJSON: a tool calling the JSON API gets a JSON error for an address
// or a method the API does not have, in the shape of the API's other errors, while the same
// mistakes outside the API still get the HTML page. Under a base path the API is only the one
// under it: /api/v1/ at the root is outside the app.
func TestAPIUnknownRoutesAnswerJSON(t *testing.T) {
	for _, base := range []string{"", testBase} {
		t.Run("base="+base, func(t *testing.T) {
			a := newApp(t, appOptions{basePath: base})
			id := a.fx.WideLeafDeep
			for _, tc := range []struct {
				method, path string
				status       int
				code         string
			}{
				{http.MethodGet, "/api/v1/nope", http.StatusNotFound, "not_found"},
				{http.MethodGet, "/api/v1", http.StatusNotFound, "not_found"},
				{http.MethodGet, "/api/v1/", http.StatusNotFound, "not_found"},
				{http.MethodGet, "/api/v1/batches/" + id + "/lineagex", http.StatusNotFound, "not_found"},
				{http.MethodGet, "/api/v1/batches/" + id, http.StatusNotFound, "not_found"},
				{http.MethodGet, "/api/v1/serial/a/b", http.StatusNotFound, "not_found"},
				{http.MethodDelete, "/api/v1/nope", http.StatusNotFound, "not_found"},
				{http.MethodPost, "/api/v1/batches/" + id + "/lineage", http.StatusMethodNotAllowed, "method_not_allowed"},
				{http.MethodPut, "/api/v1/issuances/" + a.fx.Issuance, http.StatusMethodNotAllowed, "method_not_allowed"},
				{http.MethodOptions, "/api/v1/serial/ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", http.StatusMethodNotAllowed, "method_not_allowed"},
			} {
				what := tc.method + " " + base + tc.path
				r := a.do(t, tc.method, base+tc.path)
				if r.status != tc.status {
					t.Errorf("%s = %d, want %d; body starts %q", what, r.status, tc.status, head(r.body, 200))
					continue
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s: Content-Type %q, want application/json; body starts %q", what, ct, head(r.body, 200))
					continue
				}
				var fields map[string]any
				if err := json.Unmarshal([]byte(r.body), &fields); err != nil {
					t.Errorf("%s: body is not JSON: %v; %q", what, err, head(r.body, 200))
					continue
				}
				// The shape every API error has (apiError), with the status repeated.
				for _, k := range []string{"status", "code", "error", "what", "value", "retry"} {
					if _, ok := fields[k]; !ok {
						t.Errorf("%s: the error lacks %q: %s", what, k, r.body)
					}
				}
				if fields["status"] != float64(tc.status) || fields["code"] != tc.code || fields["retry"] != false {
					t.Errorf("%s: status %v, code %v, retry %v; want %d, %s, false", what, fields["status"], fields["code"], fields["retry"], tc.status, tc.code)
				}
				if msg, _ := fields["error"].(string); msg == "" {
					t.Errorf("%s: no error message", what)
				}
				if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") != "GET, HEAD" {
					t.Errorf("%s: Allow %q, want GET, HEAD", what, r.header.Get("Allow"))
				}
				if r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: Cache-Control %q, want no-store", what, r.header.Get("Cache-Control"))
				}
				// HEAD answers the same, without the body.
				if tc.method == http.MethodGet {
					h := a.do(t, http.MethodHead, base+tc.path)
					if h.status != r.status || h.header.Get("Content-Type") != r.header.Get("Content-Type") || h.body != "" {
						t.Errorf("HEAD %s%s = %d %q with %d bytes; GET %d %q", base, tc.path, h.status, h.header.Get("Content-Type"), len(h.body), r.status, r.header.Get("Content-Type"))
					}
				}
			}

			// Everything else keeps the HTML page: pages, look-alikes of the API prefix, and,
			// under a base path, the API's paths at the root.
			html := []struct {
				method, path string
				status       int
			}{
				{http.MethodGet, base + "/nope", http.StatusNotFound},
				{http.MethodGet, base + "/api", http.StatusNotFound},
				{http.MethodGet, base + "/api/v1x/nope", http.StatusNotFound},
				{http.MethodGet, base + "/api/v2/nope", http.StatusNotFound},
				{http.MethodGet, base + "/batches/" + id + "/nope", http.StatusNotFound},
				{http.MethodPost, base + "/batches/" + id, http.StatusMethodNotAllowed},
			}
			if base != "" {
				html = append(html,
					struct {
						method, path string
						status       int
					}{http.MethodGet, "/api/v1/nope", http.StatusNotFound},
					struct {
						method, path string
						status       int
					}{http.MethodGet, "/api/v1/batches/" + id + "/lineage", http.StatusNotFound},
					struct {
						method, path string
						status       int
					}{http.MethodGet, base + "x/api/v1/nope", http.StatusNotFound})
			}
			for _, tc := range html {
				r := a.do(t, tc.method, tc.path)
				if r.status != tc.status || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
					t.Errorf("%s %s = %d %q, want %d with the HTML page", tc.method, tc.path, r.status, r.header.Get("Content-Type"), tc.status)
				}
			}
		})
	}
}

// forgedPrefixes are X-Forwarded-Prefix values a client (not our proxy) may send to steer a
// redirect: off-site, scheme-relative, or elsewhere on the host.
var forgedPrefixes = []string{
	"//evil.example",
	"/\\evil.example",
	"https://evil.example",
	"//evil.example/lineage",
	"/elsewhere",
	"/../../admin",
	"%2F%2Fevil.example",
	".",
}

// TestTrailingSlashRedirectStaysOnTheApp: the redirect that drops (or adds) a trailing slash
// goes to the route itself, under the base path, whatever X-Forwarded-Prefix says. gin's own
// redirect prepended that header (cleaned of dots), so any client could point it at another
// path of the host, and a shared cache would serve that 301 to everyone.
func TestTrailingSlashRedirectStaysOnTheApp(t *testing.T) {
	for _, base := range []string{"", testBase} {
		t.Run("base="+base, func(t *testing.T) {
			a := newApp(t, appOptions{basePath: base})
			id := a.fx.AllFinalRoot
			cases := []struct{ path, want string }{
				{base + "/batches/" + id + "/", base + "/batches/" + id},
				{base + "/batches/" + id + "/?serial=x&retry=", base + "/batches/" + id + "?serial=x&retry="},
				{base + "/issuances/" + a.fx.Issuance + "/", base + "/issuances/" + a.fx.Issuance},
				{base + "/api/v1/batches/" + id + "/lineage/", base + "/api/v1/batches/" + id + "/lineage"},
				{base + "/search/?q=" + id, base + "/search?q=" + id},
				{base + "/static", base + "/static/"},
				{"/healthz/", "/healthz"},
			}
			if base != "" {
				cases = append(cases, struct{ path, want string }{base, base + "/"},
					struct{ path, want string }{base + "/healthz/", base + "/healthz"})
			}
			for _, tc := range cases {
				for _, prefix := range append([]string{""}, forgedPrefixes...) {
					for _, method := range []string{http.MethodGet, http.MethodHead} {
						req, err := http.NewRequest(method, a.url+tc.path, nil)
						if err != nil {
							t.Fatal(err)
						}
						if prefix != "" {
							req.Header.Set("X-Forwarded-Prefix", prefix)
						}
						resp, err := a.http.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						resp.Body.Close()
						loc := resp.Header.Get("Location")
						what := method + " " + tc.path + " with X-Forwarded-Prefix " + prefix
						want := http.StatusMovedPermanently // gin's choice: 307 for other methods, HEAD too
						if method != http.MethodGet {
							want = http.StatusTemporaryRedirect
						}
						if resp.StatusCode != want {
							t.Errorf("%s = %d to %q, want %d to %s", what, resp.StatusCode, loc, want, tc.want)
							continue
						}
						if loc != tc.want {
							t.Errorf("%s: Location %q, want %q", what, loc, tc.want)
						}
						u, err := url.Parse(loc)
						if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(loc, "/") ||
							strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
							t.Errorf("%s: Location %q leaves the app", what, loc)
						}
						if base != "" && tc.path != "/healthz/" && !strings.HasPrefix(loc, base+"/") {
							t.Errorf("%s: Location %q leaves %s", what, loc, base)
						}
					}
				}
			}

			// A path no route has with or without the slash is not redirected, nor is a method
			// no route has: they get the 404 (or 405) page.
			for _, p := range []string{base + "/nope/", base + "/batches/", base + "//batches/" + id + "/", "//evil.example/"} {
				if r := a.get(t, p); r.status != http.StatusNotFound || r.header.Get("Location") != "" {
					t.Errorf("GET %s = %d to %q, want 404", p, r.status, r.header.Get("Location"))
				}
			}
			if r := a.do(t, http.MethodPost, base+"/batches/"+id+"/"); r.status/100 == 3 {
				t.Errorf("POST %s/batches/%s/ = %d to %q, want no redirect", base, id, r.status, r.header.Get("Location"))
			}
		})
	}
}

// TestTrailingSlashRedirectKeepsTheEscapedPath: an id with characters that need escaping
// comes back escaped, so that the Location header is a valid URL naming the same route.
func TestTrailingSlashRedirectKeepsTheEscapedPath(t *testing.T) {
	a := newApp(t, appOptions{basePath: testBase})
	for path, want := range map[string]string{
		testBase + "/batches/a%20b/":     testBase + "/batches/a%20b",
		testBase + "/batches/%5Cevil/":   testBase + "/batches/%5Cevil",
		testBase + "/batches/%0d%0aX:1/": testBase + "/batches/%0D%0AX:1",
		testBase + "/search/?q=%0d%0a":   testBase + "/search?q=%0d%0a",
	} {
		r := a.get(t, path)
		if r.status != http.StatusMovedPermanently || r.header.Get("Location") != want {
			t.Errorf("GET %s = %d to %q, want 301 to %q", path, r.status, r.header.Get("Location"), want)
		}
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
