package handlers

import (
	"context"
	"io"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

func TestMetricsNamesAndValues(t *testing.T) {
	reg := demo.New(demo.Options{FaultRate: 0.2, Seed: 3})
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, MaxAttempts: 20, BaseBackoff: 1, MaxBackoff: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	// Every batch by id (the planner's metrics have their own test).
	e := lineage.NewExplorer(c, lineage.ExplorerConfig{OnWalk: m.ObserveWalk, NoPlanner: true})
	m.Attach(e)
	// Two walks of the 15-batch all-final tree: the second (a retry) is served by the cache.
	if _, err := e.Lineage(context.Background(), reg.Fixtures().AllFinalRoot); err != nil {
		t.Fatal(err)
	}
	if _, err := e.StartLineage(reg.Fixtures().AllFinalRoot, true).Result(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`lineage_upstream_requests_total{endpoint="/credit_batches/{id}",status="200"} 15`,
		`lineage_upstream_retries_total `,
		`lineage_upstream_request_duration_seconds_bucket{endpoint="/credit_batches/{id}"`,
		`lineage_cache_hits_total `, `lineage_cache_misses_total 15`, `lineage_cache_entries 15`,
		`lineage_walk_duration_seconds_count{outcome="ok"} 2`,
		`lineage_tree_batches_sum 30`,
		`lineage_upstream_in_flight 0`,
		`lineage_batches_by_id_total 15`, `lineage_batches_listed_total 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(text, "ctb_") {
		t.Error("a batch id became a label value: the label set would be unbounded")
	}
}

// With the planner, /metrics says how many batches came from lists and how many by id: a cold
// walk of the 15-batch all-final tree fetches its first batch by id and lists the rest.
func TestMetricsCountBatchesLearntFromLists(t *testing.T) {
	reg := demo.New(demo.Options{})
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	e := lineage.NewExplorer(c, lineage.ExplorerConfig{OnWalk: m.ObserveWalk, Planner: lineage.PlannerConfig{MinMisses: 1}})
	m.Attach(e)
	tree, err := e.Lineage(context.Background(), reg.Fixtures().AllFinalRoot)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	values := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		if name, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && !strings.HasPrefix(name, "#") {
			f, _ := strconv.ParseFloat(v, 64)
			values[name] = f
		}
	}
	byID, listed := values["lineage_batches_by_id_total"], values["lineage_batches_listed_total"]
	if fetched := values[`lineage_upstream_requests_total{endpoint="/credit_batches/{id}",status="200"}`]; byID != fetched || byID < 1 {
		t.Errorf("batches by id %v, but %v answers of /credit_batches/{id}", byID, fetched)
	}
	if listed < float64(tree.Len())-byID || values[`lineage_upstream_requests_total{endpoint="/organisations/{id}/credit_batches",status="200"}`] == 0 {
		t.Errorf("%v batches listed, %v by id, for a tree of %d:\n%s", listed, byID, tree.Len(), body)
	}
	if byID >= float64(tree.Len()) || values["lineage_list_refusals_total"] != 0 {
		t.Errorf("%v of %d batches by id, %v refusals: the lists brought nothing", byID, tree.Len(), values["lineage_list_refusals_total"])
	}
}

// TestMetricsRouteLabelIgnoresBasePath: the route label is the route template as the app
// names it, so that one dashboard fits every deployment, with or without BASE_PATH; the
// probes answered at the root under a base path count under the same label as theirs.
func TestMetricsRouteLabelIgnoresBasePath(t *testing.T) {
	routes := func(base string) map[string]bool {
		a := newApp(t, appOptions{metrics: true, basePath: base})
		id := a.fx.AllFinalRoot
		for _, p := range []struct {
			path   string
			status int
		}{
			{base + "/", 200}, {base + "/batches/" + id, 200}, {base + "/api/v1/batches/" + id + "/lineage", 200},
			{base + "/static/app.js", 200}, {base + "/healthz", 200}, {"/healthz", 200}, {"/readyz", 200},
			{base + "/nowhere", 404}, {base + "/batches/" + id + "/", 301},
		} {
			if r := a.get(t, p.path); r.status != p.status {
				t.Fatalf("GET %s = %d, want %d", p.path, r.status, p.status)
			}
		}
		r := a.get(t, "/metrics")
		if r.status != 200 {
			t.Fatalf("/metrics = %d", r.status)
		}
		got := map[string]bool{}
		for _, line := range strings.Split(r.body, "\n") {
			if !strings.HasPrefix(line, "lineage_http_requests_total{") {
				continue
			}
			_, rest, _ := strings.Cut(line, `route="`)
			route, _, _ := strings.Cut(rest, `"`)
			got[route] = true
			if strings.HasPrefix(route, testBase) {
				t.Errorf("base %q: route label %q carries the base path: %s", base, route, line)
			}
		}
		for _, want := range []string{`lineage_http_requests_total{method="GET",route="/batches/:id",status="200"} 1`,
			`lineage_http_requests_total{method="GET",route="/healthz",status="200"} 2`,
			`lineage_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
			`lineage_http_request_duration_seconds_count{route="/api/v1/batches/:id/lineage"} 1`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("base %q: /metrics lacks %s", base, want)
			}
		}
		return got
	}
	root, based := routes(""), routes(testBase)
	if len(root) == 0 || !maps.Equal(root, based) {
		t.Errorf("route labels differ: at the root %v, under %s %v", slices.Sorted(maps.Keys(root)), testBase, slices.Sorted(maps.Keys(based)))
	}
}

// Methods a client makes up are counted under one label, so that they cannot grow /metrics.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	a := newApp(t, appOptions{metrics: true})
	for _, m := range []string{"FOO1", "FOO2", "BREW"} {
		if r := a.do(t, m, "/"); r.status != 405 {
			t.Fatalf("%s / = %d", m, r.status)
		}
	}
	body := a.get(t, "/metrics").body
	if strings.Contains(body, `method="FOO1"`) || !strings.Contains(body, `lineage_http_requests_total{method="other",route="unmatched",status="405"} 3`) {
		t.Errorf("made-up methods are not counted as one label:\n%s", head(body[strings.Index(body, "lineage_http_requests_total"):], 600))
	}
}
