package benchmark

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry/claims"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// ClaimsResult is the measurement of the claims scenario: one list checked cold, then again
// warm, on one fresh explorer (as the server runs it: the checker's default workers).
type ClaimsResult struct {
	Rows, Trees   int
	Batches       int           // distinct batches of the trees the list needs
	Fetched       int           // of those, fetched in the cold check (the index pass had the roots already)
	CriticalPath  int           // the longest chain of dependent fetches of any of its walks
	Bound         time.Duration // max(CriticalPath, ceil(Fetched/Concurrency)) × Latency
	IndexRequests int64         // the serial index's pass, before the timing (serial claims need it)
	Cold          time.Duration
	ColdRequests  int64
	MaxPerBatch   int64 // the most times one batch was fetched upstream in the cold check (goal 1)
	Warm          time.Duration
	WarmRequests  int64  // goal 0
	HeapHeld      uint64 // live heap after the cold check over before it: the cache, the kept walks, the report
	Verdicts      map[claims.Code]int
}

// ColdToBound is the cold check's wall time over the critical-path bound (goal ≤ 1.3).
func (r ClaimsResult) ColdToBound() float64 { return ratio(r.Cold, r.Bound) }

// MeasureClaims checks a list of n claims over trees demo trees (demo.Registry.BenchClaims),
// cold then warm, and works out the bound from the trees the walks found.
func MeasureClaims(ctx context.Context, reg *demo.Registry, opts Options, n, trees int) (ClaimsResult, error) {
	var r ClaimsResult
	text, _ := reg.BenchClaims(n, trees)
	list, err := claims.Parse(strings.NewReader(text), claims.Limits{MaxRows: n})
	if err != nil {
		return r, err
	}
	r.Rows = len(list.Claims)
	url, stop, err := demo.Start(reg)
	if err != nil {
		return r, err
	}
	defer stop()
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, Concurrency: opts.Concurrency})
	if err != nil {
		return r, err
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ex := lineage.NewExplorer(c, lineage.ExplorerConfig{Walker: lineage.WalkerConfig{Workers: opts.Concurrency}})
	if err := ex.SerialIndex().Refresh(ctx); err != nil {
		return r, fmt.Errorf("serial index: %w", err)
	}
	r.IndexRequests = c.Stats().Requests
	ch := claims.NewChecker(ex, 0)

	reg.ResetStats()
	start := time.Now()
	rep := ch.Check(ctx, list, nil)
	r.Cold = time.Since(start)
	r.ColdRequests = c.Stats().Requests - r.IndexRequests
	_, r.Fetched, r.MaxPerBatch = reg.FetchSummary()
	r.Verdicts = rep.Counts
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if after.HeapAlloc > before.HeapAlloc {
		r.HeapHeld = after.HeapAlloc - before.HeapAlloc
	}

	start = time.Now()
	ch.Check(ctx, list, nil)
	r.Warm = time.Since(start)
	r.WarmRequests = c.Stats().Requests - r.IndexRequests - r.ColdRequests

	// The bound, from the trees as walked (kept by the explorer: no request).
	seen := map[string]bool{}
	roots := map[string]bool{}
	for _, res := range rep.Results {
		if res.TreeOf == "" || seen[res.TreeOf] {
			continue
		}
		seen[res.TreeOf] = true
		t, err := ex.Lineage(ctx, res.TreeOf)
		if err != nil {
			return r, err
		}
		r.CriticalPath = max(r.CriticalPath, CriticalPath(t))
		if root := t.Root; root != nil && root.Batch != nil && !roots[root.Batch.ID] {
			roots[root.Batch.ID] = true
			r.Batches += t.Len()
		}
	}
	r.Trees = len(roots)
	waves := (r.Fetched + opts.Concurrency - 1) / opts.Concurrency
	r.Bound = time.Duration(max(r.CriticalPath, waves)) * opts.Latency
	runtime.KeepAlive(rep)
	return r, nil
}

// ReportClaims prints the claims scenario.
func ReportClaims(w io.Writer, opts Options, r ClaimsResult) {
	fmt.Fprintf(w, "\nclaims: %d rows over %d trees (%d batches, %d fetched cold, critical path %d): bound %v, cold %v (%d requests, %d for the serial index before), cold/bound %.2f, max fetches/batch %d; warm %v (%d requests); heap held %.1f MiB\n",
		r.Rows, r.Trees, r.Batches, r.Fetched, r.CriticalPath, round(r.Bound), round(r.Cold), r.ColdRequests, r.IndexRequests, r.ColdToBound(),
		r.MaxPerBatch, round(r.Warm), r.WarmRequests, float64(r.HeapHeld)/(1<<20))
	fmt.Fprintf(w, "bound = max(critical path, ceil(fetched / %d)) × %v. Goals: cold/bound ≤ 1.3; warm requests = 0; max fetches/batch = 1.\n",
		opts.Concurrency, opts.Latency)
}
