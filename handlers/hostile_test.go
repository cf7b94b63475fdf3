package handlers

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Issue 6, point 3: no route answers 5xx to hostile input. These tests send what an attacker
// or a broken integration might send to every route and check the answer is a clean 4xx (or a
// page), never a 5xx, a stack trace, reflected markup or a request to the upstream.

// hostileRoutes are every route, with {x} where the hostile value goes. The fixed id next to
// it is well formed, so that the hostile value is the only thing wrong.
var hostileRoutes = []string{
	"/{x}",
	"/search?q={x}",
	"/batches/{x}",
	"/batches/{x}?serial={x}&retry={x}",
	"/batches/{x}/subtree/ctb_1DRBTYA8Q1S07CBY",
	"/batches/ctb_1DRBTYA8Q1S07CBY/subtree/{x}",
	"/batches/{x}/lineage.csv",
	"/api/v1/batches/{x}/lineage",
	"/serial/{x}",
	"/api/v1/serial/{x}",
	"/issuances/{x}",
	"/retirements/{x}",
	"/issuances/{x}?retry=1",
	"/api/v1/issuances/{x}",
	"/api/v1/retirements/{x}",
	"/retirements/ret_1DRBTYA8Q1S07CBY?sort={x}",
	"/projects/{x}",
	"/organisations/{x}",
	"/organisations/org_1DRBTYA8Q1S07CBY?sort={x}",
	"/api/v1/projects/{x}",
	"/api/v1/organisations/{x}",
	"/static/{x}",
	"/static/{x}?v={x}",
	"/healthz?{x}",
}

// hostileValues are path segments or query values, already percent-encoded where a client
// would have to encode them.
var hostileValues = []string{
	"%00",
	"ctb_%00AAAAAAAAAAAAAAAA",
	"ctb_1DRBTYA8Q1S07CBY%00",
	strings.Repeat("A", 10<<10),
	"ctb_" + strings.Repeat("A", 10<<10),
	"ISO-1-BSTORE-GBR-F5X7-2024-" + strings.Repeat("9", 10<<10) + "-1",
	"../../../etc/passwd",
	"..%2f..%2f..%2fetc%2fpasswd",
	"%2e%2e%2f%2e%2e%2fetc%2fpasswd",
	"%2e%2e",
	"..",
	".",
	"%2F",
	"ctb_1DRBTYA8Q1S07CBY%2F..%2F..%2Fstatic",
	"..%5c..%5cwindows",
	"%0d%0aSet-Cookie:%20x=1",
	"ctb_1DRBTYA8Q1S07CBY%0d%0aLocation:%20http://evil",
	"%0a",
	"%ff%fe",
	"ctb_%ff%feAAAAAAAAAAAAAA",
	"%c0%ae%c0%ae%c0%af",
	"%ed%a0%80",
	"%3Cscript%3Ealert(1)%3C%2Fscript%3E",
	"%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
	"%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
	"javascript:alert(1)",
	"%D1%81tb_1DRBTYA8Q1S07CBY",                         // Cyrillic "с" for "c"
	"%EF%BD%83%EF%BD%94%EF%BD%82_1DRBTYA8Q1S07CBY",      // fullwidth "ｃｔｂ"
	"ctb_1DRB%E2%80%8BTYA8Q1S07CBY",                     // zero-width space inside
	"%E2%80%AEctb_1DRBTYA8Q1S07CBY",                     // right-to-left override
	"ISO-1-BSTORE-GBR-F5X7-2024-81177-78177",            // reversed range
	"ISO-1-BSTORE-GBR-F5X7-2024--1-5",                   // negative start
	"ISO-1-BSTORE-GBR-F5X7-2024-0-99999999999999999999", // beyond uint64
	"ISO-1-BSTORE-GBR-F5X7-99999-1-2",
	"ISO%00-1-BSTORE-GBR-F5X7-2024-78177-81177",
	"iss_1DRBTYA8Q1S07CBY",
	"ret_1DRBTYA8Q1S07CBY",
	"https%3A%2F%2Fregistry.isometric.com%2Fcredit-batches%2F%3Cscript%3E",
	"%25",
	"%2525",
	"+",
	"a%20b",
	"%F0%9F%92%A5",
}

// hostileMethods are odd methods: every route must refuse them cleanly (405) or serve them.
var hostileMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodDelete, http.MethodPatch, http.MethodOptions, http.MethodTrace, "PROPFIND", "BREW"}

// stackTrace matches what a Go panic or a debug.Stack() prints.
var stackTrace = regexp.MustCompile(`goroutine \d+ \[|runtime/debug\.|\.go:\d+ \+0x`)

// checkHostileAnswer is the invariant every answer to hostile input keeps. input is what was
// sent, so that text the input itself carries is not mistaken for a leak.
func checkHostileAnswer(t testing.TB, what, input string, status int, header http.Header, body string) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: status %d; body starts %q", what, status, head(body, 300))
	}
	lower := strings.ToLower(body)
	in := strings.ToLower(input)
	if !strings.Contains(in, "panic") && strings.Contains(lower, "panic") {
		t.Errorf("%s: body mentions a panic: %q", what, head(body, 300))
	}
	if !stackTrace.MatchString(input) && stackTrace.MatchString(body) {
		t.Errorf("%s: body carries a stack trace: %q", what, head(body, 300))
	}
	// The only script a page may carry is the app's own file (CSP allows no inline script);
	// any other "<script" came from the input, unescaped.
	if strings.HasPrefix(header.Get("Content-Type"), "text/html") {
		for rest := lower; ; {
			i := strings.Index(rest, "<script")
			if i < 0 {
				break
			}
			if !strings.HasPrefix(rest[i:], `<script src="`) || !strings.Contains(head(rest[i:], 200), `/static/app.js`) {
				t.Errorf("%s: markup from the input reflected unescaped: %q", what, head(rest[i:], 200))
				break
			}
			rest = rest[i+len("<script"):]
		}
	}
	for k, vs := range header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Errorf("%s: header %s carries a control character: %q", what, k, v)
			}
		}
	}
	if _, ok := header["Set-Cookie"]; ok {
		t.Errorf("%s: a Set-Cookie header was injected: %q", what, header["Set-Cookie"])
	}
}

// TestHostileInput sends every hostile value to every route over real HTTP, with GET and
// HEAD, and each route once with odd methods.
func TestHostileInput(t *testing.T) {
	a := newApp(t, appOptions{})
	send := func(method, path string) {
		t.Helper()
		before := a.reg.Requests()
		req, err := http.NewRequest(method, a.url+path, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", method, head(path, 120), err)
		}
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, head(path, 120), err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		what := method + " " + head(path, 120)
		checkHostileAnswer(t, what, path, resp.StatusCode, resp.Header, buf.String())
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusMethodNotAllowed {
			if after := a.reg.Requests(); after != before {
				t.Errorf("%s: status %d yet %d upstream requests were sent", what, resp.StatusCode, after-before)
			}
		}
		settle(a.explorer, req) // after the count: settling may itself walk
	}
	for _, route := range hostileRoutes {
		for _, v := range hostileValues {
			path := strings.ReplaceAll(route, "{x}", v)
			send(http.MethodGet, path)
			send(http.MethodHead, path)
		}
		for _, m := range hostileMethods {
			send(m, strings.ReplaceAll(route, "{x}", "ctb_1DRBTYA8Q1S07CBY"))
		}
	}

	// Malformed ids and serials are refused with 400 before anything is sent upstream.
	for _, p := range []string{"/batches/%00", "/batches/ctb_%ff%feAAAAAAAAAAAAAA", "/batches/ctb_" + strings.Repeat("A", 10<<10),
		"/issuances/%3Cscript%3E", "/retirements/%0d%0a", "/projects/%3Cscript%3E", "/organisations/org_%ff%feAAAAAAAAAAAAAA",
		"/serial/%ff%fe", "/api/v1/serial/ISO%00", "/batches/%D1%81tb_1DRBTYA8Q1S07CBY"} {
		before := a.reg.Requests()
		if r := a.get(t, p); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400", head(p, 80), r.status)
		}
		if a.reg.Requests() != before {
			t.Errorf("GET %s: a malformed id reached the upstream", head(p, 80))
		}
	}

	// Query strings: a huge one, and the same parameter many times.
	huge := "/search?q=" + strings.Repeat("%3Cscript%3E", 20<<10/12)
	send(http.MethodGet, huge)
	send(http.MethodGet, "/search?"+strings.Repeat("q=%3Cscript%3E&", 500))
	send(http.MethodGet, "/batches/"+a.fx.WideLeafDeep+"?"+strings.Repeat("serial=%ff&retry=1&", 500))
	send(http.MethodGet, "/search?q=a&q="+a.fx.WideRoot)
	send(http.MethodGet, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
}

// settle waits for the background work a ?retry= request starts and does not wait for (it
// redirects at once), so that the next request's upstream count is its own. It joins the job
// the handler started rather than sleeping; where the handler started none (it refused the
// request), joining starts a walk, so call it only after the request's count is checked.
func settle(ex *lineage.Explorer, req *http.Request) {
	if req.URL.Query().Get("retry") == "" {
		return
	}
	parts := strings.Split(strings.TrimPrefix(strings.TrimPrefix(req.URL.Path, "/api/v1"), "/"), "/")
	if len(parts) < 2 {
		return
	}
	id := strings.TrimSpace(parts[1])
	switch {
	case parts[0] == "batches" && registry.ValidateID(registry.PrefixCreditBatch, id) == nil:
		<-ex.StartLineage(id, false).Done()
	case parts[0] == "issuances" && registry.ValidateID(registry.PrefixIssuance, id) == nil:
		<-ex.StartIssuanceReport(id, false).Done()
	case parts[0] == "retirements" && registry.ValidateID(registry.PrefixRetirement, id) == nil:
		<-ex.StartRetirementReport(id, false).Done()
	}
}

// TestHostileRawRequests sends request lines no HTTP client library will build (a raw NUL, a
// bare CR, an invalid escape): whoever answers — net/http or the app — must answer 4xx.
func TestHostileRawRequests(t *testing.T) {
	a := newApp(t, appOptions{})
	host := strings.TrimPrefix(a.url, "http://")
	for _, target := range []string{
		"/batches/ctb_\x00AAAAAAAAAAAAAAAA",
		"/batches/%zz",
		"/batches/ctb_1DRB\rTYA8Q1S07CBY",
		"/batches/\xff\xfe",
		"/search?q=\xff\xfe<script>",
		"/serial/ISO-1\t-X",
		"//batches//ctb_1DRBTYA8Q1S07CBY",
		"/static/../../../../etc/passwd",
		"/static/%2e%2e/%2e%2e/etc/passwd",
		"*",
		"http://evil.example/batches/ctb_1DRBTYA8Q1S07CBY",
	} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Errorf("GET %q: no HTTP answer: %v", target, err)
			continue
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		conn.Close()
		checkHostileAnswer(t, fmt.Sprintf("GET %q", target), target, resp.StatusCode, resp.Header, buf.String())
		if resp.StatusCode == http.StatusOK && strings.Contains(buf.String(), "root:") {
			t.Errorf("GET %q: served a file from outside the assets", target)
		}
	}
}

// inProcessTransport serves the demo registry's requests in process, so that the fuzzer spends
// its time in the handlers rather than in loopback sockets.
type inProcessTransport struct{ h http.Handler }

func (tr inProcessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	tr.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// FuzzRoutes sends fuzzed paths, queries and methods to every route of the real router, in
// process. Run it with: go test ./handlers -run '^$' -fuzz FuzzRoutes -fuzztime 3m
func FuzzRoutes(f *testing.F) {
	for i, v := range hostileValues {
		f.Add(uint8(i), head(v, 300), "q="+head(v, 300), uint8(i))
	}
	f.Add(uint8(2), "ctb_1DRBTYA8Q1S07CBY", "", uint8(0))
	for i := range 6 {
		f.Add(uint8(i), "@"+string(rune('0'+i)), "serial=ISO-1-BSTORE-GBR-F5X7-2024-78177-81177&retry=1", uint8(i))
	}
	f.Add(uint8(8), "ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", "serial=ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", uint8(1))

	reg := demo.New(demo.Options{})
	fx := reg.Fixtures()
	client, err := isometric.NewClient(isometric.ClientConfig{BaseURL: "http://demo.invalid" + demo.BasePath,
		AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret,
		HTTPClient:  &http.Client{Transport: inProcessTransport{http.StripPrefix(demo.BasePath, reg)}},
		BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	ex := lineage.NewExplorer(client, lineage.ExplorerConfig{Walker: lineage.WalkerConfig{MaxNodes: 60_000}})
	var logs syncBuffer
	m := NewMetrics()
	m.Attach(ex)
	// A long progress wait makes every walk finish inside its request, so that no walk is still
	// fetching when the next input checks the upstream count.
	h := New(Config{Explorer: ex, Demo: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		ProgressWait: time.Minute, Metrics: m})
	// Real ids let the fuzzer reach rendered lineage pages, not just error pages.
	known := []string{fx.WideLeafDeep, fx.HostileOrgBatch, fx.Issuance, fx.HostileRetirement, fx.AllFinalRoot, fx.Cycle}

	f.Fuzz(func(t *testing.T, route uint8, seg, query string, method uint8) {
		tmpl := hostileRoutes[int(route)%len(hostileRoutes)]
		if strings.HasPrefix(seg, "@") && len(seg) > 1 { // "@n" stands for a known id
			seg = known[int(seg[1])%len(known)] + seg[2:]
		}
		target := strings.ReplaceAll(tmpl, "{x}", seg)
		if query != "" {
			if strings.Contains(target, "?") {
				target += "&" + query
			} else {
				target += "?" + query
			}
		}
		m := hostileMethods[int(method)%len(hostileMethods)]
		req, err := http.NewRequest(m, "http://explorer.test"+target, nil)
		if err != nil || req.URL.Host != "explorer.test" || req.URL.Path == "" || req.URL.Path[0] != '/' {
			t.Skip() // not a request a client could send: net/http refuses it before any handler
		}
		req.RemoteAddr = "192.0.2.1:1234"
		before := reg.Requests()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code >= 500 {
			t.Errorf("log: %s", head(logs.take(), 4000))
		}
		checkHostileAnswer(t, m+" "+head(target, 200), target, rec.Code, rec.Header(), body)
		if rec.Code == http.StatusBadRequest {
			if after := reg.Requests(); after != before {
				t.Errorf("%s %s: 400 yet %d upstream requests were sent", m, head(target, 200), after-before)
			}
		}
		settle(ex, req) // after the count: settling may itself walk
		logs.take()
	})
}
