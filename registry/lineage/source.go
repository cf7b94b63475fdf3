package lineage

import (
	"context"

	"github.com/lineage-explorer/explorer/registry"
)

// BatchSource returns one credit batch by id: the registry (GET /credit_batches/{id}), the
// cache in front of it, or a test double. Errors wrap registry's sentinel errors
// (registry.ErrNotFound, registry.ErrUnavailable, ...). Implementations must be safe for
// concurrent use; the batch returned is shared, so callers never modify it.
type BatchSource interface {
	CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error)
}

// Source is the registry as the explorer reads it: the few Isometric Registry API routes the
// lineage logic needs. *isometric.Client implements it over HTTP; tests use a fake in memory.
// Every method returns errors wrapping registry's sentinel errors, and must be safe for
// concurrent use.
type Source interface {
	BatchSource
	// Issuances is one page of GET /issuances (at most registry.MaxPageSize a page).
	Issuances(ctx context.Context, first int, after string) (*registry.Page[registry.Issuance], error)
	// Issuance is GET /issuances/{id}.
	Issuance(ctx context.Context, id string) (*registry.Issuance, error)
	// IssuanceCreditBatches is GET /issuances/{id}/credit_batches: the issuance's root batches.
	IssuanceCreditBatches(ctx context.Context, id string) (*registry.IssuanceCreditBatches, error)
	// Retirement is GET /retirements/{id}.
	Retirement(ctx context.Context, id string) (*registry.Retirement, error)
	// RetirementCreditBatches is GET /retirements/{id}/credit_batches.
	RetirementCreditBatches(ctx context.Context, id string) (*registry.List[registry.CreditBatch], error)
	// Ping asks the registry a cheap question with the configured credentials; nil means it
	// answers and accepts them.
	Ping(ctx context.Context) error
}

// Observable is what a Source may also offer for monitoring; *isometric.Client does. Explorer's
// Observe and Stats read it when it is there and report nothing upstream when it is not.
type Observable interface {
	// SetObserver installs fn to be called after every upstream attempt.
	SetObserver(fn func(registry.RequestEvent))
	// Stats are the source's counters since start.
	Stats() registry.ClientStats
}
