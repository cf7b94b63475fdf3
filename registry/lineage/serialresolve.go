package lineage

// Resolving a serial number with the index: the exact serial when it was seen, else the
// smallest batch whose range contains it, found by descending from the root the index names.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/lineage-explorer/explorer/registry"
)

// Resolve finds the credit batch of a serial number in any of the forms ParseSerial accepts:
// the batch whose serial_number it is, whatever its status, else the smallest batch whose unit
// range contains it. A serial seen before costs no upstream call; otherwise the root is chosen
// from the index of issuances (waiting for a pass, started if need be, only until that root is
// indexed) and the path down is fetched through the cache (GET /credit_batches/{id}).
//
// Errors: ErrInvalid for a malformed serial (nothing sent upstream); *SerialNotFoundError
// (ErrNotFound) when no batch has or contains it; registry.ErrIncomplete when none was found
// while the index is degraded (SerialIndexStatus.Degraded); when no pass has ever completed,
// the error that stopped the pass; otherwise the client's errors, or ctx's.
func (x *SerialIndex) Resolve(ctx context.Context, raw string) (Resolution, error) {
	s, err := registry.ParseSerial(raw)
	if err != nil {
		return Resolution{}, err
	}
	x.mu.Lock()
	id := ""
	if g, ok := x.lookupBlockLocked(s); ok {
		id = x.exact[exactKey{block: g, first: s.First, last: s.Last}]
	}
	asOf := x.asOf
	x.mu.Unlock()
	if id != "" {
		return Resolution{Serial: s, BatchID: id, BatchSerial: s, Exact: true, IndexedAsOf: asOf}, nil
	}

	// Wait for a root containing s, or for a complete index. A lookup that comes before the
	// first pass has completed starts (or joins) one and goes on as soon as the root it needs is
	// indexed, without waiting for the rest of the pass.
	var pass <-chan singleflight.Result
	var passErr error
	passEnded := false
	for {
		x.mu.Lock()
		containing, overlapping := x.rootsForLocked(s)
		complete := !x.asOf.IsZero()
		asOf = x.asOf
		degraded := x.degraded
		changed := x.changed
		x.mu.Unlock()
		if len(containing) > 0 {
			return x.resolveFromRoots(ctx, s, containing, asOf)
		}
		// A degraded index is listed again by the indexer's next pass, not by every lookup:
		// each would send the same pages again to be cut at the same place.
		if complete || passEnded || degraded != nil {
			// A range that only overlaps a root lies in no batch of its tree where ranges nest;
			// walking finds it where they do not. A range over more than two roots spans a
			// whole root, so no one batch can hold it: not worth walking every tree it touches.
			if len(overlapping) > 0 && len(overlapping) <= maxOverlapWalks {
				return x.resolveByWalking(ctx, s, overlapping, asOf)
			}
			if degraded != nil {
				// Not unknown: it may be in an issuance the listing never reached.
				return Resolution{}, fmt.Errorf("the index of issuances is incomplete, so %s may belong to an issuance it could not list: %w", s, degraded)
			}
			if !complete && passErr != nil {
				// The caller names the serial it asked about.
				return Resolution{}, fmt.Errorf("the index of issuances could not be built: %w", passErr)
			}
			return Resolution{}, &SerialNotFoundError{Serial: s, IndexedAsOf: asOf, Overlapping: overlapping}
		}
		if pass == nil {
			pass = x.startPass()
		}
		select {
		case <-ctx.Done():
			return Resolution{}, ctx.Err()
		case <-changed:
		case r := <-pass:
			passEnded, passErr = true, r.Err
		}
	}
}

// maxOverlapWalks is the most trees one lookup walks for a range that overlaps roots without
// lying inside any.
const maxOverlapWalks = 2

// errNotNested stops a descent where the children's ranges do not lie inside their parent's.
var errNotNested = errors.New("ranges do not nest")

// resolveFromRoots descends from the smallest root containing s; where ranges do not nest it
// walks that root's tree instead.
func (x *SerialIndex) resolveFromRoots(ctx context.Context, s registry.Serial, roots []string, asOf time.Time) (Resolution, error) {
	b, bs, err := x.descend(ctx, roots[0], s)
	if errors.Is(err, errNotNested) {
		return x.resolveByWalking(ctx, s, roots[:1], asOf)
	}
	if err != nil {
		return Resolution{}, err
	}
	return Resolution{Serial: s, BatchID: b.ID, BatchSerial: bs, Exact: bs == s, IndexedAsOf: asOf}, nil
}

// descend goes down from the root by range: at each batch it fetches the children (through the
// cache, both at once) and follows the one whose range contains s, until s is the batch's own
// serial or no child contains it. It returns errNotNested when a child's range is not inside
// its parent's, the children overlap, a serial does not parse or a link leads back up.
func (x *SerialIndex) descend(ctx context.Context, rootID string, s registry.Serial) (*registry.CreditBatch, registry.Serial, error) {
	b, err := x.cache.CreditBatch(ctx, rootID)
	if err != nil {
		return nil, registry.Serial{}, err
	}
	bs, err := registry.ParseSerial(b.SerialNumber)
	if err != nil || !bs.Contains(s) {
		return nil, registry.Serial{}, errNotNested
	}
	seen := map[string]bool{b.ID: true}
	for range x.walker.maxNodes {
		if bs == s {
			return b, bs, nil
		}
		ids := b.Children()
		kids := make([]*registry.CreditBatch, len(ids))
		var g errgroup.Group
		for i, id := range ids {
			g.Go(func() error {
				k, err := x.cache.CreditBatch(ctx, id)
				if errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrInvalid) {
					return nil // a dangling or malformed link holds no units
				}
				kids[i] = k
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, registry.Serial{}, err
		}
		var next *registry.CreditBatch
		var nextSerial registry.Serial
		var prev []registry.Serial
		for _, k := range kids {
			if k == nil {
				continue
			}
			ks, err := registry.ParseSerial(k.SerialNumber)
			if err != nil || !bs.Contains(ks) || seen[k.ID] {
				return nil, registry.Serial{}, errNotNested
			}
			for _, p := range prev {
				if p.Overlaps(ks) {
					return nil, registry.Serial{}, errNotNested
				}
			}
			prev = append(prev, ks)
			if ks.Contains(s) {
				next, nextSerial = k, ks
			}
		}
		if next == nil {
			return b, bs, nil // s spans the children's boundary, or lies in units no child took
		}
		seen[next.ID] = true
		b, bs = next, nextSerial
	}
	return nil, registry.Serial{}, errNotNested
}

// resolveByWalking walks the trees of the given roots (through the cache, so every batch they
// hold is indexed) and takes the smallest batch containing s; among equal ones, the highest.
func (x *SerialIndex) resolveByWalking(ctx context.Context, s registry.Serial, roots []string, asOf time.Time) (Resolution, error) {
	var best *Node
	var bestSerial registry.Serial
	for _, id := range roots {
		t, err := x.walker.Lineage(ctx, id, nil)
		if err != nil {
			return Resolution{}, err
		}
		t.Each(func(n *Node) bool {
			if n.Batch == nil {
				return true
			}
			ns, err := registry.ParseSerial(n.Batch.SerialNumber)
			if err != nil || !ns.Contains(s) {
				return true
			}
			if best == nil || cmp.Or(cmp.Compare(ns.Size(), bestSerial.Size()), cmp.Compare(n.Depth, best.Depth), cmp.Compare(n.ID, best.ID)) < 0 {
				best, bestSerial = n, ns
			}
			return true
		})
	}
	if best == nil {
		return Resolution{}, &SerialNotFoundError{Serial: s, IndexedAsOf: asOf, Overlapping: roots}
	}
	return Resolution{Serial: s, BatchID: best.ID, BatchSerial: bestSerial, Exact: bestSerial == s, Walked: true, IndexedAsOf: asOf}, nil
}
