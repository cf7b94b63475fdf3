package lineage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// heldRegistry is the demo registry over real HTTP with some batches held back: a GET
// /credit_batches/{id} for a held id waits until release is closed, so that a walk can be
// looked at mid-way without any timing.
type heldRegistry struct {
	reg     *demo.Registry
	held    map[string]bool
	arrived chan string // a held id, each time it is asked for
	release chan struct{}
	once    sync.Once
}

func holdBatches(t *testing.T, ids ...string) (*heldRegistry, *isometric.Client) {
	t.Helper()
	h := &heldRegistry{reg: demo.New(demo.Options{}), held: map[string]bool{}, arrived: make(chan string, 64), release: make(chan struct{})}
	for _, id := range ids {
		h.held[id] = true
	}
	inner := http.StripPrefix(demo.BasePath, h.reg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := path.Base(r.URL.Path); h.held[id] && path.Base(path.Dir(r.URL.Path)) == "credit_batches" {
			select {
			case h.arrived <- id:
			default:
			}
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.free) // before the server closes: a held request would keep Close waiting
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL + demo.BasePath, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

func (h *heldRegistry) free() { h.once.Do(func() { close(h.release) }) }

// subtreeSize counts the dataset's batches in id's subtree, id included.
func subtreeSize(reg *demo.Registry, id string) int {
	n := 0
	stack := []string{id}
	for len(stack) > 0 {
		b, _ := reg.Batch(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		n++
		for _, c := range reg.Children(b) {
			stack = append(stack, c.ID)
		}
	}
	return n
}

// pathTo is the dataset's path from the root down to id.
func pathTo(reg *demo.Registry, id string) []string {
	var p []string
	for id != "" {
		p = append([]string{id}, p...)
		b, _ := reg.Batch(id)
		id = b.ParentID
	}
	return p
}

// otherChild is the child of parent that is not child.
func otherChild(reg *demo.Registry, parent, child string) string {
	b, _ := reg.Batch(parent)
	if b.LeftChildID == child {
		return b.RightChildID
	}
	return b.LeftChildID
}

// waitFetched waits until the walk has fetched n batches: the pace of a poll, not a timed
// assertion (the bound only stops a walk that never gets there).
func waitFetched(t *testing.T, p *lineage.Progress, n int64) {
	t.Helper()
	for i := 0; p.Fetched() < n; i++ {
		if i == 60_000 {
			t.Fatalf("the walk fetched %d batches, never %d", p.Fetched(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A walk held on one branch (the root's other half) shows, in a snapshot taken while it waits,
// the batch asked for, its whole path from the root, every batch fetched with its links as
// the registry has them, the held branch as not yet walked and the root as still walking; a
// snapshot with a limit copies the path and that many more; once the walk is over there is
// no snapshot, and the finished tree is whole.
func TestSnapshotOfAWalkHeldMidway(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	onPath := pathTo(reg, f.WideLeafDeep)
	held := otherChild(reg, f.WideRoot, onPath[1])
	h, c := holdBatches(t, held)
	want := int64(f.WideNodeCount - subtreeSize(reg, held))

	p := &lineage.Progress{}
	type result struct {
		tree *lineage.Tree
		err  error
	}
	done := make(chan result, 1)
	go func() {
		tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), f.WideLeafDeep, p)
		done <- result{tree, err}
	}()
	<-h.arrived
	waitFetched(t, p, want)

	s := p.Snapshot(1 << 20)
	if s == nil {
		t.Fatal("no snapshot while the walk is held")
	}
	tr := s.Tree
	if tr.Root == nil || tr.Root.ID != f.WideRoot || tr.Target == nil || tr.Target.ID != f.WideLeafDeep {
		t.Fatalf("snapshot root %v, target %v; want %s, %s", tr.Root, tr.Target, f.WideRoot, f.WideLeafDeep)
	}
	if !s.Climbed {
		t.Error("the climb reached the root, but the snapshot says it is still climbing")
	}
	if s.Known != int(want)+1 || s.Shown != s.Known || s.Fetched != int(want) {
		t.Errorf("known %d, shown %d, fetched %d; want %d known and shown, %d fetched", s.Known, s.Shown, s.Fetched, want+1, want)
	}
	var got []string
	for _, n := range tr.Path() {
		got = append(got, n.ID)
	}
	if len(got) != len(onPath) || got[0] != onPath[0] || got[len(got)-1] != onPath[len(onPath)-1] {
		t.Errorf("path %v, want %v", got, onPath)
	}
	if tr.Target.Depth != len(onPath)-1 {
		t.Errorf("the batch is at depth %d, want %d", tr.Target.Depth, len(onPath)-1)
	}
	heldNode := tr.Nodes[held]
	if heldNode == nil || heldNode.Batch != nil || len(heldNode.Children) != 0 || s.State(heldNode) != lineage.WalkPending {
		t.Fatalf("held batch in the snapshot: %+v, state %v; want pending with no batch", heldNode, s.State(heldNode))
	}
	if st := s.State(tr.Root); st != lineage.WalkUnder {
		t.Errorf("root's state %v, want still walking", st)
	}
	tr.Each(func(n *lineage.Node) bool {
		if n == tr.Root || n == heldNode {
			return true
		}
		if st := s.State(n); st != lineage.WalkDone {
			t.Errorf("%s: state %v, but its whole subtree is fetched", n.ID, st)
		}
		wantB, _ := reg.Batch(n.ID)
		if n.Batch == nil || n.Batch.Size.CreditKgs != wantB.Size.CreditKgs || len(n.Children) != len(reg.Children(wantB)) || s.Unshown(n) != 0 {
			t.Errorf("%s: %d children copied (%d unshown), the registry has %d", n.ID, len(n.Children), s.Unshown(n), len(reg.Children(wantB)))
		}
		if n.Parent == nil || n.Depth != n.Parent.Depth+1 {
			t.Errorf("%s: depth %d under %v", n.ID, n.Depth, n.Parent)
		}
		return true
	})

	const limit = 40
	small := p.Snapshot(limit)
	if small.Shown != len(onPath)+limit || len(small.Tree.Nodes) != small.Shown || small.Known != s.Known {
		t.Errorf("limited snapshot: shown %d (%d nodes), known %d; want %d shown of %d", small.Shown, len(small.Tree.Nodes), small.Known, len(onPath)+limit, s.Known)
	}
	unshown, copied := 0, 0
	small.Tree.Each(func(n *lineage.Node) bool {
		copied++
		unshown += small.Unshown(n)
		return true
	})
	if copied != small.Shown || unshown == 0 {
		t.Errorf("limited snapshot: %d nodes reachable from its root of %d shown, %d children marked unshown", copied, small.Shown, unshown)
	}
	for _, id := range onPath {
		if small.Tree.Nodes[id] == nil {
			t.Errorf("limited snapshot leaves out %s of the path", id)
		}
	}

	h.free()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if p.Snapshot(limit) != nil {
		t.Error("a snapshot of a walk that is over")
	}
	if r.tree.Len() != f.WideNodeCount || r.tree.Nodes[held].Batch == nil {
		t.Errorf("finished tree: %d nodes, want %d with the held one", r.tree.Len(), f.WideNodeCount)
	}
}

// Snapshots taken over and over while a walk runs (go test -race) read a consistent tree: a
// branch said to be complete has every copied descendant complete and fetched or marked
// missing, a batch not yet walked has no children, and what the walk knows never shrinks.
func TestSnapshotsDuringAWalk(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	p := &lineage.Progress{}
	done := make(chan error, 1)
	go func() {
		_, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), f.WideLeafDeep, p)
		done <- err
	}()
	taken, lastKnown := 0, 0
	check := func(s *lineage.Snapshot) {
		taken++
		if s.Known < lastKnown {
			t.Errorf("known went from %d to %d", lastKnown, s.Known)
		}
		lastKnown = s.Known
		s.Tree.Each(func(n *lineage.Node) bool {
			switch s.State(n) {
			case lineage.WalkPending:
				if n.Batch != nil || len(n.Children) > 0 {
					t.Errorf("%s not yet walked, but has a batch or children", n.ID)
				}
			case lineage.WalkDone:
				if n.Batch == nil && n.Missing == lineage.MissingNone {
					t.Errorf("%s complete without a batch", n.ID)
				}
				for _, ch := range n.Children {
					if s.State(ch) != lineage.WalkDone {
						t.Errorf("%s complete, but its child %s is %v", n.ID, ch.ID, s.State(ch))
					}
				}
			}
			return true
		})
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if taken == 0 {
				t.Skip("the walk ended before a snapshot could be taken")
			}
			t.Logf("%d snapshots taken during the walk", taken)
			return
		default:
		}
		time.Sleep(100 * time.Microsecond) // pace: a page polls, it does not spin
		if s := p.Snapshot(200); s != nil {
			check(s)
		}
	}
}
