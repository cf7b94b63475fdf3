// Over 500 lines because serial lookup is one feature with many cases (exact, contained, pasted
// forms, unknown, cold leaves, concurrent lookups, bounds, an index that cannot be built), all
// on one rig that serves the demo registry and counts requests by route.

package lineage_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Route templates as the client reports them to its observer.
const (
	routeIssuances   = "/issuances"
	routeRoots       = "/issuances/{id}/credit_batches"
	routeCreditBatch = "/credit_batches/{id}"
)

// serialRig is an Explorer in a cold process (empty cache, empty index) reading the demo
// registry over HTTP, with its upstream requests counted by route.
type serialRig struct {
	reg *demo.Registry
	ex  *lineage.Explorer
	src *isometric.Client // the explorer's upstream, for tests that ask the registry directly

	mu      sync.Mutex
	byRoute map[string]int64
}

// newSerialRig serves the demo registry (through wrap, if not nil) and makes an Explorer on it.
func newSerialRig(t *testing.T, cfg lineage.ExplorerConfig, wrap func(http.Handler) http.Handler) *serialRig {
	t.Helper()
	reg := demo.New(demo.Options{})
	var url string
	if wrap == nil {
		url = demo.NewTestServer(t, reg)
	} else {
		srv := httptest.NewServer(http.StripPrefix(demo.BasePath, wrap(reg)))
		t.Cleanup(srv.Close)
		url = srv.URL + demo.BasePath
	}
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	r := &serialRig{reg: reg, byRoute: map[string]int64{}}
	c.SetObserver(func(ev registry.RequestEvent) {
		r.mu.Lock()
		r.byRoute[ev.Endpoint]++
		r.mu.Unlock()
	})
	r.ex, r.src = lineage.NewExplorer(c, cfg), c
	// A pass a cold lookup started goes on after the lookup; let it end before the server does.
	t.Cleanup(func() {
		if r.ex.SerialIndex().Status().Running {
			_ = r.ex.SerialIndex().Refresh(context.Background())
		}
	})
	return r
}

// counts returns the requests sent so far: batch fetches, and the indexer's issuance pages and
// root lists.
func (r *serialRig) counts() (batches, pages, roots int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byRoute[routeCreditBatch], r.byRoute[routeIssuances], r.byRoute[routeRoots]
}

func (r *serialRig) batch(t *testing.T, id string) registry.CreditBatch {
	t.Helper()
	b, ok := r.reg.Batch(id)
	if !ok {
		t.Fatalf("%s is not in the demo dataset", id)
	}
	return b
}

// serialOf builds the serial number of units [first, last) in b's block.
func serialOf(t *testing.T, b registry.CreditBatch, first, last int64) string {
	t.Helper()
	s := mustSerial(t, b.SerialNumber)
	s.First, s.Last = first, last
	return s.String()
}

// checkSmallest checks that res names a batch containing the serial and that none of its
// children (in the dataset) contains it: it is the smallest batch containing it.
func checkSmallest(t *testing.T, r *serialRig, res lineage.Resolution, serial string) {
	t.Helper()
	want := mustSerial(t, serial)
	b := r.batch(t, res.BatchID)
	bs := mustSerial(t, b.SerialNumber)
	if !bs.Contains(want) || res.BatchSerial != bs {
		t.Errorf("%s resolved to %s (%s), which does not contain it (resolution says %s)", serial, b.ID, bs, res.BatchSerial)
	}
	for _, c := range r.reg.Children(b) {
		if cs := mustSerial(t, c.SerialNumber); cs.Contains(want) {
			t.Errorf("%s resolved to %s, but its child %s (%s) is smaller and contains it", serial, b.ID, c.ID, cs)
		}
	}
	if res.Exact != (bs == want) {
		t.Errorf("%s → %s: Exact = %v, want %v", serial, b.ID, res.Exact, bs == want)
	}
}

func resolve(t *testing.T, r *serialRig, serial string) lineage.Resolution {
	t.Helper()
	res, err := r.ex.ResolveSerial(context.Background(), serial)
	if err != nil {
		t.Fatalf("ResolveSerial(%q): %v", serial, err)
	}
	if res.Serial != mustSerial(t, serial) {
		t.Errorf("ResolveSerial(%q).Serial = %s", serial, res.Serial)
	}
	return res
}

// The budget: in a cold process, the serial of a leaf 10 levels down a ~3,000-batch
// tree costs the path down (two children a level), not the tree; a warm lookup costs nothing.
func TestResolveSerialColdLeafTenLevelsDeep(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	leaf := r.batch(t, f.WideLeafDeep)

	res := resolve(t, r, leaf.SerialNumber)
	if res.BatchID != f.WideLeafDeep || !res.Exact || res.Walked {
		t.Fatalf("resolved to %+v, want %s, exact, by descent", res, f.WideLeafDeep)
	}
	batches, pages, roots := r.counts()
	total := r.reg.Requests()
	t.Logf("cold lookup, no indexer running: %d batch fetches (tree of %d); %d issuance pages + %d root lists of the pass it started, by then; %d upstream requests in all",
		batches, f.WideNodeCount, pages, roots, total)
	// The root comes with its issuance's root list; each of the 10 levels below it fetches both
	// children to choose by range.
	if batches > 2*10 {
		t.Errorf("%d batch fetches for a leaf 10 levels down; want at most 20", batches)
	}
	r.mu.Lock()
	for route := range r.byRoute {
		if route != routeCreditBatch && route != routeIssuances && route != routeRoots {
			t.Errorf("the lookup used %s", route)
		}
	}
	r.mu.Unlock()

	// The pass the lookup started goes on in the background; once over, it has listed every
	// issuance once.
	if err := r.ex.SerialIndex().Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := r.ex.SerialIndex().Status()
	_, pages, roots = r.counts()
	t.Logf("first index pass: %d issuance pages, %d root lists (%d issuances, %d roots indexed)", pages, roots, st.Issuances, st.Roots)
	if roots != int64(st.Issuances) || st.Issuances != 60 || st.IndexedAsOf.IsZero() {
		t.Errorf("the pass fetched %d root lists for %d issuances (want one each, 60 issuances), indexed as of %v", roots, st.Issuances, st.IndexedAsOf)
	}

	for _, id := range []string{f.WideRoot, f.WideLeafDeep, leaf.ParentID} {
		if n := r.reg.BatchFetches(id); n > 1 {
			t.Errorf("%s fetched %d times", id, n)
		}
	}

	// Warm: the exact serial and a sub-range of the leaf need no upstream request.
	sub := serialOf(t, leaf, mustSerial(t, leaf.SerialNumber).First+1, mustSerial(t, leaf.SerialNumber).Last-1)
	resolve(t, r, sub) // cold for this range: through the cached path
	before := r.reg.Requests()
	if got := resolve(t, r, leaf.SerialNumber); got.BatchID != f.WideLeafDeep {
		t.Errorf("warm lookup resolved to %s", got.BatchID)
	}
	if got := resolve(t, r, sub); got.BatchID != f.WideLeafDeep || got.Exact {
		t.Errorf("warm sub-range lookup resolved to %s (exact %v)", got.BatchID, got.Exact)
	}
	warm := r.reg.Requests() - before
	t.Logf("warm lookups (exact serial, then a sub-range): %d upstream requests", warm)
	if warm != 0 {
		t.Errorf("warm lookups sent %d requests, want 0", warm)
	}
}

// With the background indexer already done, a cold lookup costs only the path down.
func TestResolveSerialAfterTheIndexerRan(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	idx := r.ex.SerialIndex()
	stop := idx.Start(context.Background())
	defer stop()
	if err := idx.Refresh(context.Background()); err != nil { // joins the indexer's first pass
		t.Fatal(err)
	}
	batches0, pages0, roots0 := r.counts()
	if batches0 != 0 || roots0 != 60 {
		t.Errorf("the pass made %d batch fetches and %d root lists; want 0 and 60", batches0, roots0)
	}
	leaf := r.batch(t, f.WideLeafDeep)
	if res := resolve(t, r, leaf.SerialNumber); res.BatchID != f.WideLeafDeep {
		t.Fatalf("resolved to %s", res.BatchID)
	}
	batches, pages, roots := r.counts()
	t.Logf("cold lookup after the indexer's pass (%d pages, %d root lists): %d batch fetches, %d index requests during it",
		pages0, roots0, batches, pages-pages0+roots-roots0)
	if batches > 20 || pages != pages0 || roots != roots0 {
		t.Errorf("lookup made %d batch fetches and %d index requests; want at most 20 and 0", batches, pages-pages0+roots-roots0)
	}

	// A second pass lists the issuances again but fetches no root list it already has.
	if err := idx.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, pages2, roots2 := r.counts()
	if roots2 != roots0 || pages2 <= pages0 {
		t.Errorf("refresh: %d more root lists (want 0), %d more pages (want every page again)", roots2-roots0, pages2-pages0)
	}
	stop()
	stop() // idempotent
	if st := idx.Status(); st.Running || st.Passes < 2 {
		t.Errorf("after stop: %+v", st)
	}
}

func TestResolveSerialExactWhateverTheStatus(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	deepRoot := r.batch(t, f.DeepChainRoot)
	cases := []struct {
		name, id string
		status   registry.Status
	}{
		{"split root of the wide tree", f.WideRoot, registry.StatusSplit},
		{"split batch inside the deep chain", r.batch(t, deepRoot.RightChildID).ID, registry.StatusSplit},
		{"retired peel of the deep chain", deepRoot.LeftChildID, registry.StatusRetired},
		{"active tip of the deep chain, 320 levels down", f.DeepChainLeaf, registry.StatusActive},
		{"batch over 2^53 kg", f.BigKgRoot, registry.StatusSplit},
	}
	for _, tc := range cases {
		b := r.batch(t, tc.id)
		if b.Status != tc.status {
			t.Fatalf("%s: %s is %s, want %s", tc.name, tc.id, b.Status, tc.status)
		}
		before, _, _ := r.counts()
		res := resolve(t, r, b.SerialNumber)
		after, _, _ := r.counts()
		if res.BatchID != tc.id || !res.Exact || res.BatchSerial.String() != b.SerialNumber {
			t.Errorf("%s: resolved to %+v, want %s exactly", tc.name, res, tc.id)
		}
		t.Logf("%s: %d batch fetches", tc.name, after-before)
	}
	if n, _, _ := r.counts(); n > 2*int64(f.DeepChainDepth)+4 {
		t.Errorf("%d batch fetches in all; the deep chain's path is %d", n, 2*f.DeepChainDepth)
	}
}

func TestResolveSerialSubRangeGoesToTheSmallestBatch(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	leaf := r.batch(t, f.WideLeafDeep)
	ls := mustSerial(t, leaf.SerialNumber)
	parent := r.batch(t, leaf.ParentID)
	left, right := r.batch(t, parent.LeftChildID), r.batch(t, parent.RightChildID)
	boundary := mustSerial(t, right.SerialNumber).First
	if mustSerial(t, left.SerialNumber).Last != boundary {
		t.Fatalf("the halves of %s do not share a boundary", parent.ID)
	}
	if ls.Size() < 3 {
		t.Fatalf("leaf %s is too small to cut from", leaf.ID)
	}
	cases := []struct {
		name, serial, want string
	}{
		{"inside the leaf", serialOf(t, leaf, ls.First+1, ls.Last-1), leaf.ID},
		{"the leaf's first unit", serialOf(t, leaf, ls.First, ls.First+1), leaf.ID},
		{"the leaf's last unit", serialOf(t, leaf, ls.Last-1, ls.Last), leaf.ID},
		{"across the boundary of a split", serialOf(t, parent, boundary-1, boundary+1), parent.ID},
		{"the boundary unit, which is the right half's", serialOf(t, parent, boundary, boundary+1), ""},
		{"the unit before it, the left half's", serialOf(t, parent, boundary-1, boundary), ""},
	}
	for _, tc := range cases {
		res := resolve(t, r, tc.serial)
		if tc.want != "" && res.BatchID != tc.want {
			t.Errorf("%s (%s): resolved to %s, want %s", tc.name, tc.serial, res.BatchID, tc.want)
		}
		checkSmallest(t, r, res, tc.serial)
		if res.Walked {
			t.Errorf("%s: walked a tree whose ranges nest", tc.name)
		}
	}
	// The boundary unit lies in the right half's subtree, the unit before it in the left's.
	inRight := resolve(t, r, serialOf(t, parent, boundary, boundary+1))
	if !mustSerial(t, right.SerialNumber).Contains(inRight.BatchSerial) {
		t.Errorf("boundary unit resolved to %s (%s), outside the right half %s", inRight.BatchID, inRight.BatchSerial, right.SerialNumber)
	}
}

func TestResolveSerialUnknown(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	wide := r.batch(t, r.reg.Fixtures().WideRoot)
	for _, serial := range []string{
		serialOf(t, wide, 1, 2),                                    // a known project and vintage, units no root holds
		"ISO-1-DAC-ISL-ZZZZ-2024-100-200",                          // a project that does not exist
		"ISO-2-" + strings.TrimPrefix(wide.SerialNumber, "ISO-1-"), // another format version
		serialOf(t, wide, 0, 1<<62),                                // every unit of the block: spans many roots, so no one batch holds it
	} {
		_, err := r.ex.ResolveSerial(context.Background(), serial)
		if !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", serial, err)
			continue
		}
		var nf *lineage.SerialNotFoundError
		if !errors.As(err, &nf) || nf.IndexedAsOf.IsZero() || nf.Serial != mustSerial(t, serial) {
			t.Errorf("%s: %#v, want a SerialNotFoundError with the index's time", serial, err)
		}
		if !strings.Contains(err.Error(), mustSerial(t, serial).String()) || !strings.Contains(err.Error(), "indexed as of") {
			t.Errorf("%s: message %q should name the serial and how fresh the index is", serial, err)
		}
	}
	if n, _, _ := r.counts(); n != 0 {
		t.Errorf("%d batch fetches for serials no root contains", n)
	}
}

func TestResolveSerialMalformedSendsNothing(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	for _, serial := range []string{"", "ISO-1-VAULT", "ctb_1DRBTYA8Q1S07CBY", "ISO-1-VAULT-USA-01P4-2026-5-5", "ISO-1-VAULT-USA-01P4-2026-1-99999999999999999999"} {
		_, err := r.ex.ResolveSerial(context.Background(), serial)
		if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), registry.ExampleSerial) {
			t.Errorf("%q: %v, want ErrInvalid with an example", serial, err)
		}
	}
	if n := r.reg.Requests(); n != 0 {
		t.Errorf("%d requests sent upstream for malformed serials", n)
	}
	if st := r.ex.SerialIndex().Status(); st.Running || st.LastPassEnd != (time.Time{}) {
		t.Errorf("a malformed serial started an index pass: %+v", st)
	}
}

func TestResolveSerialFromTheLastPageOfIssuances(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	// Look the issuance's roots up with a client of our own, outside the explorer under test.
	_, c := newDemoClient(t, r.reg)
	roots, err := c.IssuanceCreditBatches(context.Background(), f.LastPageIssuance)
	if err != nil {
		t.Fatal(err)
	}
	var want []registry.CreditBatch
	for _, b := range append(roots.SupplierCreditBatches, roots.BufferPoolCreditBatches...) {
		want = append(want, b)
		if b.RightChildID != "" {
			want = append(want, r.batch(t, b.RightChildID))
		}
	}
	if len(want) < 2 {
		t.Fatalf("issuance %s has %d roots", f.LastPageIssuance, len(want))
	}
	for _, b := range want {
		if res := resolve(t, r, b.SerialNumber); res.BatchID != b.ID || !res.Exact {
			t.Errorf("%s resolved to %+v, want %s", b.SerialNumber, res, b.ID)
		}
	}
	if _, pages, _ := r.counts(); pages < 2 {
		t.Errorf("the index read %d pages of issuances; the issuance should be past the first", pages)
	}
}

func TestResolveSerialPastedVariants(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	s := r.batch(t, f.WideLeafDeep).SerialNumber
	for _, v := range []string{s, strings.ToLower(s), "  " + s + "  ", s + "\t", s + ".", "\u00a0" + strings.ToLower(s) + ".\t", `"` + s + `"`} {
		res, err := r.ex.ResolveSerial(context.Background(), v)
		if err != nil || res.BatchID != f.WideLeafDeep || !res.Exact || res.Serial.String() != s {
			t.Errorf("%q: %+v, %v; want %s", v, res, err, f.WideLeafDeep)
		}
	}
}

// Where the planted records' ranges do not nest, the lookup walks the tree and still answers
// with the smallest batch containing the serial; where links loop, it ends.
// Each case runs in a cold process of its own, so that none is answered from what another
// fetched.
func TestResolveSerialInPlantedTrees(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()

	gap := r.batch(t, f.RangeGap)
	gs := mustSerial(t, gap.SerialNumber)
	gapLeft, gapRight := r.batch(t, gap.LeftChildID), r.batch(t, gap.RightChildID)
	oneChild := r.batch(t, f.OneChildSplit)
	cyc := r.batch(t, f.Cycle)
	cycX := r.batch(t, cyc.RightChildID)
	cycZ := r.batch(t, cycX.RightChildID)
	rep := r.batch(t, f.RepeatedChild)
	repC := r.batch(t, r.batch(t, rep.LeftChildID).RightChildID)
	dangling := r.batch(t, f.DanglingChild)
	ds := mustSerial(t, dangling.SerialNumber)
	mismatch := r.batch(t, f.SizeMismatch)
	ms := mustSerial(t, mismatch.SerialNumber)

	cases := []struct {
		name, serial, want string
		exact, walked      bool
	}{
		{"RangeGap: the right child, which overhangs its parent", gapRight.SerialNumber, gapRight.ID, true, true},
		{"RangeGap: units in the gap between the children", serialOf(t, gap, gs.First+6_000, gs.First+6_500), gap.ID, false, true},
		{"RangeGap: the left child", gapLeft.SerialNumber, gapLeft.ID, true, true},
		{"OneChildSplit: the root's serial, which its only child shares", oneChild.SerialNumber, oneChild.ID, true, false},
		{"Cycle: the batch whose child is its own parent", cycZ.SerialNumber, cycZ.ID, true, false},
		{"RepeatedChild: the batch listed by two parents", repC.SerialNumber, repC.ID, true, false},
		{"DanglingChild: units of the child that answers 404", serialOf(t, dangling, ds.First+6_000, ds.Last), dangling.ID, false, false},
		{"SizeMismatch: the units no child took", serialOf(t, mismatch, ms.Last-1_000, ms.Last), mismatch.ID, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cold := newSerialRig(t, lineage.ExplorerConfig{}, nil)
			res, err := cold.ex.ResolveSerial(context.Background(), tc.serial)
			if err != nil {
				t.Fatal(err)
			}
			if res.BatchID != tc.want || res.Exact != tc.exact || res.Walked != tc.walked {
				t.Errorf("%s → %s (exact %v, walked %v); want %s (exact %v, walked %v)",
					tc.serial, res.BatchID, res.Exact, res.Walked, tc.want, tc.exact, tc.walked)
			}
			// Once walked, the tree is in the cache: the same lookup fetches nothing. (The index
			// pass the cold lookup started may still be listing issuances: only batch fetches count.)
			if tc.walked {
				before, _, _ := cold.counts()
				again := resolve(t, cold, tc.serial)
				if after, _, _ := cold.counts(); again.BatchID != tc.want || after != before {
					t.Errorf("again: %s with %d batch fetches", again.BatchID, after-before)
				}
			}
		})
	}

	// ParentCycle's batches hang under no issuance's root: unknown until the app fetches one,
	// then known by its exact serial.
	pc := r.batch(t, f.ParentCycle)
	if _, err := r.ex.ResolveSerial(context.Background(), pc.SerialNumber); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("ParentCycle before any fetch: %v, want ErrNotFound", err)
	}
	if _, err := r.ex.CreditBatch(context.Background(), f.ParentCycle); err != nil {
		t.Fatal(err)
	}
	before, _, _ := r.counts()
	if res, err := r.ex.ResolveSerial(context.Background(), pc.SerialNumber); err != nil || res.BatchID != f.ParentCycle || !res.Exact {
		t.Errorf("ParentCycle once fetched: %+v, %v", res, err)
	}
	if after, _, _ := r.counts(); after != before {
		t.Errorf("a fetched batch's serial cost %d batch fetches", after-before)
	}
}

// Many users asking for serials of one tree at once, in a cold process: one index pass, and
// each batch fetched once.
func TestResolveSerialConcurrentColdLookups(t *testing.T) {
	r := newSerialRig(t, lineage.ExplorerConfig{}, nil)
	f := r.reg.Fixtures()
	leaf := r.batch(t, f.WideLeafDeep)
	ls := mustSerial(t, leaf.SerialNumber)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 24 {
		serial := leaf.SerialNumber
		if i%2 == 1 {
			serial = serialOf(t, leaf, ls.First, ls.Last-int64(i%3)-1)
		}
		wg.Go(func() {
			res, err := r.ex.ResolveSerial(context.Background(), serial)
			if err != nil || res.BatchID != f.WideLeafDeep {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of 24 lookups failed", n)
	}
	if err := r.ex.SerialIndex().Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches, _, roots := r.counts()
	t.Logf("24 concurrent cold lookups: %d batch fetches, %d root lists", batches, roots)
	if roots != 60 || batches > 20 {
		t.Errorf("%d root lists (want 60: one pass) and %d batch fetches (want at most 20)", roots, batches)
	}
	for id := leaf.ID; id != ""; id = r.batch(t, id).ParentID {
		if n := r.reg.BatchFetches(id); n > 1 {
			t.Errorf("%s fetched %d times", id, n)
		}
	}
}

// While the indexer's requests hang upstream, page requests still get through, and serials of
// batches the app has fetched still resolve: the indexer holds no lock during its calls and
// takes at most Workers of the client's slots.
func TestSerialIndexerNeverBlocksPageRequests(t *testing.T) {
	held := make(chan struct{}, 100)
	release := make(chan struct{})
	gate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if strings.HasPrefix(req.URL.Path, "/issuances/") && strings.HasSuffix(req.URL.Path, "/credit_batches") {
				held <- struct{}{}
				select {
				case <-release:
				case <-req.Context().Done():
					return
				}
			}
			next.ServeHTTP(w, req)
		})
	}
	r := newSerialRig(t, lineage.ExplorerConfig{SerialIndex: lineage.SerialIndexConfig{Workers: 2}}, gate)
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	f := r.reg.Fixtures()
	idx := r.ex.SerialIndex()
	stop := idx.Start(context.Background())
	defer stop()
	<-held
	<-held // both of the indexer's workers are now stuck upstream

	// What must not wait for the indexer gets a deadline, so that if it does the test fails
	// instead of hanging; nothing here measures time.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := r.ex.CreditBatch(ctx, f.DeepChainLeaf); err != nil {
		t.Fatal(err)
	}
	tree, err := r.ex.Lineage(ctx, f.AllFinalRoot)
	if err != nil || tree.Len() != 15 {
		t.Fatalf("lineage during the pass: %v, %v", tree, err)
	}
	leaf := r.batch(t, f.DeepChainLeaf)
	if res, err := r.ex.ResolveSerial(ctx, leaf.SerialNumber); err != nil || res.BatchID != f.DeepChainLeaf {
		t.Errorf("a fetched batch's serial during the pass: %+v, %v", res, err)
	}
	if st := idx.Status(); !st.Running || !st.IndexedAsOf.IsZero() {
		t.Errorf("the pass should be under way: %+v", st)
	}
	if n := len(held); n != 0 {
		t.Errorf("%d more root lists were sent while 2 workers were stuck; Workers is 2", n)
	}

	// A serial that needs the roots waits for the pass, and resolves once it can go on.
	done := make(chan error, 1)
	wide := r.batch(t, f.WideLeafDeep)
	go func() {
		res, err := r.ex.ResolveSerial(context.Background(), wide.SerialNumber)
		if err == nil && res.BatchID != f.WideLeafDeep {
			err = fmt.Errorf("resolved to %s", res.BatchID)
		}
		done <- err
	}()
	close(release)
	released = true
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// The exact index stays within its bound; serials it dropped still resolve by range.
func TestSerialIndexStaysWithinItsBound(t *testing.T) {
	var stored atomic.Int64
	r := newSerialRig(t, lineage.ExplorerConfig{
		SerialIndex: lineage.SerialIndexConfig{MaxSerials: 100},
		Cache:       cache.Config{OnStore: func(*registry.CreditBatch) { stored.Add(1) }},
	}, nil)
	f := r.reg.Fixtures()
	tree, err := r.ex.Lineage(context.Background(), f.WideRoot)
	if err != nil {
		t.Fatal(err)
	}
	if n := stored.Load(); n < int64(tree.Len()) {
		t.Errorf("the configured OnStore saw %d batches of %d: the index must chain it, not replace it", n, tree.Len())
	}
	if st := r.ex.SerialIndex().Status(); st.Serials > 100 || st.Serials == 0 {
		t.Errorf("%d exact serials indexed; bound 100", st.Serials)
	}
	n := 0
	tree.Each(func(node *lineage.Node) bool {
		if n++; n%97 != 0 {
			return true
		}
		res := resolve(t, r, node.Batch.SerialNumber)
		if res.BatchID != node.ID {
			t.Errorf("%s resolved to %s, want %s", node.Batch.SerialNumber, res.BatchID, node.ID)
		}
		return true
	})
}

// newDemoClient is a client of its own on reg, for test set-up that must not count against the
// explorer under test.
func newDemoClient(t *testing.T, reg *demo.Registry) (string, *isometric.Client) {
	t.Helper()
	url := demo.NewTestServer(t, reg)
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return url, c
}

// When the index cannot be built, a serial it would need is not reported as unknown: the
// lookup says why (here, the registry rejecting the credentials on GET /issuances).
func TestResolveSerialWhenTheIndexCannotBeBuilt(t *testing.T) {
	reject := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/issuances" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"detail":"Invalid authentication credentials"}`))
				return
			}
			next.ServeHTTP(w, req)
		})
	}
	r := newSerialRig(t, lineage.ExplorerConfig{}, reject)
	f := r.reg.Fixtures()
	leaf := r.batch(t, f.WideLeafDeep)
	_, err := r.ex.ResolveSerial(context.Background(), leaf.SerialNumber)
	if !errors.Is(err, registry.ErrCredentials) || errors.Is(err, registry.ErrNotFound) {
		t.Errorf("lookup with no index: %v, want ErrCredentials", err)
	}
	st := r.ex.SerialIndex().Status()
	if st.LastError == "" || !st.IndexedAsOf.IsZero() || st.Passes != 0 {
		t.Errorf("status after a failed pass: %+v", st)
	}
	// Batches the app fetches are still found by their exact serial.
	if _, err := r.ex.CreditBatch(context.Background(), f.WideLeafDeep); err != nil {
		t.Fatal(err)
	}
	if res, err := r.ex.ResolveSerial(context.Background(), leaf.SerialNumber); err != nil || res.BatchID != f.WideLeafDeep {
		t.Errorf("a fetched batch's serial: %+v, %v", res, err)
	}
}

// mustSerial parses a serial the test built from the dataset, which must be well formed.
func mustSerial(t testing.TB, s string) registry.Serial {
	t.Helper()
	v, err := registry.ParseSerial(s)
	if err != nil {
		t.Fatalf("the dataset's serial %q: %v", s, err)
	}
	return v
}
