package handlers

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// exportedLineage is the part of the JSON export the tests read; kg stay json.Number so that
// the check itself cannot lose digits.
type exportedLineage struct {
	Target string `json:"target"`
	Root   string `json:"root"`
	Nodes  []struct {
		ID       string `json:"id"`
		ParentID string `json:"parent_id"`
		Batch    *struct {
			CreditKgs json.Number `json:"credit_kgs"`
		} `json:"batch"`
	} `json:"nodes"`
	Problems []lineage.Problem `json:"problems"`
	Totals   struct {
		ActiveKg  json.Number `json:"active_kg"`
		RetiredKg json.Number `json:"retired_kg"`
	} `json:"totals"`
	Summary struct {
		RootKg      json.Number `json:"root_kg"`
		ConservedKg json.Number `json:"conserved_kg"`
		Clean       bool        `json:"clean"`
	} `json:"summary"`
}

func decodeExport(t *testing.T, body string) exportedLineage {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var e exportedLineage
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("the export is not JSON: %v; starts %q", err, head(body, 200))
	}
	return e
}

func TestLineageJSONKeepsSizesAboveTwoToThe53Exact(t *testing.T) {
	a := newApp(t, appOptions{})
	r := a.get(t, views.LineageJSONURL(a.fx.BigKgRoot))
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", r.status, r.header.Get("Content-Type"))
	}
	e := decodeExport(t, r.body)
	if len(e.Nodes) != 3 {
		t.Fatalf("%d nodes, want the root and its two halves", len(e.Nodes))
	}
	for _, n := range e.Nodes {
		want, _ := a.reg.Batch(n.ID)
		if n.Batch == nil || n.Batch.CreditKgs.String() != strconv.FormatInt(want.Size.CreditKgs, 10) {
			t.Errorf("%s: credit_kgs %v, registry %d", n.ID, n.Batch, want.Size.CreditKgs)
		}
	}
	root, _ := a.reg.Batch(a.fx.BigKgRoot)
	if root.Size.CreditKgs <= 1<<53 {
		t.Fatalf("fixture is only %d kg", root.Size.CreditKgs)
	}
	kg := strconv.FormatInt(root.Size.CreditKgs, 10)
	if e.Summary.RootKg.String() != kg || e.Summary.ConservedKg.String() != kg || !e.Summary.Clean {
		t.Errorf("summary %+v, want %s kg conserved", e.Summary, kg)
	}
	if !strings.Contains(r.body, `"conserved_kg":`+kg) {
		t.Error("conserved_kg is not a bare JSON integer")
	}
}

func TestLineageJSONOfABatchInsideItsTree(t *testing.T) {
	a := newApp(t, appOptions{})
	e := decodeExport(t, a.get(t, views.LineageJSONURL(a.fx.WideLeafDeep)).body)
	if e.Target != a.fx.WideLeafDeep || e.Root != a.fx.WideRoot || len(e.Nodes) != a.fx.WideNodeCount {
		t.Errorf("target %s, root %s, %d nodes; want %s in the %d-batch tree of %s", e.Target, e.Root, len(e.Nodes),
			a.fx.WideLeafDeep, a.fx.WideNodeCount, a.fx.WideRoot)
	}
	// A planted tree carries its problems.
	e = decodeExport(t, a.get(t, views.LineageJSONURL(a.fx.SizeMismatch)).body)
	kinds := map[lineage.ProblemKind]bool{}
	for _, p := range e.Problems {
		kinds[p.Kind] = true
	}
	if !kinds[lineage.ProblemSizeMismatch] || e.Summary.Clean {
		t.Errorf("problems %v, clean %v", e.Problems, e.Summary.Clean)
	}
}

func TestLineageCSV(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, tc := range []struct {
		name, id string
		nodes    int
	}{
		{"wide tree", a.fx.WideLeafDeep, a.fx.WideNodeCount},
		{"sizes above 2^53", a.fx.BigKgRoot, 3},
		{"organisation names with markup", a.fx.HostileOrgBatch, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.get(t, views.LineageCSVURL(tc.id))
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, head(r.body, 300))
			}
			if got := r.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := r.header.Get("Content-Disposition"); got != `attachment; filename="lineage-`+tc.id+`.csv"` {
				t.Errorf("Content-Disposition %q", got)
			}
			body, ok := strings.CutPrefix(r.body, "\ufeff")
			if !ok {
				t.Error("no UTF-8 byte order mark: Excel would misread non-ASCII names")
			}
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("the CSV does not parse: %v", err)
			}
			if strings.Join(rows[0], ",") != strings.Join(lineage.CSVHeader, ",") {
				t.Errorf("header %v", rows[0])
			}
			if tc.nodes > 0 && len(rows) != tc.nodes+1 {
				t.Errorf("%d rows, want a header and one per batch (%d)", len(rows), tc.nodes)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			seen := map[string]bool{}
			for _, row := range rows[1:] {
				id := row[col["id"]]
				if seen[id] {
					t.Errorf("%s has two rows", id)
				}
				seen[id] = true
				want, ok := a.reg.Batch(id)
				if !ok {
					t.Fatalf("a row for a batch the registry does not have: %v", row)
				}
				if row[col["credit_kgs"]] != strconv.FormatInt(want.Size.CreditKgs, 10) {
					t.Errorf("%s: credit_kgs %s, registry %d", id, row[col["credit_kgs"]], want.Size.CreditKgs)
				}
				// CSV is not HTML: a name is written as it is (only a leading formula character is defused).
				if h := row[col["holder"]]; h != want.Owner.Name && h != "'"+want.Owner.Name {
					t.Errorf("%s: holder %q, registry %q", id, h, want.Owner.Name)
				}
			}
		})
	}
}

func TestLineageExportsAreCompressedWhenAsked(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, path := range []string{views.LineageJSONURL(a.fx.WideRoot), views.LineageCSVURL(a.fx.WideRoot)} {
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not compressed", path)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || len(plain) < 2*len(raw) {
			t.Errorf("%s: %d bytes compressed to %d (%v)", path, len(plain), len(raw), err)
		}
	}
}

func TestLineageExportsMapErrorsLikeThePage(t *testing.T) {
	exports := func(id string) []string { return []string{views.LineageJSONURL(id), views.LineageCSVURL(id)} }

	t.Run("malformed id: 400, nothing sent upstream", func(t *testing.T) {
		a := newApp(t, appOptions{})
		for _, id := range []string{"ctb_123", "iss_1DRBTYA8Q1S07CBY", "%3Cscript%3E"} {
			for _, path := range exports(id) {
				r := a.get(t, path)
				if r.status != http.StatusBadRequest || strings.Contains(r.body, "<script>") {
					t.Errorf("GET %s: %d %q", path, r.status, head(r.body, 200))
				}
			}
		}
		r := a.get(t, views.LineageJSONURL("ctb_123"))
		var body struct {
			Status int    `json:"status"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Status != http.StatusBadRequest || body.Error == "" {
			t.Errorf("JSON error %q (%v)", r.body, err)
		}
		if n := a.reg.Requests(); n != 0 {
			t.Errorf("%d requests reached the registry for malformed ids", n)
		}
	})

	t.Run("unknown id: 404", func(t *testing.T) {
		a := newApp(t, appOptions{})
		for _, path := range exports("ctb_1ZZZZZZZZZZZZZZZ") {
			if r := a.get(t, path); r.status != http.StatusNotFound || !strings.Contains(r.body, "ctb_1ZZZZZZZZZZZZZZZ") {
				t.Errorf("GET %s: %d %q", path, r.status, head(r.body, 200))
			}
		}
	})

	fast := func(c *isometric.ClientConfig) { c.MaxAttempts = 2; c.Timeout = 200 * time.Millisecond }
	t.Run("a failing registry: 502", func(t *testing.T) {
		a := newApp(t, appOptions{clientTweak: fast})
		a.reg.SetOptions(optionsWithFaults(1))
		for _, path := range exports(a.fx.WideRoot) {
			if r := a.get(t, path); r.status != http.StatusBadGateway {
				t.Errorf("GET %s: %d", path, r.status)
			}
		}
	})

	t.Run("a registry that never answers: 504", func(t *testing.T) {
		hang := make(chan struct{})
		t.Cleanup(func() { close(hang) })
		a := newApp(t, appOptions{clientTweak: fast, upstream: func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-hang:
				case <-r.Context().Done():
				}
			})
		}})
		for _, path := range exports(a.fx.WideRoot) {
			if r := a.get(t, path); r.status != http.StatusGatewayTimeout {
				t.Errorf("GET %s: %d", path, r.status)
			}
		}
	})
}

func TestLineagePageLinksToItsExports(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/batches/"+a.fx.AllFinalRoot, http.StatusOK)
	for sel, want := range map[string]string{
		"[data-testid=export-json]": views.LineageJSONURL(a.fx.AllFinalRoot),
		"[data-testid=export-csv]":  views.LineageCSVURL(a.fx.AllFinalRoot),
	} {
		href := doc.Find(sel).AttrOr("href", "")
		if href != want {
			t.Errorf("%s links to %q, want %q", sel, href, want)
			continue
		}
		if r := a.get(t, href); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", href, r.status)
		}
	}
}

// A cold walk of a large tree outlasts the server's write timeout: the exports then answer
// 202 with how far the walk got, instead of a connection cut mid-wait.
func TestExportsOfASlowColdWalkAnswerProgress(t *testing.T) {
	a := newApp(t, appOptions{demo: demo.Options{Latency: 3 * time.Millisecond}, fragmentWait: 20 * time.Millisecond,
		progressWait: 20 * time.Millisecond})
	id := a.fx.HugeRoot
	resp, err := a.http.Get(a.url + "/api/v1/batches/" + id + "/lineage")
	if err != nil {
		t.Fatal(err)
	}
	var pending struct {
		Status  string
		Fetched int64
	}
	json.NewDecoder(resp.Body).Decode(&pending)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || pending.Status != "pending" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("JSON export of a cold huge tree: %d %+v", resp.StatusCode, pending)
	}
	// A browser's download link shows the progress page, which comes back to the file.
	req, _ := http.NewRequest(http.MethodGet, a.url+"/batches/"+id+"/lineage.csv", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err = a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `url=/batches/`+id+`/lineage.csv`) ||
		!strings.Contains(string(body), `data-testid="download"`) || !strings.Contains(string(body), `href="/batches/`+id+`"`) {
		t.Errorf("CSV export of a cold huge tree: %d, refresh to the CSV, the download notice or the lineage link missing", resp.StatusCode)
	}
	// A script gets no page to save as the CSV: the JSON 202, without a file name.
	r := a.get(t, "/batches/"+id+"/lineage.csv")
	pending.Status = ""
	if err := json.Unmarshal([]byte(r.body), &pending); err != nil || r.status != http.StatusAccepted || pending.Status != "pending" ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.header.Get("Content-Disposition") != "" {
		t.Errorf("CSV export of a cold huge tree for a script: %d %s %q", r.status, r.header.Get("Content-Type"), head(r.body, 200))
	}
	// A branch opened before the walk is done (its result dropped, or a link followed) says
	// so and is not an error: the page's script offers to try again.
	sub := a.get(t, "/batches/"+id+"/subtree/"+id)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sub.body))
	if err != nil {
		t.Fatal(err)
	}
	if sub.status != http.StatusAccepted || sub.header.Get("Retry-After") == "" ||
		doc.Find("[data-testid=subtree-pending] a").AttrOr("href", "") != views.BatchURL(id) {
		t.Errorf("subtree of a cold huge tree: %d, Retry-After %q, body %q", sub.status, sub.header.Get("Retry-After"), head(sub.body, 300))
	}
	// Once the walk is done, the same URL gives the file.
	if _, err := a.explorer.StartLineage(id, false).Result(); err != nil {
		t.Fatal(err)
	}
	if sub := a.get(t, "/batches/"+id+"/subtree/"+id); sub.status != http.StatusOK || strings.Contains(sub.body, "subtree-pending") {
		t.Errorf("subtree after the walk: %d", sub.status)
	}
	resp, err = a.http.Get(a.url + "/batches/" + id + "/lineage.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("CSV after the walk: %d", resp.StatusCode)
	}
}
