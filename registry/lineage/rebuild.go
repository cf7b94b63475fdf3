package lineage

import (
	"context"
	"fmt"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// recordedSource serves batches already known (a reconstruction's, say) to a walker, so that
// a tree of them is built, checked and audited by the same code as a live one. A batch it
// lacks is answered not found.
type recordedSource map[string]*registry.CreditBatch

func (m recordedSource) CreditBatch(_ context.Context, id string) (*registry.CreditBatch, error) {
	if b, ok := m[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s was not observed on or before the day asked: %w", id, registry.ErrNotFound)
}

// Rebuild walks the tree of root from batches alone (no registry), such as the batches of a
// tree as the history journal last observed them on a day, with target as its target when
// it is among them. found reports whether it was; when not, the tree's target is root. A
// batch a link names but batches lacks is a problem of the rebuilt tree, as a 404 would be.
// Its errors are the walker's (none from the source).
func Rebuild(ctx context.Context, root, target string, batches map[string]*registry.CreditBatch) (tree *Tree, found bool, err error) {
	w := NewWalker(recordedSource(batches), WalkerConfig{MaxNodes: len(batches) + 1, RetryWait: time.Millisecond})
	if tree, err = w.Lineage(ctx, root, nil); err != nil {
		return nil, false, err
	}
	if n := tree.Nodes[target]; n != nil && n.Batch != nil {
		return tree.WithTarget(n), true, nil
	}
	return tree, false, nil
}
