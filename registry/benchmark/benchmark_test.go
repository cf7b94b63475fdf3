package benchmark_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/benchmark"
	"github.com/lineage-explorer/explorer/registry/demo"
)

// The benchmark's own logic is tested with no added latency, so that it runs in CI: the
// figures it prints are for `go run . bench`.
func TestMeasureCountsEveryFetchOnce(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	r, err := benchmark.Measure(context.Background(), reg, benchmark.Scenario{Name: "deep", Start: f.DeepChainLeaf},
		benchmark.Options{Latency: time.Millisecond, Concurrency: 8, Users: 20, Naive: true})
	if err != nil {
		t.Fatal(err)
	}
	want := 2*f.DeepChainDepth + 1
	if r.Nodes != want || r.ColdRequests != int64(want) || r.WarmRequests != 0 || r.NaiveRequests != int64(want) {
		t.Errorf("nodes %d, cold %d, warm %d, naive %d requests; want %d, %d, 0, %d", r.Nodes, r.ColdRequests, r.WarmRequests, r.NaiveRequests, want, want, want)
	}
	if r.SharedRequests != int64(want) || r.MaxPerBatch != 1 {
		t.Errorf("%d users made %d requests, a batch fetched up to %d times; want %d and 1", r.Users, r.SharedRequests, r.MaxPerBatch, want)
	}
	// Climbing from the tip, each ancestor waits for the one below, and the peeled sibling of
	// the topmost one comes last: the chain's depth plus two.
	if r.CriticalPath != f.DeepChainDepth+2 {
		t.Errorf("critical path %d, want %d", r.CriticalPath, f.DeepChainDepth+2)
	}
}

func TestCriticalPathFromTheRoot(t *testing.T) {
	reg := demo.New(demo.Options{})
	c, _ := registry.NewClient(registry.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret})
	tree, err := registry.NewWalker(c, registry.WalkerConfig{}).Lineage(context.Background(), reg.Fixtures().DeepChainRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := benchmark.CriticalPath(tree), reg.Fixtures().DeepChainDepth+1; got != want {
		t.Errorf("critical path from the root = %d, want depth+1 = %d", got, want)
	}
}

func TestRunPrintsRatios(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every scenario")
	}
	var out bytes.Buffer
	if err := benchmark.Run(context.Background(), []string{"-latency", "0", "-users", "3", "-naive=false"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cold/bound", "deep chain, from its tip", "wide tree, from a leaf"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
