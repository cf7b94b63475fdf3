package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
)

func TestMetricsNamesAndValues(t *testing.T) {
	reg := demo.New(demo.Options{FaultRate: 0.2, Seed: 3})
	c, err := registry.NewClient(registry.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, MaxAttempts: 20, BaseBackoff: 1, MaxBackoff: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	e := registry.NewExplorer(c, registry.ExplorerConfig{OnWalk: m.ObserveWalk})
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
