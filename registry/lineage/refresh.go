package lineage

import (
	"context"

	"github.com/lineage-explorer/explorer/registry"
)

// Refresh fetches batch id from the registry (GET /credit_batches/{id}) whatever the cache
// holds, and stores the answer in the cache as a fetch would (so the history journal compares
// it). It is for the watch poller: an active batch must be seen as it is now, not as it was up
// to CACHE_TTL ago; a split or retired one never needs it. Errors are the Source's.
func (e *Explorer) Refresh(ctx context.Context, id string) (*registry.CreditBatch, error) {
	if err := registry.ValidateID(registry.PrefixCreditBatch, id); err != nil {
		return nil, err
	}
	b, err := e.byID.CreditBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	e.cache.Put(b)
	return b, nil
}
