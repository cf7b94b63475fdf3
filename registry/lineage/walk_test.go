// Over 500 lines because the walk is tested on every demo tree shape (deep chain both ways,
// wide, huge, planted faults, injected upstream faults, cancellation, the node bound).

package lineage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// The demo registry is built once: its dataset is immutable; each test serves it on its own
// httptest server and makes its own client, so that counters and options do not leak between
// tests except through the registry's own stats, which tests reset.
func newDemo(t *testing.T, opts demo.Options) (*demo.Registry, *isometric.Client) {
	t.Helper()
	reg := demo.New(opts)
	url := demo.NewTestServer(t, reg)
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, MaxAttempts: 15, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return reg, c
}

// checkAgainstDataset verifies that every node of the tree is the dataset's record and that
// the tree has exactly the dataset's structure below root.
func checkAgainstDataset(t *testing.T, reg *demo.Registry, tree *lineage.Tree, root string, wantNodes int) {
	t.Helper()
	if tree.Root.ID != root {
		t.Fatalf("root = %s, want %s", tree.Root.ID, root)
	}
	if tree.Len() != wantNodes {
		t.Errorf("tree has %d nodes, dataset %d", tree.Len(), wantNodes)
	}
	tree.Each(func(n *lineage.Node) bool {
		want, ok := reg.Batch(n.ID)
		if !ok || n.Batch == nil {
			t.Errorf("node %s: in dataset %v, fetched %v", n.ID, ok, n.Batch != nil)
			return false
		}
		if n.Batch.Size.CreditKgs != want.Size.CreditKgs || n.Batch.Status != want.Status || n.Batch.SerialNumber != want.SerialNumber {
			t.Errorf("node %s differs from the dataset: %+v vs %+v", n.ID, n.Batch, want)
		}
		var got []string
		for _, c := range n.Children {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, want.Children()) {
			t.Errorf("node %s children %v, dataset %v", n.ID, got, want.Children())
		}
		return true
	})
}

func TestWalkWideTreeFromALeaf(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	w := lineage.NewWalker(c, lineage.WalkerConfig{})
	tree, err := w.Lineage(context.Background(), f.WideLeafDeep, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstDataset(t, reg, tree, f.WideRoot, f.WideNodeCount)
	if len(tree.Problems) != 0 {
		t.Errorf("consistent tree has problems: %v", tree.Problems)
	}
	if tree.Target.ID != f.WideLeafDeep || tree.Target.Depth != 10 || len(tree.Path()) != 11 {
		t.Errorf("target %s at depth %d, path of %d; want %s at 10, path of 11", tree.Target.ID, tree.Target.Depth, len(tree.Path()), f.WideLeafDeep)
	}
	if got := c.Stats().Requests; got != int64(f.WideNodeCount) {
		t.Errorf("%d upstream requests for %d batches: each batch should be fetched once", got, f.WideNodeCount)
	}
	tot := tree.Totals()
	if tot.ActiveKg+tot.RetiredKg != tree.Root.Batch.Size.CreditKgs {
		t.Errorf("leaves hold %d kg, root %d kg", tot.ActiveKg+tot.RetiredKg, tree.Root.Batch.Size.CreditKgs)
	}
}

func TestWalkDeepChainBothWays(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	w := lineage.NewWalker(c, lineage.WalkerConfig{})
	for _, start := range []string{f.DeepChainRoot, f.DeepChainLeaf} {
		tree, err := w.Lineage(context.Background(), start, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstDataset(t, reg, tree, f.DeepChainRoot, 2*f.DeepChainDepth+1)
		leaf := tree.Nodes[f.DeepChainLeaf]
		if leaf == nil || leaf.Depth != f.DeepChainDepth {
			t.Errorf("from %s: the tip is not at depth %d", start, f.DeepChainDepth)
		}
	}
}

func TestWalkWithFaultsYieldsTheFaultFreeTree(t *testing.T) {
	reg, c := newDemo(t, demo.Options{FaultRate: 0.3, Seed: 7})
	f := reg.Fixtures()
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), f.WideLeafDeep, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstDataset(t, reg, tree, f.WideRoot, f.WideNodeCount)
	if len(tree.Problems) != 0 {
		t.Errorf("problems under faults: %v", tree.Problems[:min(3, len(tree.Problems))])
	}
	s := c.Stats()
	if s.Retries == 0 || float64(s.Retries) < 0.2*float64(f.WideNodeCount) {
		t.Errorf("only %d retries for %d batches at a 30%% fault rate: faults were not injected", s.Retries, f.WideNodeCount)
	}
}

// Each planted record yields exactly its planted problems (walk and audit), and the walk ends.
func TestWalkFindsPlantedProblemsAndEnds(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	cases := []struct {
		name  string
		start string
		want  []lineage.ProblemKind
	}{
		{"dangling child", f.DanglingChild, []lineage.ProblemKind{lineage.ProblemDangling}},
		{"wrong parent", f.WrongParent, []lineage.ProblemKind{lineage.ProblemParentMismatch}},
		{"cycle below", f.Cycle, []lineage.ProblemKind{lineage.ProblemCycle}},
		{"cycle above", f.ParentCycle, []lineage.ProblemKind{lineage.ProblemCycle}},
		// The shared child points back at one parent only: the other link is also a mismatch.
		{"repeated child", f.RepeatedChild, []lineage.ProblemKind{lineage.ProblemParentMismatch, lineage.ProblemRepeated}},
		{"one-child split", f.OneChildSplit, []lineage.ProblemKind{lineage.ProblemSplitShape}},
		// Children 1,000 kg short also leave 1,000 units of the parent's range uncovered.
		{"size mismatch", f.SizeMismatch, []lineage.ProblemKind{lineage.ProblemRangePartition, lineage.ProblemSizeMismatch}},
		// The right child's range starts 500 units late: 500 units held by no child, and 500
		// past the parent's end, each named.
		{"range gap", f.RangeGap, []lineage.ProblemKind{lineage.ProblemRangePartition, lineage.ProblemRangePartition}},
		{"mixed issuance", f.MixedIssuance, []lineage.ProblemKind{lineage.ProblemMixedLineage}},
		{"bad status", f.BadStatus, []lineage.ProblemKind{lineage.ProblemStatus, lineage.ProblemSplitShape}},
	}
	w := lineage.NewWalker(c, lineage.WalkerConfig{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tree, err := w.Lineage(ctx, tc.start, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []lineage.ProblemKind
			for _, p := range tree.Problems {
				got = append(got, p.Kind)
				if len(tree.ProblemsAt(p.BatchID)) == 0 {
					t.Errorf("problem %v is not marked at %s", p, p.BatchID)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %v, want %v", tree.Problems, tc.want)
			}
			if tree.Len() > 50 {
				t.Errorf("planted tree grew to %d nodes", tree.Len())
			}
		})
	}
}

func TestWalkErrorsWhenNothingCanBeShown(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	w := lineage.NewWalker(c, lineage.WalkerConfig{})
	if _, err := w.Lineage(context.Background(), "ctb_1ZZZZZZZZZZZZZZZ", nil); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := w.Lineage(context.Background(), "ctb_x'><script>", nil); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("malformed id: %v", err)
	}
	if n := reg.Requests(); n != 1 {
		t.Errorf("%d requests; want 1 (the malformed id is never sent)", n)
	}
	bad, _ := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: "wrong-token", ClientSecret: "wrong-secret"})
	if _, err := lineage.NewWalker(bad, lineage.WalkerConfig{}).Lineage(context.Background(), reg.Fixtures().WideRoot, nil); !errors.Is(err, registry.ErrCredentials) {
		t.Errorf("wrong credentials: %v", err)
	}
}

func TestWalkStopsAtTheNodeBound(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{MaxNodes: 100}).Lineage(context.Background(), f.WideRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Len() != 100 || tree.Truncated == 0 || c.Stats().Requests != 100 {
		t.Errorf("%d nodes, %d truncated, %d requests; want 100 nodes fetched and the rest truncated", tree.Len(), tree.Truncated, c.Stats().Requests)
	}
	if len(tree.Problems) != 1 || tree.Problems[0].Kind != lineage.ProblemTruncated {
		t.Errorf("problems %v, want one truncation marker", tree.Problems)
	}
	marked := 0
	tree.Each(func(n *lineage.Node) bool {
		if n.Missing == lineage.MissingTruncated {
			marked++
		}
		return true
	})
	if marked != tree.Truncated {
		t.Errorf("%d nodes marked truncated, count says %d", marked, tree.Truncated)
	}
}

func TestWalkProgressIsObservable(t *testing.T) {
	reg, c := newDemo(t, demo.Options{Latency: time.Millisecond})
	f := reg.Fixtures()
	p := &lineage.Progress{}
	var seen []int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for !p.Done() {
			seen = append(seen, p.Fetched())
			time.Sleep(time.Millisecond)
		}
	})
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), f.WideRoot, p)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if p.Fetched() != int64(tree.Len()) || p.Discovered() != int64(tree.Len()) || tree.Fetched != tree.Len() {
		t.Errorf("progress %d fetched / %d discovered, tree %d", p.Fetched(), p.Discovered(), tree.Len())
	}
	intermediate := 0
	for i, v := range seen {
		if i > 0 && v < seen[i-1] {
			t.Fatalf("progress went backwards: %v", seen)
		}
		if v > 0 && v < int64(tree.Len()) {
			intermediate++
		}
	}
	if intermediate == 0 {
		t.Errorf("no intermediate progress observed in %d samples", len(seen))
	}
}

func TestWalkCancellation(t *testing.T) {
	reg, c := newDemo(t, demo.Options{Latency: 2 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	p := &lineage.Progress{}
	go func() {
		for p.Fetched() < 20 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(ctx, reg.Fixtures().WideRoot, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if p.Fetched() >= int64(reg.Fixtures().WideNodeCount) {
		t.Errorf("the walk went on to the end (%d) after cancellation", p.Fetched())
	}
}

func TestCacheMakesAFinalLineageFree(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	// A TTL of 1ns expires active batches at once: only final ones may be served warm.
	cache := cache.New(c, cache.Config{TTL: time.Nanosecond})
	w := lineage.NewWalker(cache, lineage.WalkerConfig{})
	first, err := w.Lineage(context.Background(), f.AllFinalRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := reg.Requests()
	second, err := w.Lineage(context.Background(), f.AllFinalRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests() - before; n != 0 {
		t.Errorf("the warm walk of an all-final tree made %d upstream requests", n)
	}
	if first.Len() != second.Len() || first.Len() != 15 {
		t.Errorf("trees of %d and %d nodes, want 15", first.Len(), second.Len())
	}
	// An active batch is fetched again once its TTL is over.
	before = reg.Requests()
	if _, err := cache.CreditBatch(context.Background(), f.WideLeafDeep); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.CreditBatch(context.Background(), f.WideLeafDeep); err != nil {
		t.Fatal(err)
	}
	if b, _ := reg.Batch(f.WideLeafDeep); b.Status == registry.StatusActive && reg.Requests()-before != 2 {
		t.Errorf("an expired active batch was served from memory (%d requests)", reg.Requests()-before)
	}
	if s := cache.Stats(); s.Hits == 0 || s.Misses == 0 || s.Entries == 0 {
		t.Errorf("stats not kept: %+v", s)
	}
}

func TestConcurrentColdWalksFetchEachBatchOnce(t *testing.T) {
	reg, c := newDemo(t, demo.Options{Latency: time.Millisecond})
	f := reg.Fixtures()
	w := lineage.NewWalker(cache.New(c, cache.Config{}), lineage.WalkerConfig{})
	var wg sync.WaitGroup
	trees := make([]*lineage.Tree, 100)
	for i := range trees {
		wg.Go(func() {
			tree, err := w.Lineage(context.Background(), f.WideLeafDeep, nil)
			if err != nil {
				t.Error(err)
			}
			trees[i] = tree
		})
	}
	wg.Wait()
	for _, tree := range trees {
		if tree == nil || tree.Len() != f.WideNodeCount {
			t.Fatalf("a walk did not yield the whole tree")
		}
	}
	for id := range trees[0].Nodes {
		if n := reg.BatchFetches(id); n != 1 {
			t.Errorf("%s fetched %d times", id, n)
		}
	}
	if n := c.Stats().Requests; n != int64(f.WideNodeCount) {
		t.Errorf("%d upstream requests for %d batches", n, f.WideNodeCount)
	}
}

func TestCacheStaysWithinItsBound(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	cache := cache.New(c, cache.Config{MaxEntries: 50})
	tree, err := lineage.NewWalker(cache, lineage.WalkerConfig{}).Lineage(context.Background(), reg.Fixtures().WideRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := cache.Stats()
	if s.Entries > 50 || s.Evictions < int64(tree.Len()-50) {
		t.Errorf("%d entries, %d evictions after %d batches; bound 50", s.Entries, s.Evictions, tree.Len())
	}
	// The most recent entries are the ones kept.
	if _, ok := cache.Peek(reg.Fixtures().WideRoot); ok {
		t.Error("the first batch stored is still cached")
	}
}

func TestCacheRemembersNotFoundBriefly(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	cache := cache.New(c, cache.Config{})
	for range 3 {
		if _, err := cache.CreditBatch(context.Background(), "ctb_1ZZZZZZZZZZZZZZZ"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := reg.Requests(); n != 1 {
		t.Errorf("%d requests for three lookups of one unknown id", n)
	}
}

func TestBigSizesStayExact(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), reg.Fixtures().BigKgRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Root.Batch.Size.CreditKgs
	if root <= 1<<53 {
		t.Fatalf("fixture root is %d kg, not above 2^53", root)
	}
	want, _ := reg.Batch(tree.Root.ID)
	var sum int64
	for _, ch := range tree.Root.Children {
		sum += ch.Batch.Size.CreditKgs
	}
	if root != want.Size.CreditKgs || sum != root || float64(root) == float64(root-1) && fmt.Sprint(root) != fmt.Sprint(want.Size.CreditKgs) {
		t.Errorf("root %d kg (dataset %d), children sum %d", root, want.Size.CreditKgs, sum)
	}
}

// Every tree of every issuance but the one holding the planted records is consistent: the
// audit must flag nothing there (a false alarm is as bad as a miss).
func TestAuditFlagsNothingOnConsistentTrees(t *testing.T) {
	if testing.Short() {
		t.Skip("walks the whole demo registry")
	}
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	ctx := context.Background()
	issuances, err := c.AllIssuances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := lineage.NewWalker(c, lineage.WalkerConfig{MaxNodes: 100_000})
	trees, batches := 0, 0
	for _, iss := range issuances {
		if iss.ID == f.PlantedIssuance {
			continue
		}
		roots, err := c.IssuanceCreditBatches(ctx, iss.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kg int64
		for _, r := range append(roots.SupplierCreditBatches, roots.BufferPoolCreditBatches...) {
			kg += r.Size.CreditKgs
			tree, err := w.Lineage(ctx, r.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			trees++
			batches += tree.Len()
			if len(tree.Problems) > 0 {
				t.Errorf("issuance %s, tree %s: %d problems, first %v", iss.ID, r.ID, len(tree.Problems), tree.Problems[0])
			}
			if s := tree.Summary(); s.ConservedKg != r.Size.CreditKgs || !s.Clean() {
				t.Errorf("tree %s: summary %+v, root %d kg", r.ID, s, r.Size.CreditKgs)
			}
		}
		if kg != roots.CreditBatchSizeTotal.CreditKgs {
			t.Errorf("issuance %s: roots sum to %d kg, total says %d", iss.ID, kg, roots.CreditBatchSizeTotal.CreditKgs)
		}
	}
	t.Logf("%d issuances, %d trees, %d batches audited", len(issuances)-1, trees, batches)
	if batches < f.HugeNodeCount {
		t.Errorf("only %d batches audited: the big trees were not reached", batches)
	}
}

func TestExplorerReusesARecentTreeForAnotherOfItsBatches(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	e := lineage.NewExplorer(c, lineage.ExplorerConfig{})
	first, err := e.Lineage(context.Background(), f.WideRoot)
	if err != nil {
		t.Fatal(err)
	}
	before := reg.Requests()
	second, err := e.Lineage(context.Background(), f.WideLeafDeep)
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests() - before; n != 0 {
		t.Errorf("moving to another batch of a walked tree made %d requests", n)
	}
	if second.Target.ID != f.WideLeafDeep || first.Target.ID != f.WideRoot || second.Root != first.Root {
		t.Errorf("targets %s and %s over roots %s and %s", first.Target.ID, second.Target.ID, first.Root.ID, second.Root.ID)
	}
	if len(second.Path()) != 11 {
		t.Errorf("path of %d nodes from the reused tree, want 11", len(second.Path()))
	}
	// A fresh walk (a retry) does walk again.
	third, err := e.StartLineage(f.WideLeafDeep, true).Result()
	if err != nil {
		t.Fatal(err)
	}
	if third.Root == first.Root {
		t.Error("a fresh walk reused the old tree")
	}
}

// Past KeepFinished a tree is still served at once while a new walk replaces it; past
// KeepStale it is not, and the next request waits for a new walk.
func TestAStaleTreeIsServedWhileANewWalkReplacesIt(t *testing.T) {
	reg := demo.New(demo.Options{Latency: 5 * time.Millisecond})
	_, c := newDemoClient(t, reg)
	// A 1 ns TTL makes every active batch due again, so the new walk goes upstream.
	e := lineage.NewExplorer(c, lineage.ExplorerConfig{KeepFinished: time.Millisecond, KeepStale: time.Hour,
		Cache: cache.Config{TTL: time.Nanosecond}})
	id := reg.Fixtures().DeepChainLeaf // 321 batches, one of them active
	old, err := e.StartLineage(id, false).Result()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	before := reg.Requests()
	j := e.StartLineage(id, false)
	select {
	case <-j.Done():
	default:
		t.Fatal("past KeepFinished the request waits for a new walk instead of getting the tree it had")
	}
	if tree, _ := j.Result(); tree != old {
		t.Fatal("not the tree walked before")
	}
	// The new walk runs in the background and then takes the old one's place.
	deadline := time.Now().Add(30 * time.Second)
	for {
		tree, err := e.StartLineage(id, false).Result()
		if err != nil {
			t.Fatal(err)
		}
		if tree != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new walk never replaced the stale tree")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if reg.Requests() == before {
		t.Error("no request upstream: the tree was not walked again")
	}

	// Past KeepStale the tree is dropped.
	e = lineage.NewExplorer(c, lineage.ExplorerConfig{KeepFinished: time.Millisecond, KeepStale: 2 * time.Millisecond,
		Cache: cache.Config{TTL: time.Nanosecond}})
	if _, err := e.StartLineage(id, false).Result(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	select {
	case <-e.StartLineage(id, false).Done():
		t.Error("a tree older than KeepStale was served")
	default:
	}
}
