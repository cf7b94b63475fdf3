package lineage

// What a walk does when the registry fails: a batch whose attempts ran out waits for a round
// after the rest of the tree, and an outage mid-walk holds the queue rather than spending every
// attempt on every batch.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// transient reports whether a failed fetch may succeed if asked again later: the registry
// throttled or failed to answer, as opposed to answering that the batch is not there.
func transient(err error) bool {
	return errors.Is(err, registry.ErrThrottled) || errors.Is(err, registry.ErrUnavailable)
}

// persist calls fetch, and while it fails transiently asks again after a wait that doubles
// each time (from retryWait), up to retryRounds more times and never past ctx's deadline. It
// is for the fetches the rest of a tree hangs from (each ancestor): the others are asked again
// in rounds once the rest of the tree is fetched (see retryDeferred).
func (w *Walker) persist(ctx context.Context, fetch func() (*registry.CreditBatch, error)) (*registry.CreditBatch, error) {
	b, err := fetch()
	for round := 1; err != nil && transient(err) && round <= w.retryRounds; round++ {
		if !w.pause(ctx, round) {
			break
		}
		b, err = fetch()
	}
	return b, err
}

// pause waits before retry round n and reports whether it did: not when the wait would end
// past ctx's deadline or ctx ended during it.
func (w *Walker) pause(ctx context.Context, n int) bool {
	wait := min(w.retryWait<<min(n-1, 20), maxRetryWait)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < 2*wait {
		return false // leave time to show what was fetched
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryDeferred asks again, in rounds, for the batches whose fetch failed transiently, once
// everything else is fetched: a fault storm then costs waits, not holes. Each round waits
// (see pause), queues them all and runs the workers until the queue is empty again (what they
// bring may link to more batches, fetched in the same round). After RetryRounds rounds in a
// row that bring nothing, or when the deadline is near, what is still missing is marked.
func (wk *walk) retryDeferred() {
	w := wk.w
	fruitless := 0
	for round := 1; len(wk.deferred) > 0 && fruitless < w.retryRounds && wk.ctx.Err() == nil; round++ {
		if !w.pause(wk.ctx, round) {
			break
		}
		before := wk.progress.Fetched()
		wk.mu.Lock()
		wk.failsInRow = 0 // each round asks again, however the last one ended
		for _, d := range wk.deferred {
			wk.queue = append(wk.queue, d.node)
		}
		wk.pending += len(wk.deferred)
		wk.deferred = nil
		wk.mu.Unlock()
		var wg sync.WaitGroup
		for range w.workers {
			wg.Go(wk.work)
		}
		wg.Wait()
		if wk.progress.Fetched() == before {
			fruitless++
		} else {
			fruitless = 0
		}
	}
	wk.mu.Lock()
	for _, d := range wk.deferred {
		wk.markFailedLocked(d.node, d.err, d.node.Parent)
		wk.settledLocked(d.node)
	}
	wk.deferred = nil
	wk.mu.Unlock()
}

// holdQueueLocked defers every queued fetch without asking: the last fetches all ran out of
// attempts, so the registry is not answering now, and spending every attempt on every batch
// would only delay the retry rounds (which ask again, a few first).
func (wk *walk) holdQueueLocked() {
	why := fmt.Errorf("not asked after %d batches in a row failed: %w", wk.failsInRow, wk.lastErr)
	for _, n := range wk.queue {
		wk.deferred = append(wk.deferred, deferredFetch{n, why})
	}
	wk.pending -= len(wk.queue)
	wk.queue = nil
	if wk.pending == 0 {
		wk.cond.Broadcast()
	}
}

// parkedNode is a node missing from the cache while listings that may bring it are under way.
type parkedNode struct {
	node  *Node
	under []mark
}

// release queues again the parked nodes that are now in the cache or whose listings have passed
// (see passed; those are then fetched by id). The plan calls it after every page and listing.
func (wk *walk) release() {
	wk.mu.Lock()
	defer wk.mu.Unlock()
	keep := wk.parked[:0]
	freed := false
	for _, p := range wk.parked {
		if wk.plan.has(p.node.ID) || passed(p.under) {
			wk.queue = append(wk.queue, p.node)
			freed = true
		} else {
			keep = append(keep, p)
		}
	}
	clear(wk.parked[len(keep):])
	wk.parked = keep
	if freed {
		wk.cond.Broadcast()
	}
}

// deferredFetch is a node whose fetch failed transiently, and the last error it got.
type deferredFetch struct {
	node *Node
	err  error
}
