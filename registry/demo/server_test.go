// Over 500 lines because the demo registry serves every route of the upstream API, each with
// its pagination, filters and error answers; one test per route, on one server.

package demo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
)

type answer struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, url string) answer {
	t.Helper()
	return send(t, authed(httptestRequest(t, url)))
}

func TestAuth(t *testing.T) {
	r := demo.New(demo.Options{})
	base := demo.NewTestServer(t, r)
	id := r.Fixtures().DeepChainRoot
	const presented = "s3cr3t-that-must-not-leak"
	cases := []struct {
		name, auth, secret string
		want               int
	}{
		{"both", "Bearer " + demo.AccessToken, demo.ClientSecret, 200},
		{"scheme in lower case", "bearer " + demo.AccessToken, demo.ClientSecret, 200},
		{"nothing", "", "", 401},
		{"no secret", "Bearer " + demo.AccessToken, "", 401},
		{"no token", "", demo.ClientSecret, 401},
		{"wrong secret", "Bearer " + demo.AccessToken, presented, 401},
		{"wrong token", "Bearer " + presented, demo.ClientSecret, 401},
		{"basic auth", "Basic " + demo.AccessToken, demo.ClientSecret, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptestRequest(t, base+"/credit_batches/"+id)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.secret != "" {
				req.Header.Set("x-client-secret", tc.secret)
			}
			a := send(t, req)
			if a.status != tc.want {
				t.Fatalf("status %d, want %d", a.status, tc.want)
			}
			if tc.want != 401 {
				return
			}
			var d struct{ Detail string }
			if err := json.Unmarshal([]byte(a.body), &d); err != nil || d.Detail == "" {
				t.Errorf("401 body %q is not {\"detail\": \"...\"}", a.body)
			}
			if strings.Contains(a.body, presented) || strings.Contains(a.body, demo.ClientSecret) {
				t.Errorf("401 body echoes a credential: %s", a.body)
			}
		})
	}
	if got := r.BatchFetches(id); got != 2 {
		t.Errorf("BatchFetches = %d, want 2 (401s are not fetches)", got)
	}
	if got := r.Requests(); got != int64(len(cases)) {
		t.Errorf("Requests = %d, want %d", got, len(cases))
	}
}

func TestRoutingAndStats(t *testing.T) {
	r := demo.New(demo.Options{})
	base := demo.NewTestServer(t, r)
	f := r.Fixtures()

	post := authed(httptestRequest(t, base+"/credit_batches/"+f.DeepChainRoot))
	post.Method = http.MethodPost
	if a := send(t, post); a.status != 405 || a.header.Get("Allow") != "GET" {
		t.Errorf("POST: %d, Allow %q", a.status, a.header.Get("Allow"))
	}
	for _, path := range []string{"/credit_batches", "/credit_batches/", "/issuances/", "/nope", "/credit_batches/" + f.DeepChainRoot + "/x"} {
		if a := get(t, base+path); a.status != 404 || !strings.HasPrefix(a.body, `{"detail":`) {
			t.Errorf("GET %s: %d %s", path, a.status, a.body)
		}
	}
	outside := strings.TrimSuffix(base, "/registry/v0") + "/credit_batches/" + f.DeepChainRoot
	if a := get(t, outside); a.status != 404 {
		t.Errorf("GET outside the base path: %d", a.status)
	}

	r.ResetStats()
	for range 3 {
		get(t, base+"/credit_batches/"+f.WideRoot)
	}
	get(t, base+"/credit_batches/ctb_1000000000000000")
	get(t, base+"/issuances/"+f.Issuance+"/credit_batches") // lists are not batch fetches
	if got := r.BatchFetches(f.WideRoot); got != 3 {
		t.Errorf("BatchFetches(WideRoot) = %d, want 3", got)
	}
	if got := r.BatchFetches("ctb_1000000000000000"); got != 0 {
		t.Errorf("BatchFetches(unknown) = %d", got)
	}
	if got := r.Requests(); got != 5 {
		t.Errorf("Requests = %d, want 5", got)
	}
	r.ResetStats()
	if r.Requests() != 0 || r.BatchFetches(f.WideRoot) != 0 {
		t.Errorf("ResetStats left counts")
	}
}

// TestRawJSON checks what typed decoding would hide: nulls present, big sizes exact, markup
// passed through unescaped as the upstream sends it.
func TestRawJSON(t *testing.T) {
	r := shared()
	base := demo.NewTestServer(t, r)
	f := r.Fixtures()

	big := get(t, base+"/credit_batches/"+f.BigKgRoot).body
	for _, want := range []string{`"credit_kgs":9007199378197782`, `"credits":9007199378197.782`, `"parent_id":null`, `"beneficiary":null`, `"carbon_removal_data":null`} {
		if !strings.Contains(big, want) {
			t.Errorf("big-kg batch lacks %s: %s", want, big)
		}
	}
	hostile := get(t, base+"/credit_batches/"+f.HostileOrgBatch).body
	if !strings.Contains(hostile, `<script>alert(\"owner\")</script> & <b>Sons</b>`) {
		t.Errorf("owner name not passed through as is: %s", hostile)
	}
	leaf := get(t, base+"/credit_batches/"+f.DeepChainLeaf).body
	var m map[string]any
	if err := json.Unmarshal([]byte(leaf), &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 22 {
		t.Errorf("credit batch has %d fields, want the 22 the description requires", len(m))
	}
	if s, _ := m["issued_at"].(string); len(s) != len("2026-02-27T15:40:46.883028Z") || !strings.HasSuffix(s, "Z") {
		t.Errorf("issued_at %q is not RFC 3339 with microseconds", s)
	}
	if s, _ := m["sequestered_on"].(string); len(s) != len("2026-01-20") {
		t.Errorf("sequestered_on %q is not a date", s)
	}
}

type relayPage struct {
	Nodes []struct {
		ID       string `json:"id"`
		IssuedAt string `json:"issued_at"`
	} `json:"nodes"`
	PageInfo struct {
		HasPreviousPage bool    `json:"has_previous_page"`
		StartCursor     *string `json:"start_cursor"`
		HasNextPage     bool    `json:"has_next_page"`
		EndCursor       *string `json:"end_cursor"`
	} `json:"page_info"`
	TotalCount int `json:"total_count"`
}

// walk follows end_cursor from the first page to the last and returns the pages.
func walk(t *testing.T, url string, first int) []relayPage {
	t.Helper()
	var pages []relayPage
	after := ""
	for len(pages) < 1000 {
		q := "first=" + strconv.Itoa(first)
		if after != "" {
			q += "&after=" + after
		}
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		a := get(t, url+sep+q)
		if a.status != 200 {
			t.Fatalf("GET %s: %d %s", url, a.status, a.body)
		}
		var p relayPage
		if err := json.Unmarshal([]byte(a.body), &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Nodes) > first || p.PageInfo.HasPreviousPage != (len(pages) > 0) {
			t.Fatalf("page %d: %d nodes, has_previous_page %v", len(pages), len(p.Nodes), p.PageInfo.HasPreviousPage)
		}
		pages = append(pages, p)
		if !p.PageInfo.HasNextPage {
			return pages
		}
		after = *p.PageInfo.EndCursor
	}
	t.Fatalf("pagination of %s does not end", url)
	return nil
}

func TestIssuancePagination(t *testing.T) {
	r := shared()
	base := demo.NewTestServer(t, r)
	f := r.Fixtures()

	pages := walk(t, base+"/issuances", 50)
	if len(pages) != 2 {
		t.Fatalf("%d pages at first=50, want 2", len(pages))
	}
	seen := map[string]int{}
	prev := "9999"
	for pi, p := range pages {
		for _, n := range p.Nodes {
			seen[n.ID] = pi
			if n.IssuedAt > prev {
				t.Errorf("issuances not newest first: %s after %s", n.IssuedAt, prev)
			}
			prev = n.IssuedAt
		}
		if p.TotalCount != len(seen) && pi == len(pages)-1 {
			t.Errorf("total_count %d, walked %d", p.TotalCount, len(seen))
		}
	}
	if pi, ok := seen[f.LastPageIssuance]; !ok || pi != len(pages)-1 {
		t.Errorf("LastPageIssuance on page %d of %d (found %v)", pi, len(pages), ok)
	}
	if _, ok := seen[f.Issuance]; !ok {
		t.Errorf("Issuance fixture not listed")
	}

	small := walk(t, base+"/issuances", 7)
	n := 0
	for _, p := range small {
		n += len(p.Nodes)
	}
	if n != len(seen) || len(small) != (len(seen)+6)/7 {
		t.Errorf("first=7: %d issuances over %d pages, want %d", n, len(small), len(seen))
	}

	// Backwards from the last page's start.
	a := get(t, base+"/issuances?last=5&before="+*pages[1].PageInfo.StartCursor)
	var back relayPage
	if err := json.Unmarshal([]byte(a.body), &back); err != nil || len(back.Nodes) != 5 ||
		back.Nodes[4].ID != pages[0].Nodes[49].ID || !back.PageInfo.HasNextPage || !back.PageInfo.HasPreviousPage {
		t.Errorf("last=5&before: %d nodes (%v)", len(back.Nodes), err)
	}
	// An empty page has null cursors.
	a = get(t, base+"/issuances?after="+*pages[1].PageInfo.EndCursor)
	if !strings.Contains(a.body, `"start_cursor":null`) || !strings.Contains(a.body, `"nodes":[]`) {
		t.Errorf("page past the end: %s", a.body)
	}
}

func TestOrganisationCreditBatches(t *testing.T) {
	r := shared()
	base := demo.NewTestServer(t, r)
	f := r.Fixtures()
	url := base + "/organisations/" + f.Organisation + "/credit_batches"

	pages := walk(t, url, 50)
	ids := map[string]bool{}
	for _, p := range pages {
		for _, n := range p.Nodes {
			if ids[n.ID] {
				t.Errorf("%s listed twice", n.ID)
			}
			ids[n.ID] = true
			b, _ := r.Batch(n.ID)
			holder := b.Owner.ID == f.Organisation || b.Beneficiary != nil && b.Beneficiary.ID == f.Organisation
			if b.Status == "split" || !holder {
				t.Errorf("%s (%s) should not be listed", n.ID, b.Status)
			}
		}
	}
	if len(pages) < 2 || len(ids) != pages[0].TotalCount {
		t.Errorf("%d pages, %d batches, total_count %d", len(pages), len(ids), pages[0].TotalCount)
	}

	var withSplit relayPage
	_ = json.Unmarshal([]byte(get(t, url+"?status=split&status=active&status=retired").body), &withSplit)
	if withSplit.TotalCount <= len(ids) {
		t.Errorf("asking for split too gives %d, default %d", withSplit.TotalCount, len(ids))
	}

	var byRetirement relayPage
	_ = json.Unmarshal([]byte(get(t, url+"?first=50&retirement_id="+f.Retirement).body), &byRetirement)
	for _, n := range byRetirement.Nodes {
		if b, _ := r.Batch(n.ID); b.RetirementID != f.Retirement {
			t.Errorf("retirement filter let %s through", n.ID)
		}
	}

	var asc, desc relayPage
	_ = json.Unmarshal([]byte(get(t, url+"?first=50&sort_direction=asc").body), &asc)
	_ = json.Unmarshal([]byte(get(t, url+"?first=50").body), &desc)
	if len(asc.Nodes) == 0 || asc.Nodes[0].IssuedAt > desc.Nodes[0].IssuedAt || asc.Nodes[0].IssuedAt > asc.Nodes[len(asc.Nodes)-1].IssuedAt {
		t.Errorf("sort_direction=asc does not start with the oldest")
	}
	var after relayPage
	cut := desc.Nodes[0].IssuedAt
	_ = json.Unmarshal([]byte(get(t, url+"?first=50&issued_before="+cut).body), &after)
	for _, n := range after.Nodes {
		if n.IssuedAt >= cut {
			t.Errorf("issued_before=%s let %s (%s) through", cut, n.ID, n.IssuedAt)
		}
	}
}

func TestFaultInjection(t *testing.T) {
	r := demo.New(demo.Options{FaultRate: 0.3, RetryAfter: 1500 * time.Millisecond, Seed: 7})
	base := demo.NewTestServer(t, r)
	const n = 600
	var statuses []int
	counts := map[int]int{}
	for range n {
		a := get(t, base+"/projects")
		statuses = append(statuses, a.status)
		counts[a.status]++
		switch a.status {
		case 429:
			if a.header.Get("Retry-After") != "2" || !strings.Contains(a.body, `"detail"`) {
				t.Fatalf("429: Retry-After %q, body %s", a.header.Get("Retry-After"), a.body)
			}
		case 503:
			if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.HasPrefix(a.body, "<html>") {
				t.Fatalf("503: %q %s", a.header.Get("Content-Type"), a.body)
			}
		case 200:
		default:
			t.Fatalf("unexpected status %d", a.status)
		}
	}
	faults := counts[429] + counts[503]
	if rate := float64(faults) / n; rate < 0.24 || rate > 0.36 {
		t.Errorf("fault rate %.3f, want about 0.3 (%v)", rate, counts)
	}
	if share := float64(counts[429]) / float64(faults); share < 0.35 || share > 0.65 {
		t.Errorf("429 share of faults %.2f, want about half (%v)", share, counts)
	}
	if r.Requests() != n {
		t.Errorf("Requests = %d, want %d (faults count)", r.Requests(), n)
	}

	// The same seed replays the same faults.
	r.SetOptions(demo.Options{FaultRate: 0.3, RetryAfter: 1500 * time.Millisecond, Seed: 7})
	for i := range 100 {
		if a := get(t, base+"/projects"); a.status != statuses[i] {
			t.Fatalf("request %d: %d, first run %d", i, a.status, statuses[i])
		}
	}

	r.SetOptions(demo.Options{FaultRate: 1})
	seen := map[int]bool{}
	for range 40 {
		a := get(t, base+"/projects")
		seen[a.status] = true
		if a.status == 429 && a.header.Get("Retry-After") != "0" {
			t.Errorf("Retry-After %q with RetryAfter 0", a.header.Get("Retry-After"))
		}
	}
	if seen[200] || !seen[429] || !seen[503] {
		t.Errorf("FaultRate 1: statuses %v", seen)
	}
	r.SetOptions(demo.Options{})
	for range 20 {
		if a := get(t, base+"/projects"); a.status != 200 {
			t.Fatalf("FaultRate 0: %d", a.status)
		}
	}
}

func TestLatency(t *testing.T) {
	r := demo.New(demo.Options{Latency: 120 * time.Millisecond})
	srv := httptest.NewServer(http.StripPrefix("/registry/v0", r))
	base := srv.URL + "/registry/v0"
	id := r.Fixtures().AllFinalRoot

	start := time.Now()
	if a := get(t, base+"/credit_batches/"+id); a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Errorf("answered in %v, latency is 120ms", el)
	}
	start = time.Now()
	if a := get(t, base+"/credit_batches/ctb_x"); a.status != 422 || time.Since(start) < 120*time.Millisecond {
		t.Errorf("errors are delayed too: %d after %v", a.status, time.Since(start))
	}

	// A cancelled request stops waiting: the handler returns, nothing is answered or counted.
	r.SetOptions(demo.Options{Latency: time.Minute})
	r.ResetStats()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := authed(httptestRequest(t, base+"/credit_batches/"+id)).WithContext(ctx)
	start = time.Now()
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want the client's deadline, got %v", err)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }() // Close waits for running handlers
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler kept waiting after its request was cancelled")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cancel took %v", el)
	}
	if r.Requests() != 0 || r.BatchFetches(id) != 0 {
		t.Errorf("a cancelled request was counted: %d requests, %d fetches", r.Requests(), r.BatchFetches(id))
	}
}

func TestStart(t *testing.T) {
	r := shared()
	base, stop, err := demo.Start(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/registry/v0") {
		t.Errorf("base URL %q", base)
	}
	if a := get(t, base+"/issuances/"+r.Fixtures().Issuance); a.status != 200 {
		t.Errorf("status %d", a.status)
	}
	stop()
	if _, err := http.Get(base + "/projects"); err == nil {
		t.Errorf("still serving after stop")
	}
}

func TestRunCommand(t *testing.T) {
	for _, args := range [][]string{{"--fault-rate", "2"}, {"--latency", "soon"}, {"extra"}, {"--addr", "256.0.0.1:1"}} {
		if err := demo.RunCommand(context.Background(), args, io.Discard); err == nil {
			t.Errorf("RunCommand(%q) should fail", args)
		}
	}
	if err := demo.RunCommand(context.Background(), []string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- demo.RunCommand(ctx, []string{"--addr", "127.0.0.1:0", "--latency", "1ms", "--retry-after", "1s"}, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var out []string
	base := ""
	for lines.Scan() {
		out = append(out, lines.Text())
		if v, ok := strings.CutPrefix(lines.Text(), "ISOMETRIC_CLIENT_SECRET="); ok {
			if v != demo.ClientSecret {
				t.Errorf("printed secret %q", v)
			}
			break
		}
		if v, ok := strings.CutPrefix(lines.Text(), "ISOMETRIC_API_URL="); ok {
			base = v
		}
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		rest <- string(b)
	}()
	if base == "" || !strings.Contains(strings.Join(out, "\n"), "ISOMETRIC_ACCESS_TOKEN="+demo.AccessToken) {
		t.Fatalf("output lacks the base URL or credentials:\n%s", strings.Join(out, "\n"))
	}
	if a := get(t, base+"/projects"); a.status != 200 {
		t.Errorf("GET /projects: %d", a.status)
	}
	id := demo.New(demo.Options{}).Fixtures().DeepChainRoot
	for range 2 {
		if a := get(t, base+"/credit_batches/"+id); a.status != 200 {
			t.Fatalf("GET /credit_batches/%s: %d", id, a.status)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunCommand after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunCommand did not stop when its context was cancelled")
	}
	// The load test reads this line to tell whether any batch was fetched twice.
	if summary := <-rest; !strings.Contains(summary, "after 3 requests; GET /credit_batches/{id}: 2 answers for 1 distinct batches, at most 2 for any one") {
		t.Errorf("the summary at exit is %q", summary)
	}
}

// The load test evals what --fixtures prints: every line must be a shell assignment of a
// well-formed id (or a count), and the ids must be those the dataset has.
func TestRunCommandPrintsFixtures(t *testing.T) {
	var out strings.Builder
	if err := demo.RunCommand(context.Background(), []string{"--fixtures"}, &out); err != nil {
		t.Fatal(err)
	}
	r := demo.New(demo.Options{})
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(name+value, " \t'\"$`;&|<>()") || name == "" || value == "" {
			t.Fatalf("line %q is not a plain shell assignment", line)
		}
		got[name] = value
	}
	for name, want := range map[string]string{"WideLeafDeep": r.Fixtures().WideLeafDeep, "Issuance": r.Fixtures().Issuance,
		"DeepChainLeaf": r.Fixtures().DeepChainLeaf, "WideNodeCount": strconv.Itoa(r.Fixtures().WideNodeCount)} {
		if got[name] != want {
			t.Errorf("%s=%q, want %q", name, got[name], want)
		}
	}
}
