package benchmark_test

import (
	"context"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/benchmark"
	"github.com/lineage-explorer/explorer/registry/claims"
	"github.com/lineage-explorer/explorer/registry/demo"
)

// The claims scenario's logic, with almost no latency: every batch of the list's trees is
// fetched once, the warm rerun asks nothing, and the bound counts the trees' batches.
func TestMeasureClaims(t *testing.T) {
	reg := demo.New(demo.Options{})
	r, err := benchmark.MeasureClaims(context.Background(), reg, benchmark.Options{Latency: time.Millisecond, Concurrency: 8}, 200, 20)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows != 200 || r.Trees != 20 || r.Batches < 3*20 {
		t.Errorf("%d rows over %d trees of %d batches; want 200 over 20 of at least 60", r.Rows, r.Trees, r.Batches)
	}
	// The index pass fetched the roots; the check fetches each other batch once.
	if r.MaxPerBatch != 1 || r.ColdRequests != int64(r.Fetched) || r.Fetched < r.Batches-r.Trees || r.Fetched > r.Batches || r.WarmRequests != 0 {
		t.Errorf("cold %d requests for %d batches of %d (a batch up to %d times), warm %d; want one each and 0 warm",
			r.ColdRequests, r.Fetched, r.Batches, r.MaxPerBatch, r.WarmRequests)
	}
	if r.Verdicts[claims.Unchecked] != 0 || r.Verdicts[claims.Malformed] != 0 || r.Verdicts[claims.NotFound] != 0 {
		t.Errorf("verdicts %v: every row names a batch of the demo", r.Verdicts)
	}
	if r.Bound < time.Duration(r.CriticalPath)*time.Millisecond || r.CriticalPath < 2 {
		t.Errorf("bound %v for a critical path of %d", r.Bound, r.CriticalPath)
	}
}
