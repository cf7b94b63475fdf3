package views

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

var (
	treesMu sync.Mutex
	trees   = map[string]*lineage.Tree{} // walked trees by root id, shared by tests (read only)
)

// walk builds a real tree by walking the demo registry through the real client over HTTP.
// The dataset is the same in every demo.Registry, so a tree walked once serves every test.
func walk(t *testing.T, r *demo.Registry, id string) *lineage.Tree {
	t.Helper()
	treesMu.Lock()
	defer treesMu.Unlock()
	if tree, ok := trees[id]; ok {
		return tree
	}
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, r),
		AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret, Concurrency: 16})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{Workers: 16, MaxNodes: 50_000}).Lineage(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	trees[id] = tree
	return tree
}

// account walks the items as the page nests them and checks what every layout must keep:
// every node of the tree appears exactly once, as a row or inside a collapsed row's count;
// lists nest no deeper than MaxNest; and a collapsed row has a fragment URL.
func account(t *testing.T, items []TreeItem, level, maxNest int, rows, hidden *int, seen map[string]int) {
	t.Helper()
	if len(items) > 0 && level > maxNest+1 {
		t.Fatalf("lists nest %d deep, more than MaxNest %d", level, maxNest)
	}
	for _, it := range items {
		*rows++
		seen[it.Row.ID]++
		if it.Hidden > 0 {
			*hidden += it.Hidden
			if it.LazyURL == "" {
				t.Errorf("%s: collapsed without a fragment URL", it.Row.ID)
			}
			if len(it.Children) != 0 {
				t.Errorf("%s: both collapsed and expanded", it.Row.ID)
			}
		}
		account(t, it.Children, level+1, maxNest, rows, hidden, seen)
	}
}

func TestLayoutAccountsForEveryNode(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	for _, tc := range []struct {
		name, id string
		opt      LineageOptions
	}{
		{"huge tree, default bounds", fx.HugeRoot, LineageOptions{}},
		{"huge tree, tiny budget", fx.HugeRoot, LineageOptions{MaxRows: 50, MaxNest: 3}},
		{"deep chain tip", fx.DeepChainLeaf, LineageOptions{}},
		{"deep chain, no folding, nesting bound 2", fx.DeepChainRoot, LineageOptions{MaxNest: 2, FoldRun: 1000}},
		{"wide leaf, small budget", fx.WideLeafDeep, LineageOptions{MaxRows: 200}},
		{"repeated child", fx.RepeatedChild, LineageOptions{}},
		{"cycle", fx.Cycle, LineageOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := walk(t, r, tc.id)
			opt := tc.opt.withDefaults()
			p := NewBatchPage(Base{}, tree, time.Time{}, tc.opt)

			var rows, hidden int
			seen := map[string]int{}
			account(t, p.Tree.Items, 0, opt.MaxNest, &rows, &hidden, seen)
			if rows+hidden != tree.Len()+repeats(tree) {
				t.Errorf("%d rows + %d collapsed = %d, want the tree's %d nodes", rows, hidden, rows+hidden, tree.Len()+repeats(tree))
			}
			if rows != p.Tree.Rows {
				t.Errorf("%d rows rendered, page says %d", rows, p.Tree.Rows)
			}
			if budget := opt.MaxRows + 2*len(tree.Path()); rows > budget {
				t.Errorf("%d rows rendered, more than the budget %d", rows, budget)
			}
			// The path to the target is always rendered, open, with the target once.
			targets := 0
			var find func([]TreeItem)
			find = func(items []TreeItem) {
				for _, it := range items {
					if it.Row.Target {
						targets++
					}
					find(it.Children)
				}
			}
			find(p.Tree.Items)
			if targets != 1 {
				t.Errorf("target rendered %d times", targets)
			}
			if len(p.Path.Head)+len(p.Path.Middle)+len(p.Path.Tail) != len(tree.Path()) {
				t.Errorf("path view has %d steps, tree path %d", len(p.Path.Head)+len(p.Path.Middle)+len(p.Path.Tail), len(tree.Path()))
			}
		})
	}
}

// repeats counts the nodes that share an id with another (a repeated child): Tree.Len counts
// each id once, the layout shows each place.
func repeats(t *lineage.Tree) int {
	n := 0
	t.Each(func(nd *lineage.Node) bool {
		if t.Nodes[nd.ID] != nd {
			n++
		}
		return true
	})
	return n
}

func TestSubtreeFragmentCoversTheNodesBelow(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	tree := walk(t, r, fx.HugeRoot)
	p := NewBatchPage(Base{}, tree, time.Time{}, LineageOptions{})
	// Open every collapsed row of the page, as a user could, and check each fragment.
	var lazies []TreeItem
	var collect func([]TreeItem)
	collect = func(items []TreeItem) {
		for _, it := range items {
			if it.LazyURL != "" {
				lazies = append(lazies, it)
			}
			collect(it.Children)
		}
	}
	collect(p.Tree.Items)
	if len(lazies) == 0 {
		t.Fatal("nothing collapsed in the huge tree")
	}
	for _, it := range lazies[:min(len(lazies), 20)] {
		tv, ok := NewSubtree(tree, fx.HugeRoot, it.Row.ID, LineageOptions{})
		if !ok {
			t.Fatalf("%s: not found", it.Row.ID)
		}
		var rows, hidden int
		account(t, tv.Items, 0, 16, &rows, &hidden, map[string]int{})
		if rows+hidden != it.Hidden {
			t.Errorf("%s: fragment accounts for %d nodes, the row said %d", it.Row.ID, rows+hidden, it.Hidden)
		}
		if rows > 400 {
			t.Errorf("%s: fragment renders %d rows", it.Row.ID, rows)
		}
	}
	if _, ok := NewSubtree(tree, fx.HugeRoot, fx.WideRoot, LineageOptions{}); ok {
		t.Error("a node of another tree was found")
	}
}
