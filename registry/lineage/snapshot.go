package lineage

// What a walk under way has found so far, for a page to show while it runs: a copy of part of
// the tree, taken on request under the walk's lock. Its cost is bounded by the nodes copied
// (the path and at most a given number more), not by the tree: the walk keeps per node only
// whether its subtree is complete (walk.open), so nothing else is visited.

// WalkState says how far the walk has gone below a node of a Snapshot.
type WalkState int

// The states of a node while its tree is walked.
const (
	// WalkDone: the node's batch and every batch below it have been fetched (or marked
	// missing): its subtree is as the finished tree will show it.
	WalkDone WalkState = iota
	// WalkPending: the node's own batch has not been fetched yet ("not yet walked").
	WalkPending
	// WalkUnder: the node's batch is fetched but some batch below it is not yet ("still
	// walking").
	WalkUnder
)

// Snapshot is part of a lineage tree while its walk runs. Its Tree is a copy, safe to read
// while the walk goes on and never changed by it: Root is the highest batch the climb has
// reached so far (the root only once Climbed and the path is complete), Target the batch
// asked for, Nodes the nodes copied (the path from Root to Target, then the Target's
// subtree and the rest of the tree breadth first, up to the limit asked for), each with the
// problems found at it so far and its Depth below Root. The tree has no audit: what the walk
// has not fetched would change it.
type Snapshot struct {
	Tree *Tree
	// Climbed is set once the climb up parent_id has ended: Root is then as high as the
	// walk goes (the batch its issuance created, unless the climb failed, see Tree.Root's
	// Missing and its ParentID).
	Climbed bool
	// Known is the number of nodes the walk knows of (fetched or not); Shown the number
	// copied into Tree. Known - Shown are left out of this snapshot.
	Known, Shown int
	// Fetched is the number of batches obtained so far.
	Fetched int

	state   map[*Node]WalkState // by copied node; absent: WalkDone
	unshown map[*Node]int       // copied nodes' children left out of the copy
}

// State is how far the walk has gone below n, a node of s.Tree.
func (s *Snapshot) State(n *Node) WalkState { return s.state[n] }

// Unshown is the number of n's children (n a node of s.Tree) that the snapshot left out to
// keep within its limit; what lies below them is not counted.
func (s *Snapshot) Unshown(n *Node) int { return s.unshown[n] }

// Snapshot copies what the walk has found so far, with at most limit nodes besides the path
// from the highest batch reached to the batch asked for (always copied, whatever its
// length). It returns nil before the walk has fetched the batch itself, and once the walk is
// over (its result is then the finished tree). Safe to call from any goroutine while the walk
// runs; it holds the walk's lock for a time proportional to what it copies.
func (p *Progress) Snapshot(limit int) *Snapshot {
	wk := p.walk.Load()
	if wk == nil {
		return nil
	}
	return wk.snapshot(max(limit, 0))
}

func (wk *walk) snapshot(limit int) *Snapshot {
	wk.mu.Lock()
	defer wk.mu.Unlock()
	if wk.ended {
		return nil
	}
	// Sized once: growing the maps node by node was most of a snapshot's cost.
	known := len(wk.tree.Nodes)
	if wk.rising != nil {
		known-- // not in the tree until it arrives: the page says the climb goes on instead
	}
	size := min(known, limit) + 64
	s := &Snapshot{Climbed: wk.climbed, Known: known, Fetched: int(wk.progress.Fetched()),
		state: map[*Node]WalkState{}, unshown: map[*Node]int{}}
	t := &Tree{Nodes: make(map[string]*Node, size)}
	s.Tree = t
	copies := make(map[*Node]*Node, size) // original → copy
	order := make([]*Node, 0, size)       // originals in the order copied, parents before children
	take := func(n *Node) *Node {
		if c := copies[n]; c != nil {
			return c
		}
		c := &Node{ID: n.ID, Batch: n.Batch, Missing: n.Missing, Err: n.Err, Link: n.Link}
		if p := copies[n.Parent]; p != nil && n != wk.top {
			c.Parent, c.Depth = p, p.Depth+1
		}
		copies[n] = c
		order = append(order, n)
		return c
	}

	// The path, top down: every node of it has its parent copied before it.
	var path []*Node
	for n := wk.tree.Target; n != nil; n = n.Parent {
		path = append(path, n)
		if n == wk.top {
			break
		}
	}
	for i := len(path) - 1; i >= 0; i-- {
		take(path[i])
	}
	// Then breadth first, below the batch asked for and then from the top, as a finished
	// page opens its tree, until the limit.
	budget := limit
	for _, from := range []*Node{wk.tree.Target, wk.top} {
		queue := []*Node{from}
		for len(queue) > 0 && budget > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, ch := range n.Children {
				if copies[ch] == nil {
					if budget == 0 {
						break
					}
					take(ch)
					budget--
				}
				queue = append(queue, ch)
			}
		}
	}

	for _, n := range order {
		c := copies[n]
		for _, ch := range n.Children {
			if cc := copies[ch]; cc != nil {
				c.Children = append(c.Children, cc)
			} else {
				s.unshown[c]++
			}
		}
		switch {
		case n.Batch == nil && n.Missing == MissingNone:
			s.state[c] = WalkPending
		case wk.open[n] > 0:
			s.state[c] = WalkUnder
		}
		if wk.tree.Nodes[n.ID] == n {
			t.Nodes[n.ID] = c
			for _, pr := range wk.tree.ProblemsAt(n.ID) {
				t.AddProblem(pr)
			}
		}
	}
	t.Root, t.Target = copies[wk.top], copies[wk.tree.Target]
	t.Fetched = s.Fetched
	s.Shown = len(order)
	return s
}
