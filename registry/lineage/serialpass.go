package lineage

// The serial index's passes over the registry: GET /issuances page by page (stopping where the
// pagination never ends), each new issuance's root batches, on an interval and on demand.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/lineage-explorer/explorer/registry"
)

// Start runs the indexer in the background: a pass over the issuances now (GET /issuances,
// every page, and GET /issuances/{id}/credit_batches for each issuance not indexed yet), then
// one every Interval, until ctx ends or stop is called. Call it once. stop cancels the passes
// started under it and returns once the indexer has stopped; it may be called more than once.
// Lookups do not need Start: one that arrives before any pass has completed starts (or joins)
// a pass itself.
func (x *SerialIndex) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	x.mu.Lock()
	x.life = ctx
	x.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(x.cfg.Interval)
		defer t.Stop()
		for {
			_ = x.Refresh(ctx) // the outcome is in Status; the next tick tries again
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			x.mu.Lock()
			if x.life == ctx {
				x.life = context.Background() // lookups after stop may still start passes of their own
			}
			x.mu.Unlock()
		})
	}
}

// Refresh runs a pass over the issuances now (or joins the one under way) and waits for it or
// for ctx. It returns nil when the pass completed, else what stopped it (errors wrapping the
// client's sentinel errors). The pass itself goes on if ctx ends first.
func (x *SerialIndex) Refresh(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case r := <-x.startPass():
		return r.Err
	}
}

// startPass starts a pass, or joins the one under way. The pass runs under the indexer's
// lifetime, not the caller's request: a user leaving the page does not stop it.
func (x *SerialIndex) startPass() <-chan singleflight.Result {
	return x.sf.DoChan("pass", func() (any, error) {
		x.mu.Lock()
		life := x.life
		x.running = true
		x.mu.Unlock()
		ctx, cancel := context.WithTimeout(life, x.cfg.PassTimeout)
		defer cancel()
		start := time.Now()
		err := x.pass(ctx)
		x.mu.Lock()
		x.running, x.lastEnd, x.lastTook, x.lastErr = false, time.Now(), time.Since(start), err
		if err == nil {
			x.asOf = start
			x.passes++
		}
		was := x.degraded
		switch {
		case errors.Is(err, registry.ErrIncomplete):
			x.degraded = err
		case err == nil:
			x.degraded = nil
		}
		x.broadcastLocked()
		x.mu.Unlock()
		// Said once when it starts and once when it ends, not at every pass in between.
		switch {
		case was == nil && x.degraded != nil:
			x.cfg.Logger.Warn("the serial index is incomplete: the registry's listing of issuances never ends; serials of issuances past that point cannot be resolved until a pass lists every page",
				"endpoint", "/issuances", "err", err)
		case was != nil && x.degraded == nil:
			x.cfg.Logger.Info("the serial index is complete again: the registry's listing of issuances ends", "endpoint", "/issuances")
		}
		return nil, err
	})
}

// pass lists every page of GET /issuances and indexes the root batches of each issuance not yet
// indexed (GET /issuances/{id}/credit_batches), with at most Workers requests in flight. The
// roots are also stored in the Cache, so that a lookup's descent starts without a fetch. An
// issuance that fails is left for the next pass; the others go on.
func (x *SerialIndex) pass(ctx context.Context) error {
	sem := semaphore.NewWeighted(int64(x.cfg.Workers))
	var g errgroup.Group
	g.SetLimit(x.cfg.Workers)
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	after := ""
	queued := map[string]struct{}{}
	var loop registry.PageLoop
	for {
		if err := sem.Acquire(ctx, 1); err != nil {
			fail(err)
			break
		}
		p, err := x.client.Issuances(ctx, registry.MaxPageSize, after)
		sem.Release(1)
		if err != nil {
			fail(err)
			break
		}
		ids := make([]string, len(p.Nodes))
		for i, iss := range p.Nodes {
			ids[i] = iss.ID
			if registry.ValidateID(registry.PrefixIssuance, iss.ID) != nil {
				// A listed issuance whose id cannot be read cannot be asked for its roots; it
				// must not stop the others from being indexed.
				continue
			}
			x.mu.Lock()
			_, done := x.issuances[iss.ID]
			x.mu.Unlock()
			if _, dup := queued[iss.ID]; done || dup {
				continue // a new issuance listed first pushes older ones onto the next page: seen twice
			}
			queued[iss.ID] = struct{}{}
			id := iss.ID
			g.Go(func() error {
				if err := sem.Acquire(ctx, 1); err != nil {
					fail(err)
					return nil
				}
				roots, err := x.client.IssuanceCreditBatches(ctx, id)
				sem.Release(1)
				if err != nil {
					fail(fmt.Errorf("root batches of issuance %s: %w", id, err))
					return nil
				}
				x.addIssuance(id, roots)
				return nil
			})
		}
		// A listing that never ends is cut where it first repeats itself; what it listed until
		// then is indexed, and the index says it is degraded (see startPass).
		next, done, err := loop.Next("/issuances", ids, p.PageInfo)
		if err != nil {
			fail(err)
		}
		if done {
			break
		}
		after = next
	}
	_ = g.Wait()
	return firstErr
}

// addIssuance indexes an issuance's roots and seeds the cache with them.
func (x *SerialIndex) addIssuance(id string, icb *registry.IssuanceCreditBatches) {
	all := make([]*registry.CreditBatch, 0, len(icb.SupplierCreditBatches)+len(icb.BufferPoolCreditBatches))
	for i := range icb.SupplierCreditBatches {
		all = append(all, &icb.SupplierCreditBatches[i])
	}
	for i := range icb.BufferPoolCreditBatches {
		all = append(all, &icb.BufferPoolCreditBatches[i])
	}
	type parsed struct {
		id string
		s  registry.Serial
	}
	ok := make([]parsed, 0, len(all))
	for _, b := range all {
		if registry.ValidateID(registry.PrefixCreditBatch, b.ID) != nil {
			continue
		}
		s, err := registry.ParseSerial(b.SerialNumber)
		if err != nil {
			x.unparsable.Add(1)
			continue
		}
		ok = append(ok, parsed{b.ID, s})
		x.cache.Put(b) // indexes the exact serial through OnStore
	}
	x.mu.Lock()
	for _, p := range ok {
		x.addRootLocked(p.id, p.s)
	}
	x.issuances[id] = struct{}{}
	x.broadcastLocked()
	x.mu.Unlock()
}
