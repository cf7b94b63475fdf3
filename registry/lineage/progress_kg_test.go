package lineage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// watchedSource reads the walk's progress in kg each time the walk asks for a batch: what a
// progress page polling at that moment would show.
type watchedSource struct {
	src  lineage.BatchSource
	p    *lineage.Progress
	mu   sync.Mutex
	seen []int64
}

func (w *watchedSource) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	// Read under the lock: two fetches reading first and appending in the other order would
	// record a fall that never happened.
	w.mu.Lock()
	w.seen = append(w.seen, w.p.Permille())
	w.mu.Unlock()
	return w.src.CreditBatch(ctx, id)
}

// The walk's progress in kg of the root: 0 until the climb reaches the root, then rising, never
// back, below 1000 while the walk runs and 1000 once it has ended; from a leaf of the wide
// tree and from the tip of the 320-deep chain, whose climb is the walk.
func TestWalkProgressByKg(t *testing.T) {
	reg, c := newDemo(t, demo.Options{Latency: time.Millisecond})
	f := reg.Fixtures()
	// The chain's climb is its whole walk (each peel is fetched as its parent arrives), so its
	// share stays 0 to the root and then jumps: the root's kg is what it is a share of.
	for _, tc := range []struct {
		name, id string
		moves    bool
	}{{"wide leaf", f.WideLeafDeep, true}, {"chain tip", f.DeepChainLeaf, false}} {
		t.Run(tc.name, func(t *testing.T) {
			p := &lineage.Progress{}
			w := &watchedSource{src: c, p: p}
			tree, err := lineage.NewWalker(w, lineage.WalkerConfig{}).Lineage(context.Background(), tc.id, p)
			if err != nil {
				t.Fatal(err)
			}
			// The climb asks for each ancestor in turn, so before the root arrives the share
			// is unknown: 0, whatever the peels fetched meanwhile hold.
			depth := len(tree.Path()) - 1
			distinct := 0
			for i, pm := range w.seen {
				if i > 0 && pm < w.seen[i-1] {
					t.Fatalf("went back from %d to %d at fetch %d", w.seen[i-1], pm, i)
				}
				if pm >= 1000 {
					t.Fatalf("%d ‰ at fetch %d, while the walk runs", pm, i)
				}
				if i > 0 && pm != w.seen[i-1] {
					distinct++
				}
			}
			if len(w.seen) > depth && w.seen[depth] != 0 {
				t.Errorf("%d ‰ when asking for the root (fetch %d): the root's kg is not known yet", w.seen[depth], depth)
			}
			if tc.moves && distinct < 10 {
				t.Errorf("the share took %d values over %d fetches: it hardly moved", distinct, len(w.seen))
			}
			if pm := p.Permille(); pm != 1000 {
				t.Errorf("the finished walk is at %d ‰", pm)
			}
			t.Logf("%d fetches, %d values, last seen while running %d ‰", len(w.seen), distinct, w.seen[len(w.seen)-1])
		})
	}
}
