package lineage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// memorySource is a registry in memory: the lineage logic is tested on it without HTTP, which
// is what its Source interface is for. It answers as the client does (errors wrapping
// registry.ErrNotFound) and counts what it was asked.
type memorySource struct {
	batches     map[string]registry.CreditBatch
	issuances   map[string]registry.IssuanceCreditBatches
	retirements map[string]registry.Retirement

	mu    sync.Mutex
	asked map[string]int // by id
}

func (m *memorySource) count(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked[id]++
}

func (m *memorySource) CreditBatch(_ context.Context, id string) (*registry.CreditBatch, error) {
	m.count(id)
	if b, ok := m.batches[id]; ok {
		return &b, nil
	}
	return nil, fmt.Errorf("credit batch %s: %w", id, registry.ErrNotFound)
}

func (m *memorySource) Issuances(context.Context, int, string) (*registry.Page[registry.Issuance], error) {
	p := &registry.Page[registry.Issuance]{}
	for id := range m.issuances {
		p.Nodes = append(p.Nodes, registry.Issuance{ID: id})
	}
	return p, nil
}

func (m *memorySource) Issuance(_ context.Context, id string) (*registry.Issuance, error) {
	m.count(id)
	icb, ok := m.issuances[id]
	if !ok {
		return nil, fmt.Errorf("issuance %s: %w", id, registry.ErrNotFound)
	}
	return &registry.Issuance{ID: id, CreditBatchSizeTotal: icb.CreditBatchSizeTotal,
		SupplierCreditBatchSizeTotal: icb.SupplierCreditBatchSizeTotal}, nil
}

func (m *memorySource) IssuanceCreditBatches(_ context.Context, id string) (*registry.IssuanceCreditBatches, error) {
	icb, ok := m.issuances[id]
	if !ok {
		return nil, fmt.Errorf("issuance %s: %w", id, registry.ErrNotFound)
	}
	return &icb, nil
}

func (m *memorySource) Retirement(_ context.Context, id string) (*registry.Retirement, error) {
	r, ok := m.retirements[id]
	if !ok {
		return nil, fmt.Errorf("retirement %s: %w", id, registry.ErrNotFound)
	}
	return &r, nil
}

func (m *memorySource) RetirementCreditBatches(_ context.Context, id string) (*registry.List[registry.CreditBatch], error) {
	l := &registry.List[registry.CreditBatch]{}
	for _, b := range m.batches {
		if b.RetirementID == id {
			l.Nodes = append(l.Nodes, b)
		}
	}
	l.TotalCount = int64(len(l.Nodes))
	return l, nil
}

func (m *memorySource) Ping(context.Context) error { return nil }

// smallRegistry is one issuance of one 1,000 kg tree: the root split into a 400 kg retirement
// and a 600 kg split whose halves hold only 300 + 200 kg (100 kg unaccounted for).
func smallRegistry() (*memorySource, map[string]string) {
	ids := map[string]string{"root": "ctb_MEMROOT00000000100", "retired": "ctb_MEMRETIRED00000100", "split": "ctb_MEMSPLIT0000001000",
		"left": "ctb_MEMLEFT00000001000", "right": "ctb_MEMRIGHT0000001000", "issuance": "iss_MEMISSUANCE0001000", "retirement": "ret_MEMRETIREMENT01000"}
	owner := registry.Organisation{ID: "org_MEMOWNER0000001000", Name: "Owner <b>Ltd</b>"}
	benef := &registry.Organisation{ID: "org_MEMBENEF0000001000", Name: "Beneficiary"}
	serial := func(first, last int64) string { return fmt.Sprintf("ISO-1-BSTORE-GBR-F5X7-2024-%d-%d", first, last) }
	b := func(key string, status registry.Status, kg, first int64, parent, left, right string) registry.CreditBatch {
		return registry.CreditBatch{ID: ids[key], Status: status, Size: registry.Quantity{CreditKgs: kg}, SerialNumber: serial(first, first+kg),
			IssuanceID: ids["issuance"], Owner: owner, ParentID: ids[parent], LeftChildID: ids[left], RightChildID: ids[right]}
	}
	retired := b("retired", registry.StatusRetired, 400, 0, "root", "", "")
	retired.RetirementID, retired.Beneficiary = ids["retirement"], benef
	src := &memorySource{asked: map[string]int{}, batches: map[string]registry.CreditBatch{}}
	for _, x := range []registry.CreditBatch{
		b("root", registry.StatusSplit, 1000, 0, "", "retired", "split"), retired,
		b("split", registry.StatusSplit, 600, 400, "root", "left", "right"),
		b("left", registry.StatusActive, 300, 400, "split", "", ""),
		b("right", registry.StatusActive, 200, 700, "split", "", ""),
	} {
		src.batches[x.ID] = x
	}
	root := src.batches[ids["root"]]
	src.issuances = map[string]registry.IssuanceCreditBatches{ids["issuance"]: {IssuanceID: ids["issuance"],
		SupplierCreditBatches: []registry.CreditBatch{root}, SupplierCreditBatchSizeTotal: root.Size, CreditBatchSizeTotal: root.Size}}
	src.retirements = map[string]registry.Retirement{ids["retirement"]: {ID: ids["retirement"], Beneficiary: *benef,
		Owner: owner, CreditBatchSizeTotal: registry.Quantity{CreditKgs: 400}}}
	return src, ids
}

func TestLineageOnARegistryInMemory(t *testing.T) {
	src, ids := smallRegistry()
	ex := lineage.NewExplorer(src, lineage.ExplorerConfig{})
	ctx := context.Background()

	tree, err := ex.Lineage(ctx, ids["left"])
	if err != nil {
		t.Fatal(err)
	}
	if tree.Len() != len(src.batches) || tree.Root.ID != ids["root"] || tree.Target.ID != ids["left"] {
		t.Fatalf("walked %d batches from root %s to %s, want all %d from %s", tree.Len(), tree.Root.ID, tree.Target.ID, len(src.batches), ids["root"])
	}
	var mismatch *lineage.Problem
	for i, p := range tree.Problems {
		if p.Kind == lineage.ProblemSizeMismatch {
			mismatch = &tree.Problems[i]
		}
	}
	if mismatch == nil || mismatch.BatchID != ids["split"] {
		t.Errorf("the 100 kg missing under %s is not a size mismatch there: %+v", ids["split"], tree.Problems)
	}
	if tot := tree.Totals(); tot.ActiveKg != 500 || tot.RetiredKg != 400 {
		t.Errorf("totals: active %d kg, retired %d kg; want 500 and 400", tot.ActiveKg, tot.RetiredKg)
	}
	for id, n := range src.asked {
		if n != 1 {
			t.Errorf("%s was asked %d times; the cache should ask once", id, n)
		}
	}

	rep, err := ex.IssuanceReport(ctx, ids["issuance"])
	if err != nil {
		t.Fatal(err)
	}
	if rep.RootsKg != 1000 || rep.UnbalancedTrees != 1 || rep.RetiredKg != 400 || rep.ActiveKg != 500 {
		t.Errorf("issuance report: roots %d kg, unbalanced %d, retired %d, active %d; want 1000, 1, 400, 500",
			rep.RootsKg, rep.UnbalancedTrees, rep.RetiredKg, rep.ActiveKg)
	}

	ret, err := ex.RetirementReport(ctx, ids["retirement"])
	if err != nil {
		t.Fatal(err)
	}
	if len(ret.Batches) != 1 || ret.BatchesKg != 400 {
		t.Fatalf("retirement report: %d batches, %d kg; want 1 of 400", len(ret.Batches), ret.BatchesKg)
	}
	if path := ret.Batches[0].Path; len(path) != 2 || path[0].ID != ids["root"] {
		t.Errorf("the retired batch's path is %+v, want root then the batch", path)
	}
}
