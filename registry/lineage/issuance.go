package lineage

import (
	"cmp"
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lineage-explorer/explorer/registry"
)

// Pool says which part of an issuance a root batch belongs to.
type Pool string

// The two parts of an issuance (GET /issuances/{id}/credit_batches).
const (
	PoolSupplier   Pool = "supplier"
	PoolBufferPool Pool = "buffer_pool"
)

// IssuanceReport is where an issuance's credits are now: its record, its root batches (one
// tree each) and, summed over the unsplit batches of every tree, the kg still active and the kg
// retired, by current holder and by beneficiary. Every size is in kg (int64, exact: JSON
// integers). Split batches are not counted: their kg are in their halves.
type IssuanceReport struct {
	// Issuance is the record (GET /issuances/{id}): project, supplier, reporting period and
	// the totals it issued.
	Issuance registry.Issuance `json:"issuance"`
	// Roots are the root batches it created, supplier ones first then the buffer pool's, each
	// in the registry's order, with the figures of its tree.
	Roots []IssuanceRoot `json:"roots"`
	// RootsKg is the sum of the roots' sizes (what the trees must account for).
	RootsKg int64 `json:"roots_kg"`
	// ActiveKg and RetiredKg sum the unsplit batches of every tree; OtherKg those in a status
	// the explorer does not know (never counted as active), whose statuses OtherStatuses
	// lists as sent.
	ActiveKg      int64             `json:"active_kg"`
	RetiredKg     int64             `json:"retired_kg"`
	OtherKg       int64             `json:"other_status_kg"`
	OtherStatuses []registry.Status `json:"other_statuses"`
	// Batches counts the batches present in the trees; Missing the linked ones that could not
	// be shown (unknown, malformed, not fetched, past the node bound), FetchFailed those of
	// them that the registry failed to send (retrying may help).
	Batches     int `json:"batches"`
	Missing     int `json:"missing"`
	FetchFailed int `json:"fetch_failed"`
	// Problems counts the problems the walks and audits found in the trees (each listed on
	// its tree's lineage page).
	Problems int `json:"problems"`
	// RecordProblems are what is wrong with the issuance's record itself: a total whose
	// credits disagree with its credit_kgs (ProblemCredits, marked at the issuance's id).
	RecordProblems []Problem `json:"record_problems"`
	// UnbalancedTrees counts the roots whose tree is complete yet does not hold the root's kg,
	// or whose splits hold units twice, not at all or outside the parent
	// (IssuanceRoot.Conserved). The totals alone cannot tell: two trees' differences may
	// cancel out.
	UnbalancedTrees int `json:"unbalanced_trees"`
	// ByHolder is, per current owner, the kg it holds (active) and the kg it retired, largest
	// first.
	ByHolder []HolderKg `json:"by_holder"`
	// ByBeneficiary is, per beneficiary, the kg retired for it, largest first.
	ByBeneficiary []BeneficiaryKg `json:"by_beneficiary"`
	// WalkedAt is when the report started; Took how long it took.
	WalkedAt time.Time     `json:"walked_at"`
	Took     time.Duration `json:"-"`
	// Trees are the roots' lineage trees that could be walked, in Roots' order, for the
	// page's chart (not in the JSON: the lineage export has each tree). Shared: do not modify.
	Trees []*Tree `json:"-"`
}

// IssuanceRoot is one root batch of an issuance and the figures of the tree below it.
type IssuanceRoot struct {
	ID   string `json:"id"`
	Pool Pool   `json:"pool"`
	// Batch is the root as it is now (it may have been split since); nil when it could not be
	// fetched, and then Error says why.
	Batch *registry.CreditBatch `json:"batch"`
	Error string                `json:"error,omitempty"`
	// Batches counts the batches of its tree; Depth is its deepest split below the root.
	Batches int `json:"batches"`
	Depth   int `json:"depth"`
	// ActiveKg, RetiredKg and OtherKg sum its tree's unsplit batches by status, as in
	// IssuanceReport.
	ActiveKg  int64 `json:"active_kg"`
	RetiredKg int64 `json:"retired_kg"`
	OtherKg   int64 `json:"other_status_kg"`
	// Missing, FetchFailed and Problems are as in IssuanceReport, for this tree.
	Missing     int `json:"missing"`
	FetchFailed int `json:"fetch_failed"`
	Problems    int `json:"problems"`
	// RangeProblems counts the findings of units held twice, by no child or outside the
	// parent in its tree's splits (ProblemRangePartition): the tree is then not conserved,
	// whatever its kg say.
	RangeProblems int `json:"range_problems"`
}

// SumKg is the kg of the tree's unsplit batches, every status.
func (r IssuanceRoot) SumKg() int64 { return r.ActiveKg + r.RetiredKg + r.OtherKg }

// Conserved reports whether the tree is complete, its unsplit batches (every status) hold
// the root's kg exactly and its splits' serial ranges partition their parents'; known is
// false when the tree is not complete (or the root is missing), so that nothing can be said.
func (r IssuanceRoot) Conserved() (ok, known bool) {
	if r.Batch == nil || r.Missing > 0 {
		return false, false
	}
	return r.SumKg() == r.Batch.Size.CreditKgs && r.RangeProblems == 0, true
}

// HolderKg is one current owner's share of an issuance.
type HolderKg struct {
	Holder registry.Organisation `json:"holder"`
	// ActiveKg is what it holds now; RetiredKg what it retired (for whichever beneficiary);
	// OtherKg what it owns in a status the explorer does not know.
	ActiveKg  int64 `json:"active_kg"`
	RetiredKg int64 `json:"retired_kg"`
	OtherKg   int64 `json:"other_status_kg"`
	// Batches counts its unsplit batches.
	Batches int `json:"batches"`
	// Trees are the ids of the root batches whose trees hold them, in the issuance's order.
	Trees []string `json:"trees"`
}

// BeneficiaryKg is what was retired for one beneficiary out of an issuance.
type BeneficiaryKg struct {
	// Beneficiary is nil for batches retired without one named (an inconsistency the lineage
	// page's audit reports).
	Beneficiary *registry.Organisation `json:"beneficiary"`
	RetiredKg   int64                  `json:"retired_kg"`
	Batches     int                    `json:"batches"`
	// Retirements are the retirement ids ("ret_…") of those batches, in first-seen order.
	Retirements []string `json:"retirements"`
	// Trees are the ids of the root batches whose trees hold them, in the issuance's order.
	Trees []string `json:"trees"`
}

// issuanceRecord is what GET /issuances/{id} and GET /issuances/{id}/credit_batches give a
// report: the record and its roots' ids (the batches themselves go to the Cache).
type issuanceRecord struct {
	issuance registry.Issuance
	roots    []IssuanceRoot // ID and Pool only
}

// maxConcurrentTrees is the most trees of one report walked at once. Each walk keeps
// WalkerConfig.Workers fetches under way, and the client's bound (UPSTREAM_CONCURRENCY) caps
// the process: a few trees at once keep it busy without making other pages wait behind one
// issuance's hundreds of trees.
const maxConcurrentTrees = 4

// StartIssuanceReport starts building the report of issuance id in the background (see
// IssuanceReport), or joins the one under way or finished within KeepFinished; fresh drops a
// finished one and walks its failed trees again. Its data comes from GET /issuances/{id},
// GET /issuances/{id}/credit_batches (both kept for CACHE_TTL) and GET /credit_batches/{id}
// through the cache, by lineage walks shared with the lineage pages (StartLineage), at most
// a few trees at once.
//
// The job's error wraps ErrInvalid for a malformed id (nothing sent upstream), ErrNotFound for
// an unknown issuance, or the client's errors when the record could not be fetched. A tree
// that cannot be walked does not fail the report: its root carries the error.
func (e *Explorer) StartIssuanceReport(id string, fresh bool) *ReportJob[*IssuanceReport] {
	return e.reports.issuances.start(id, fresh)
}

// FollowIssuanceReport returns the job numbered walk (ReportJob.Walk) of issuance id while it is
// known, whatever its outcome, for the progress page that showed it; otherwise it is
// StartIssuanceReport(id, false).
func (e *Explorer) FollowIssuanceReport(id string, walk uint64) *ReportJob[*IssuanceReport] {
	return e.reports.issuances.follow(id, walk)
}

// IssuanceReport builds the report of issuance id (sharing a job under way) and waits for it,
// or for ctx. See StartIssuanceReport.
func (e *Explorer) IssuanceReport(ctx context.Context, id string) (*IssuanceReport, error) {
	return waitReport(ctx, e.StartIssuanceReport(id, false))
}

func waitReport[T any](ctx context.Context, j *ReportJob[T]) (T, error) {
	select {
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	case <-j.Done():
		return j.Result()
	}
}

// issuanceRecord fetches the issuance and its roots (both at once), or takes them from the
// records kept. The roots are stored in the Cache, so that their walks start without a fetch.
func (e *Explorer) issuanceRecord(ctx context.Context, j *ReportJob[*IssuanceReport]) (*issuanceRecord, error) {
	return recordOrFetch(ctx, e.reports.records, "iss:"+j.ID, e.reports.issuanceTTL, func(ctx context.Context) (*issuanceRecord, error) {
		var iss *registry.Issuance
		var icb *registry.IssuanceCreditBatches
		j.own.discovered.Add(2)
		var g errgroup.Group
		g.Go(func() (err error) {
			iss, err = e.client.Issuance(ctx, j.ID)
			return err
		})
		g.Go(func() (err error) {
			icb, err = e.client.IssuanceCreditBatches(ctx, j.ID)
			return err
		})
		if err := g.Wait(); err != nil {
			return nil, err
		}
		j.own.fetched.Add(2)
		rec := &issuanceRecord{issuance: *iss}
		for _, part := range []struct {
			pool    Pool
			batches []registry.CreditBatch
		}{{PoolSupplier, icb.SupplierCreditBatches}, {PoolBufferPool, icb.BufferPoolCreditBatches}} {
			for _, b := range part.batches {
				rec.roots = append(rec.roots, IssuanceRoot{ID: b.ID, Pool: part.pool})
			}
			e.remember(part.batches)
		}
		return rec, nil
	})
}

// buildIssuanceReport is the job: the record, then every root's tree (at most
// maxConcurrentTrees at once), then the sums.
func (e *Explorer) buildIssuanceReport(ctx context.Context, j *ReportJob[*IssuanceReport], fresh bool) (*IssuanceReport, error) {
	if err := registry.ValidateID(registry.PrefixIssuance, j.ID); err != nil {
		return nil, err
	}
	start := time.Now()
	rec, err := e.issuanceRecord(ctx, j)
	if err != nil {
		return nil, err
	}
	roots := slices.Clone(rec.roots)
	trees, errs, err := e.walkRoots(ctx, j, roots, fresh)
	if err != nil {
		return nil, err
	}
	rep := &IssuanceReport{Issuance: rec.issuance, WalkedAt: j.Started, OtherStatuses: []registry.Status{}, RecordProblems: []Problem{}}
	iss := &rec.issuance
	for _, q := range []struct {
		field string
		q     registry.Quantity
	}{{"credit_batch_size_total", iss.CreditBatchSizeTotal}, {"supplier_credit_batch_size_total", iss.SupplierCreditBatchSizeTotal},
		{"buffer_pool_credit_batch_size_total", iss.BufferPoolCreditBatchSizeTotal}} {
		if p, ok := recordCreditsProblem(iss.ID, q.field, q.q); ok {
			rep.RecordProblems = append(rep.RecordProblems, p)
		}
	}
	holders := newTally[HolderKg]()
	benefs := newTally[BeneficiaryKg]()
	for i := range roots {
		rep.addRoot(&roots[i], trees[i], errs[i], holders, benefs)
	}
	rep.Roots = roots
	slices.Sort(rep.OtherStatuses)
	rep.ByHolder = holders.sorted(func(h *HolderKg) int64 { return h.ActiveKg + h.RetiredKg + h.OtherKg })
	rep.ByBeneficiary = benefs.sorted(func(b *BeneficiaryKg) int64 { return b.RetiredKg })
	rep.Took = time.Since(start)
	return rep, nil
}

// walkRoots walks the trees of an issuance's roots, at most maxConcurrentTrees at a time,
// sharing walks under way. A root that could not be walked has a nil tree and its error; the
// error returned is ctx's alone.
func (e *Explorer) walkRoots(ctx context.Context, j *ReportJob[*IssuanceReport], roots []IssuanceRoot, fresh bool) ([]*Tree, []error, error) {
	trees := make([]*Tree, len(roots))
	errs := make([]error, len(roots))
	j.expect(len(roots))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentTrees)
	for i := range roots {
		g.Go(func() error {
			r := &roots[i]
			if err := registry.ValidateID(registry.PrefixCreditBatch, r.ID); err != nil {
				j.expect(-1)
				errs[i] = err
				return nil
			}
			w := e.StartLineage(r.ID, fresh)
			j.follow(w)
			select {
			case <-gctx.Done():
				return gctx.Err()
			case <-w.Done():
			}
			t, err := w.Result()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs[i] = err
				return nil
			}
			trees[i] = t
			return nil
		})
	}
	return trees, errs, g.Wait()
}

// addRoot counts one root's tree (t, or err when it could not be walked) into the report's
// totals and the holder and beneficiary tallies.
func (rep *IssuanceReport) addRoot(r *IssuanceRoot, t *Tree, err error, holders *tally[HolderKg], benefs *tally[BeneficiaryKg]) {
	if t == nil {
		// The root itself could not be walked: unknown (404), malformed, or not fetched
		// (then retrying may help).
		r.Error, r.Missing = err.Error(), 1
		if !definitive(err) {
			r.FetchFailed = 1
		}
		rep.Missing++
		rep.FetchFailed += r.FetchFailed
		return
	}
	rep.Trees = append(rep.Trees, t)
	for _, st := range sumTree(t, r, holders, benefs) {
		if !slices.Contains(rep.OtherStatuses, st) {
			rep.OtherStatuses = append(rep.OtherStatuses, st)
		}
	}
	if r.Batch != nil {
		rep.RootsKg += r.Batch.Size.CreditKgs
	}
	rep.ActiveKg += r.ActiveKg
	rep.RetiredKg += r.RetiredKg
	rep.OtherKg += r.OtherKg
	rep.Batches += r.Batches
	rep.Missing += r.Missing
	rep.FetchFailed += r.FetchFailed
	rep.Problems += r.Problems
	if ok, known := r.Conserved(); known && !ok {
		rep.UnbalancedTrees++
	}
}

// sumTree fills r's figures from the subtree of its listed root (t.Target: in bad data the
// walk may climb above it, and the trees of two listed roots must not be counted twice), and
// adds its unsplit batches to the holder and beneficiary tallies. It returns the statuses it
// did not know, as sent.
func sumTree(t *Tree, r *IssuanceRoot, holders *tally[HolderKg], benefs *tally[BeneficiaryKg]) (others []registry.Status) {
	top := t.Target
	r.Batch = top.Batch
	inside := map[string]bool{}
	stack := []*Node{top}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack = append(stack, n.Children...)
		switch n.Missing {
		case MissingNone:
		case MissingRepeated:
			continue // shown where it is first linked
		case MissingFetchFailed:
			r.Missing++
			r.FetchFailed++
			continue
		default:
			r.Missing++
			continue
		}
		inside[n.ID] = true
		r.Batches++
		r.Depth = max(r.Depth, n.Depth-top.Depth)
		b := n.Batch
		switch b.Status {
		case registry.StatusSplit:
			continue
		case registry.StatusRetired:
			r.RetiredKg += b.Size.CreditKgs
			h := holders.at(b.Owner.ID, func() HolderKg { return HolderKg{Holder: b.Owner} })
			h.RetiredKg += b.Size.CreditKgs
			h.Batches++
			h.Trees = appendOnce(h.Trees, r.ID)
			key := ""
			if b.Beneficiary != nil {
				key = "org:" + b.Beneficiary.ID
			}
			bf := benefs.at(key, func() BeneficiaryKg {
				if b.Beneficiary == nil {
					return BeneficiaryKg{}
				}
				o := *b.Beneficiary
				return BeneficiaryKg{Beneficiary: &o}
			})
			bf.RetiredKg += b.Size.CreditKgs
			bf.Batches++
			if b.RetirementID != "" {
				bf.Retirements = appendOnce(bf.Retirements, b.RetirementID)
			}
			bf.Trees = appendOnce(bf.Trees, r.ID)
		case registry.StatusActive:
			r.ActiveKg += b.Size.CreditKgs
			h := holders.at(b.Owner.ID, func() HolderKg { return HolderKg{Holder: b.Owner} })
			h.ActiveKg += b.Size.CreditKgs
			h.Batches++
			h.Trees = appendOnce(h.Trees, r.ID)
		default:
			// A status the registry added since, or a mistake: what it means for the credits
			// is unknown, so it is counted on its own, never as active.
			r.OtherKg += b.Size.CreditKgs
			h := holders.at(b.Owner.ID, func() HolderKg { return HolderKg{Holder: b.Owner} })
			h.OtherKg += b.Size.CreditKgs
			h.Batches++
			h.Trees = appendOnce(h.Trees, r.ID)
			if !slices.Contains(others, b.Status) {
				others = append(others, b.Status)
			}
		}
	}
	for _, p := range t.Problems {
		if top == t.Root || inside[p.BatchID] {
			r.Problems++
			if p.Kind == ProblemRangePartition {
				r.RangeProblems++
			}
		}
	}
	return others
}

// appendOnce appends v unless it is already the last element (rows are tallied tree by tree,
// so a repeat is always the last one).
func appendOnce(list []string, v string) []string {
	if len(list) > 0 && list[len(list)-1] == v {
		return list
	}
	return append(list, v)
}

// tally keeps rows by key in first-seen order.
type tally[T any] struct {
	index map[string]int
	rows  []*T
}

func newTally[T any]() *tally[T] { return &tally[T]{index: map[string]int{}} }

func (t *tally[T]) at(key string, newRow func() T) *T {
	if i, ok := t.index[key]; ok {
		return t.rows[i]
	}
	v := newRow()
	t.index[key] = len(t.rows)
	t.rows = append(t.rows, &v)
	return &v
}

// sorted returns the rows largest first by size, ties in first-seen order.
func (t *tally[T]) sorted(size func(*T) int64) []T {
	rows := slices.Clone(t.rows)
	slices.SortStableFunc(rows, func(a, b *T) int { return cmp.Compare(size(b), size(a)) })
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out
}
