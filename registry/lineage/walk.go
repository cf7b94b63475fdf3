package lineage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// DefaultMaxNodes is the node bound of a walk when WalkerConfig.MaxNodes is zero.
const DefaultMaxNodes = 20_000

// WalkerConfig configures a Walker. Zero values take the defaults given.
type WalkerConfig struct {
	// Workers is how many fetches one walk keeps under way at once. The client's own bound
	// (UPSTREAM_CONCURRENCY) still caps the process as a whole. Default 8.
	Workers int
	// MaxNodes bounds the nodes of one tree; past it, nodes are marked MissingTruncated and not
	// fetched. Default DefaultMaxNodes.
	MaxNodes int
	// RetryWait is how long a walk waits before it asks again for the batches the registry
	// failed to send (429, 5xx, timeouts) after the client's own attempts: once the rest of the
	// tree is fetched, in rounds, the wait doubling each round (at most 30 s) and never past
	// the walk's deadline. Default 1s.
	RetryWait time.Duration
	// RetryRounds is how many rounds in a row may bring nothing back before the registry is
	// taken to be unreachable: what is still missing is then marked MissingFetchFailed and the
	// tree is partial (Tree.Partial). Default 4.
	RetryRounds int
	// Planner, if set, learns batches from the registry's list routes ahead of the walk and
	// puts them in the cache the walk reads (see Planner); nil fetches every batch by id.
	Planner *Planner
}

// maxRetryWait caps one wait between a walk's retry rounds.
const maxRetryWait = 30 * time.Second

// Walker builds lineage trees from a BatchSource (normally a Cache in front of the Client).
type Walker struct {
	src         BatchSource
	workers     int
	maxNodes    int
	retryWait   time.Duration
	retryRounds int
	planner     *Planner
}

// NewWalker returns a Walker reading from src.
func NewWalker(src BatchSource, cfg WalkerConfig) *Walker {
	return &Walker{src: src, workers: cmp.Or(max(cfg.Workers, 0), 8), maxNodes: cmp.Or(max(cfg.MaxNodes, 0), DefaultMaxNodes),
		retryWait: cmp.Or(max(cfg.RetryWait, 0), time.Second), retryRounds: cmp.Or(max(cfg.RetryRounds, 0), 4), planner: cfg.Planner}
}

// Lineage walks the whole lineage tree of the batch with this id: up parent_id to the root,
// and down left_child_id/right_child_id from every batch reached. Independent branches are
// fetched concurrently: a node's children are asked for as soon as it arrives, an ancestor's
// other branch as soon as the climb reaches it. progress may be nil.
//
// It returns an error only when there is nothing to show: the id is malformed (ErrInvalid),
// the batch itself is unknown (ErrNotFound) or could not be fetched (the source's error), or
// ctx ended. Every other gap or inconsistency (a dangling or malformed link, a failed fetch of
// another batch, a cycle, a repeated id, the node bound) is recorded in the tree's Problems
// and marked at its node; the walk always ends.
func (w *Walker) Lineage(ctx context.Context, id string, progress *Progress) (*Tree, error) {
	if progress == nil {
		progress = &Progress{}
	}
	defer progress.done.Store(true)
	start := time.Now()
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return nil, err
	}
	progress.discovered.Add(1)
	// Not asked again in rounds: with nothing to show, the page says so at once, with a retry
	// link, and the next request walks again (see Explorer.StartLineage).
	b, err := w.src.CreditBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	progress.fetched.Add(1)
	progress.addLeaf(b)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wk := &walk{w: w, ctx: ctx, progress: progress, tree: &Tree{Nodes: map[string]*Node{}}, open: map[*Node]int{}}
	wk.cond = sync.NewCond(&wk.mu)
	if w.planner != nil {
		wk.plan = w.planner.begin(ctx, wk.release)
		defer wk.plan.end()
		wk.plan.learn(b)
	}
	target := &Node{ID: id, Batch: b}
	wk.tree.Target = target
	wk.top = target
	progress.walk.Store(wk)

	wk.mu.Lock()
	wk.tree.Nodes[id] = target
	wk.pending++ // held by the climb, so that the workers do not stop before it ends
	wk.expandLocked(target)
	wk.mu.Unlock()

	var wg sync.WaitGroup
	for range w.workers {
		wg.Go(wk.work)
	}
	root := wk.climb(target)
	top := root
	if top.Batch == nil && len(top.Children) > 0 {
		top = top.Children[0] // the parent could not be fetched: the highest batch known
	}
	if top.Batch != nil {
		progress.rootKg.Store(max(top.Batch.Size.CreditKgs, 0))
	}
	wk.mu.Lock()
	wk.pending--
	wk.climbed = true
	wk.cond.Broadcast()
	wk.mu.Unlock()
	wg.Wait()
	wk.retryDeferred()
	// From here on the tree is being made the finished one, without the lock: snapshots stop.
	wk.mu.Lock()
	wk.ended = true
	wk.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	t := wk.finish(root)
	t.Walked = time.Now()
	t.Duration = t.Walked.Sub(start)
	return t, nil
}

// finish makes the walked nodes a tree rooted at root: depths, the order problems are listed
// in, links that do not point back, the audit, the node bound, the count of failed fetches.
func (wk *walk) finish(root *Node) *Tree {
	t := wk.tree
	t.Root = root
	t.Fetched = int(wk.progress.Fetched())
	wk.settleRepeats()
	order := map[string]int{}
	t.Each(func(n *Node) bool {
		if n.Parent != nil {
			n.Depth = n.Parent.Depth + 1
		}
		if _, ok := order[n.ID]; !ok && n.Missing != MissingRepeated {
			order[n.ID] = len(order)
		}
		// A child must point back at the batch that lists it; a claimed child is the reverse
		// case, already reported by the climb.
		if n.Batch != nil && n.Parent != nil && n.Link != LinkClaimed && n.Batch.ParentID != n.Parent.ID {
			t.AddProblem(parentMismatch(n.Parent.ID, n.ID, n.Batch.ParentID))
		}
		return true
	})
	t.audit()
	if t.Truncated > 0 {
		t.AddProblem(Problem{Kind: ProblemTruncated, BatchID: root.ID,
			Detail: fmt.Sprintf("the tree has more than %d batches; %d linked batches were not fetched", wk.w.maxNodes, t.Truncated)})
	}
	t.sortProblems(order)
	for _, n := range t.Nodes {
		if n.Missing == MissingFetchFailed {
			t.FetchFailed++
		}
	}
	return t
}

func parentMismatch(parentID, childID, claimed string) Problem {
	if claimed == "" {
		claimed = "null"
	}
	return Problem{Kind: ProblemParentMismatch, BatchID: childID, Related: parentID,
		Detail: fmt.Sprintf("%s lists %s as a child, but its parent_id is %s", parentID, childID, claimed)}
}

// settleRepeats makes the tree the same whatever order the fetches finished in: a batch linked
// from two places is kept under the one its parent_id names (else the first in pre-order), a
// placeholder marks the other, and both links are reported.
func (wk *walk) settleRepeats() {
	t := wk.tree
	if len(wk.repeats) > 0 {
		pos := map[*Node]int{}
		t.Each(func(n *Node) bool { pos[n] = len(pos); return true })
		for _, m := range wk.repeats {
			real := t.Nodes[m.ID]
			if real == nil || real.Parent == nil || m.Parent == nil {
				continue
			}
			named := func(n *Node) bool { return real.Batch != nil && real.Batch.ParentID == n.Parent.ID }
			if named(m) && !named(real) || named(m) == named(real) && pos[m] < pos[real] {
				swapPlaces(real, m)
			}
		}
	}
	for _, m := range wk.repeats {
		t.AddProblem(Problem{Kind: ProblemRepeated, BatchID: m.Parent.ID, Related: m.ID,
			Detail: fmt.Sprintf("%s links to %s, which is also linked from elsewhere in the tree; shown once", m.Parent.ID, m.ID)})
		if real := t.Nodes[m.ID]; real != nil && real.Batch != nil && real.Batch.ParentID != m.Parent.ID {
			t.AddProblem(parentMismatch(m.Parent.ID, m.ID, real.Batch.ParentID))
		}
	}
}

// swapPlaces exchanges where two nodes hang in the tree (their parents and links).
func swapPlaces(a, b *Node) {
	ia, ib := slices.Index(a.Parent.Children, a), slices.Index(b.Parent.Children, b)
	a.Parent.Children[ia], b.Parent.Children[ib] = b, a
	a.Parent, b.Parent = b.Parent, a.Parent
	a.Link, b.Link = b.Link, a.Link
}

// walk is the state of one Lineage call. mu guards the tree, the queue and pending.
type walk struct {
	w        *Walker
	ctx      context.Context
	progress *Progress

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*Node // nodes whose batch is still to fetch
	pending int     // queued + being fetched (+1 while the climb runs)
	tree    *Tree
	repeats []*Node // placeholders for ids linked from a second place

	deferred []deferredFetch // transient failures, asked for again after the rest (retryDeferred)

	plan   *plan        // nil without a Planner
	parked []parkedNode // queued nodes waiting for listings that may bring them (see release)
	// failsInRow counts the fetches in a row that ran out of attempts (lastErr the last one's
	// error): as many as there are workers means the registry is not answering now.
	failsInRow int
	lastErr    error

	// open counts, for each node whose subtree is not yet complete, what it waits for: its
	// own fetch (1 until it settles) and each child whose subtree is not complete. A node
	// absent from it is complete. Each node completes once and tells its parent once, so
	// keeping it costs O(1) per fetch however deep the tree, and a snapshot can say which
	// branches are still being walked without visiting them (see snapshot.go).
	open    map[*Node]int
	top     *Node // the highest node the climb has reached so far
	rising  *Node // the parent the climb is fetching, in tree.Nodes but not yet linked to top
	climbed bool  // the climb has ended: top is as high as the walk goes
	ended   bool  // the walk is over and its tree is being finished: no more snapshots
}

// work fetches queued nodes until there is nothing left to do or the walk is cancelled.
func (wk *walk) work() {
	for {
		wk.mu.Lock()
		for len(wk.queue) == 0 && wk.pending > 0 && wk.ctx.Err() == nil {
			wk.cond.Wait()
		}
		if len(wk.queue) == 0 || wk.ctx.Err() != nil {
			wk.mu.Unlock()
			return
		}
		if wk.failsInRow >= wk.w.workers {
			wk.holdQueueLocked()
			wk.mu.Unlock()
			continue
		}
		n := wk.queue[0]
		wk.queue[0] = nil
		wk.queue = wk.queue[1:]
		if wk.plan != nil && !wk.plan.has(n.ID) {
			// Rather than fetch it by id now, wait for the listings that may bring it: the
			// worker moves on to the next node meanwhile (still pending, so the walk waits).
			var from *registry.CreditBatch
			if n.Parent != nil {
				from = n.Parent.Batch
			}
			if under := wk.plan.miss(from); len(under) > 0 {
				wk.parked = append(wk.parked, parkedNode{n, under})
				wk.mu.Unlock()
				continue
			}
		}
		wk.mu.Unlock()

		b, err := wk.w.src.CreditBatch(wk.ctx, n.ID)

		wk.mu.Lock()
		if wk.ctx.Err() == nil {
			wk.settleLocked(n, b, err)
		}
		wk.pending--
		if wk.pending == 0 || wk.ctx.Err() != nil {
			wk.cond.Broadcast()
		}
		wk.mu.Unlock()
	}
}

// settleLocked records a fetched child (or why it is missing), checks that it points back at
// the parent that listed it, and queues its own children.
func (wk *walk) settleLocked(n *Node, b *registry.CreditBatch, err error) {
	if err != nil && transient(err) {
		wk.deferred = append(wk.deferred, deferredFetch{n, err})
		wk.failsInRow++
		wk.lastErr = err
		return
	}
	wk.failsInRow = 0
	if err != nil {
		wk.markFailedLocked(n, err, n.Parent)
		wk.settledLocked(n)
		return
	}
	wk.progress.fetched.Add(1)
	wk.progress.addLeaf(b)
	n.Batch = b
	if wk.plan != nil {
		wk.plan.learn(b)
	}
	wk.expandLocked(n)
	wk.settledLocked(n)
}

// markFailedLocked records why a linked batch could not be shown. from is the batch whose
// link named it.
func (wk *walk) markFailedLocked(n *Node, err error, from *Node) {
	fromID := ""
	if from != nil {
		fromID = from.ID
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		n.Missing = MissingNotFound
		wk.tree.AddProblem(Problem{Kind: ProblemDangling, BatchID: n.ID, Related: fromID,
			Detail: fmt.Sprintf("%s links to %s, which the registry does not have", fromID, n.ID)})
	case errors.Is(err, registry.ErrInvalid):
		n.Missing = MissingInvalidID
		wk.tree.AddProblem(Problem{Kind: ProblemInvalidLink, BatchID: n.ID, Related: fromID,
			Detail: fmt.Sprintf("%s links to %q, which is not a valid credit batch id", fromID, n.ID)})
	default:
		n.Missing = MissingFetchFailed
		n.Err = err.Error()
		wk.tree.AddProblem(Problem{Kind: ProblemFetchFailed, BatchID: n.ID, Related: fromID,
			Detail: fmt.Sprintf("%s could not be fetched: %v", n.ID, err)})
	}
}

// expandLocked creates n's child nodes (left, right) and queues those not seen before.
func (wk *walk) expandLocked(n *Node) {
	if n.Batch == nil {
		return
	}
	for _, c := range []struct {
		id   string
		link Link
	}{{n.Batch.LeftChildID, LinkLeft}, {n.Batch.RightChildID, LinkRight}} {
		if c.id == "" {
			continue
		}
		child := &Node{ID: c.id, Link: c.link, Parent: n}
		n.Children = append(n.Children, child)
		wk.registerLocked(child, n)
	}
}

// registerLocked adds a newly linked node to the tree and queues its fetch, unless its id is
// already in the tree (a cycle or a repeated id: recorded, not followed) or the tree is full.
func (wk *walk) registerLocked(child, from *Node) {
	if _, seen := wk.tree.Nodes[child.ID]; seen {
		child.Missing = MissingRepeated
		for a := from; a != nil; a = a.Parent {
			if a.ID == child.ID {
				wk.tree.AddProblem(Problem{Kind: ProblemCycle, BatchID: from.ID, Related: child.ID,
					Detail: fmt.Sprintf("%s links to %s, which is its own ancestor: the links form a cycle; not followed", from.ID, child.ID)})
				return
			}
		}
		// Which of the two places keeps the batch depends on which fetch finished first; the
		// walk settles that, and reports both links, once it is over (see settleRepeats).
		wk.repeats = append(wk.repeats, child)
		return
	}
	if len(wk.tree.Nodes) >= wk.w.maxNodes {
		child.Missing = MissingTruncated
		wk.tree.Truncated++
		return
	}
	wk.tree.Nodes[child.ID] = child
	wk.progress.discovered.Add(1)
	if err := registry.ValidateID(registry.PrefixCreditBatch, child.ID); err != nil {
		wk.markFailedLocked(child, err, from)
		return
	}
	wk.queue = append(wk.queue, child)
	wk.pending++
	wk.open[child] = 1
	wk.open[from]++
	wk.cond.Signal()
}

// climb follows parent_id from the target to the root, one dependent fetch at a time, and
// hands each ancestor's other children to the workers as soon as the ancestor arrives. It
// returns the topmost node reached.
func (wk *walk) climb(n *Node) *Node {
	for n.Batch != nil && n.Batch.ParentID != "" {
		pid := n.Batch.ParentID
		wk.mu.Lock()
		if _, seen := wk.tree.Nodes[pid]; seen {
			wk.tree.AddProblem(Problem{Kind: ProblemCycle, BatchID: n.ID, Related: pid,
				Detail: fmt.Sprintf("%s has parent_id %s, which is already in the tree below it: the links form a cycle; not followed", n.ID, pid)})
			wk.mu.Unlock()
			return n
		}
		if len(wk.tree.Nodes) >= wk.w.maxNodes {
			wk.tree.Truncated++
			wk.mu.Unlock()
			return n
		}
		parent := &Node{ID: pid}
		wk.tree.Nodes[pid] = parent
		wk.rising = parent
		wk.progress.discovered.Add(1)
		wk.mu.Unlock()

		var b *registry.CreditBatch
		err := registry.ValidateID(registry.PrefixCreditBatch, pid)
		if err == nil && wk.plan != nil && !wk.plan.has(pid) {
			wk.mu.Lock()
			under := wk.plan.miss(nil)
			wk.mu.Unlock()
			wk.plan.await(pid, under)
		}
		if err == nil {
			// The rest of the tree hangs from the ancestors: ask again now rather than later.
			b, err = wk.w.persist(wk.ctx, func() (*registry.CreditBatch, error) { return wk.w.src.CreditBatch(wk.ctx, pid) })
		}
		if wk.ctx.Err() != nil {
			return n
		}

		wk.mu.Lock()
		n.Parent = parent
		wk.top, wk.rising = parent, nil
		if wk.open[n] > 0 {
			wk.open[parent]++ // its subtree is complete when n's is (see settledLocked)
		}
		if err != nil {
			parent.Children = []*Node{n}
			n.Link = LinkClaimed
			wk.markFailedLocked(parent, err, n)
			wk.mu.Unlock()
			return parent
		}
		wk.progress.fetched.Add(1)
		parent.Batch = b
		if wk.plan != nil {
			wk.plan.learn(b)
		}
		wk.attachLocked(parent, n)
		wk.mu.Unlock()
		n = parent
	}
	return n
}

// attachLocked gives a fetched ancestor its children: n (the node the climb came from) where
// the parent lists it, the other child queued for the workers, and n as a claimed child when
// the parent does not list it at all.
func (wk *walk) attachLocked(parent, n *Node) {
	listed := false
	for _, c := range []struct {
		id   string
		link Link
	}{{parent.Batch.LeftChildID, LinkLeft}, {parent.Batch.RightChildID, LinkRight}} {
		switch {
		case c.id == "":
		case c.id == n.ID && !listed:
			listed = true
			n.Link = c.link
			parent.Children = append(parent.Children, n)
		default:
			child := &Node{ID: c.id, Link: c.link, Parent: parent}
			parent.Children = append(parent.Children, child)
			wk.registerLocked(child, parent)
		}
	}
	if !listed {
		n.Link = LinkClaimed
		parent.Children = append(parent.Children, n)
		wk.tree.AddProblem(Problem{Kind: ProblemUnlisted, BatchID: n.ID, Related: parent.ID,
			Detail: fmt.Sprintf("%s has parent_id %s, which does not list it as a child", n.ID, parent.ID)})
	}
}

// settledLocked records that n's own fetch has settled (fetched, its children queued, or
// marked missing): when nothing below it is still being walked either, its subtree is
// complete, and so may be its parent's, and so on up.
func (wk *walk) settledLocked(n *Node) {
	for n != nil {
		c, ok := wk.open[n]
		if !ok {
			return // nothing was waiting on it
		}
		if c > 1 {
			wk.open[n] = c - 1
			return
		}
		delete(wk.open, n)
		n = n.Parent
	}
}
