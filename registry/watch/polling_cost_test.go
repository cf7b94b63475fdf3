package watch_test

import (
	"context"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// A poll of a watched tree asks the registry for its active batches, one request each, and
// for nothing else: never a split or retired batch, never the whole tree.
func TestPollAsksOnlyActiveBatches(t *testing.T) {
	for _, tc := range []struct {
		name          string
		root, watched func(r *rig) string
	}{
		{"wide tree", func(r *rig) string { return r.fx.WideRoot }, func(r *rig) string { return r.fx.WideLeafDeep }},
		{"deep chain", func(r *rig) string { return r.fx.DeepChainRoot }, func(r *rig) string { return r.fx.DeepChainLeaf }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			pollCost(t, r, tc.root(r), tc.watched(r))
		})
	}
}

func pollCost(t *testing.T, r *rig, root, watched string) {
	ctx := context.Background()
	active, nodes := activeOf(r.reg, root)
	if len(active) == 0 || len(active) >= nodes {
		t.Fatalf("the tree has %d active batches of %d: not a tree to measure with", len(active), nodes)
	}
	w, err := r.journal.AddWatch(ctx, "", history.WatchBatch, watched, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := watch.New(r.ex, r.journal, watch.Config{})
	if err := p.PollOnce(ctx); err != nil { // finds the tree (a walk through the cache) and polls it
		t.Fatal(err)
	}
	for poll := range 3 {
		r.reg.ResetStats()
		before := p.Stats().Requests
		if err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r.reg.Requests(); got != int64(len(active)) {
			t.Errorf("poll %d: %d upstream requests for a tree of %d batches, %d of them active; want %d", poll, got, nodes, len(active), len(active))
		}
		if got := p.Stats().Requests - before; got != int64(len(active)) {
			t.Errorf("poll %d: the poller counted %d requests, want %d", poll, got, len(active))
		}
		for _, id := range active {
			if n := r.reg.BatchFetches(id); n != 1 {
				t.Errorf("poll %d: active %s fetched %d times", poll, id, n)
				break
			}
		}
	}
	t.Logf("a tree of %d batches, %d active: %d upstream requests a poll", nodes, len(active), r.reg.Requests())
	st := p.Status(w.ID)
	if len(st.Trees) != 1 {
		t.Fatalf("status of %d trees, want 1", len(st.Trees))
	}
	if tr := st.Trees[0]; tr.Root != root || tr.Active != len(active) || len(tr.Batches) != nodes {
		t.Errorf("status: tree of %s, %d batches, %d active; want the tree of %s, %d batches, %d active",
			tr.Root, len(tr.Batches), tr.Active, root, nodes, len(active))
	}
	if polled, behind := st.Polled(); polled.IsZero() || behind != 0 {
		t.Errorf("status polled %v, behind %d; want polled whole", polled, behind)
	}
}
