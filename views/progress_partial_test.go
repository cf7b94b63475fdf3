package views

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// heldDataset serves the demo dataset's batches from memory (30,000 fetches over HTTP would
// make the set-up, not the measure, the cost), holding one id until release is closed.
type heldDataset struct {
	reg     *demo.Registry
	held    string
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *heldDataset) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	if id == h.held {
		h.once.Do(func() { close(h.arrived) })
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b, ok := h.reg.Batch(id)
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, registry.ErrNotFound)
	}
	return &b, nil
}

// BenchmarkPartialPageOfAHugeWalk measures what one reload of the progress page costs on the
// 30,001-batch tree walked from its root and held on its last leaf: the snapshot the page takes
// (bounded: DefaultPartialRows and the path) against a copy of the whole tree, and the
// partial section built and rendered from the bounded one, with its size in bytes.
func BenchmarkPartialPageOfAHugeWalk(b *testing.B) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	leaf := f.HugeRoot
	for {
		bt, _ := reg.Batch(leaf)
		if bt.RightChildID == "" {
			break
		}
		leaf = bt.RightChildID
	}
	src := &heldDataset{reg: reg, held: leaf, arrived: make(chan struct{}), release: make(chan struct{})}
	p := &lineage.Progress{}
	done := make(chan error, 1)
	go func() {
		_, err := lineage.NewWalker(src, lineage.WalkerConfig{MaxNodes: 60_000}).Lineage(context.Background(), f.HugeRoot, p)
		done <- err
	}()
	defer func() {
		close(src.release)
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	<-src.arrived
	for p.Fetched() < int64(f.HugeNodeCount-1) {
		time.Sleep(time.Millisecond) // the pace of a poll while the rest of the tree is fetched
	}
	b.Run("snapshot-bounded", func(b *testing.B) {
		for b.Loop() {
			p.Snapshot(DefaultPartialRows)
		}
		b.ReportMetric(float64(p.Snapshot(DefaultPartialRows).Known), "known")
	})
	b.Run("snapshot-whole", func(b *testing.B) {
		for b.Loop() {
			p.Snapshot(1 << 20)
		}
	})
	b.Run("render-bounded", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			s := p.Snapshot(DefaultPartialRows)
			a, r, o, root := p.SoFar()
			page := ProgressPage{ID: f.HugeRoot, ByKg: true, Partial: NewPartialLineage(s, a, r, o, root, DefaultPartialRows, LineageOptions{})}
			if err := Progress(page).Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
}
