package lineage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	gocache "github.com/patrickmn/go-cache"
	"golang.org/x/sync/errgroup"

	"github.com/lineage-explorer/explorer/registry"
)

// RetirementReport is what a retirement retired: its record, its batches, and for each batch
// the path back to the root batch its issuance created. Every size is in kg (int64, exact:
// JSON integers).
type RetirementReport struct {
	// Retirement is the record (GET /retirements/{id}): beneficiary, purposes, date, notes,
	// total.
	Retirement registry.Retirement `json:"retirement"`
	// Batches are the batches it retired (GET /retirements/{id}/credit_batches), in the
	// registry's order, each with its path.
	Batches []RetiredBatch `json:"batches"`
	// BatchesKg sums the batches' sizes, to check against the record's total.
	BatchesKg int64 `json:"batches_kg"`
	// Issuances are the issuance ids of the batches, in first-seen order.
	Issuances []string `json:"issuances"`
	// ByHolder is the batches' kg by owner (the holder is the owner: for a retired batch, who
	// retired it), largest first, by status as in IssuanceReport (a listed batch that is not
	// retired is counted as what it is, and its problem says so).
	ByHolder []HolderKg `json:"by_holder"`
	// ByBeneficiary is the retired batches' kg by the beneficiary each batch names (which
	// should be the retirement's), largest first.
	ByBeneficiary []BeneficiaryKg `json:"by_beneficiary"`
	// RecordProblems are what is wrong with the retirement's record itself: a total whose
	// credits disagree with its credit_kgs (ProblemCredits, marked at the retirement's id).
	RecordProblems []Problem `json:"record_problems"`
	// Problems counts the problems of every batch; FetchFailed the batches whose path stops at
	// a batch the registry failed to send (retrying may help).
	Problems    int `json:"problems"`
	FetchFailed int `json:"fetch_failed"`
	// WalkedAt is when the report started; Took how long it took.
	WalkedAt time.Time     `json:"walked_at"`
	Took     time.Duration `json:"-"`
}

// RetiredBatch is one batch of a retirement and how it came from its issuance.
type RetiredBatch struct {
	Batch registry.CreditBatch `json:"batch"`
	// Path runs from the root batch (the one its issuance created) down to this batch, both
	// included: Path[0] is the root when Complete, and the last step is this batch.
	Path []PathStep `json:"path"`
	// Complete is true when the path reaches a batch with no parent_id.
	Complete bool `json:"complete"`
	// Problems are what the climb and the checks found: a parent that is unknown, malformed,
	// not fetched or that does not list its child, a cycle, a batch that is not retired by
	// this retirement, a root of another issuance, credits that disagree with its kg.
	Problems []Problem `json:"problems"`
}

// Depth is the number of splits between the root and the batch (when Complete).
func (b RetiredBatch) Depth() int { return max(len(b.Path)-1, 0) }

// PathStep is one batch on a path, with what the path shows of it.
type PathStep struct {
	ID           string                `json:"id"`
	SerialNumber string                `json:"serial_number"`
	Status       registry.Status       `json:"status"`
	CreditKgs    int64                 `json:"credit_kgs"`
	Owner        registry.Organisation `json:"owner"`
	// Link is how it hangs from the step before: "" for the first step, "left" or "right",
	// or "claimed" when that batch does not list it as a child.
	Link Link `json:"link"`
}

// retirementRecord is what GET /retirements/{id} and GET /retirements/{id}/credit_batches
// give a report. A retirement is final (its batches can never change again), so it is kept
// without expiry, within the records' bound.
type retirementRecord struct {
	retirement registry.Retirement
	batches    []registry.CreditBatch // final: retired batches never change
}

// StartRetirementReport starts building the report of retirement id in the background (see
// RetirementReport), or joins the one under way or finished within KeepFinished; fresh drops a
// finished one. Its data comes from GET /retirements/{id} and
// GET /retirements/{id}/credit_batches (kept: a retirement is final) and GET
// /credit_batches/{id} through the cache, one climb per batch up parent_id, at most
// WalkerConfig.Workers climbs at once (batches of one tree share their ancestors' fetches).
//
// The job's error wraps ErrInvalid for a malformed id (nothing sent upstream), ErrNotFound for
// an unknown retirement, or the client's errors when the record could not be fetched. A path
// that cannot be followed to its root does not fail the report: its batch lists the problem.
func (e *Explorer) StartRetirementReport(id string, fresh bool) *ReportJob[*RetirementReport] {
	return e.reports.retirements.start(id, fresh)
}

// FollowRetirementReport returns the job numbered walk (ReportJob.Walk) of retirement id while
// it is known, whatever its outcome, for the progress page that showed it; otherwise it is
// StartRetirementReport(id, false).
func (e *Explorer) FollowRetirementReport(id string, walk uint64) *ReportJob[*RetirementReport] {
	return e.reports.retirements.follow(id, walk)
}

// RetirementReport builds the report of retirement id (sharing a job under way) and waits for
// it, or for ctx. See StartRetirementReport.
func (e *Explorer) RetirementReport(ctx context.Context, id string) (*RetirementReport, error) {
	return waitReport(ctx, e.StartRetirementReport(id, false))
}

func (e *Explorer) retirementRecord(ctx context.Context, j *ReportJob[*RetirementReport]) (*retirementRecord, error) {
	return recordOrFetch(ctx, e.reports.records, "ret:"+j.ID, gocache.NoExpiration, func(ctx context.Context) (*retirementRecord, error) {
		var ret *registry.Retirement
		var list *registry.List[registry.CreditBatch]
		j.own.discovered.Add(2)
		var g errgroup.Group
		g.Go(func() (err error) {
			ret, err = e.client.Retirement(ctx, j.ID)
			return err
		})
		g.Go(func() (err error) {
			list, err = e.client.RetirementCreditBatches(ctx, j.ID)
			return err
		})
		if err := g.Wait(); err != nil {
			return nil, err
		}
		j.own.fetched.Add(2)
		rec := &retirementRecord{retirement: *ret}
		rec.batches = list.Nodes
		e.remember(list.Nodes)
		return rec, nil
	})
}

func (e *Explorer) buildRetirementReport(ctx context.Context, j *ReportJob[*RetirementReport], _ bool) (*RetirementReport, error) {
	if err := registry.ValidateID(registry.PrefixRetirement, j.ID); err != nil {
		return nil, err
	}
	start := time.Now()
	rec, err := e.retirementRecord(ctx, j)
	if err != nil {
		return nil, err
	}
	out := make([]*RetiredBatch, len(rec.batches))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.walker.workers)
	for i := range rec.batches {
		g.Go(func() error {
			rb, err := e.climb(gctx, &rec.batches[i], &j.own)
			if err != nil {
				return err
			}
			out[i] = rb
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep := &RetirementReport{Retirement: rec.retirement, WalkedAt: j.Started, RecordProblems: []Problem{}}
	if p, ok := recordCreditsProblem(rec.retirement.ID, "credit_batch_size_total", rec.retirement.CreditBatchSizeTotal); ok {
		rep.RecordProblems = append(rep.RecordProblems, p)
	}
	holders := newTally[HolderKg]()
	benefs := newTally[BeneficiaryKg]()
	for _, rb := range out {
		if rb == nil {
			continue // a malformed id in the list: not a batch
		}
		b := &rb.Batch
		if b.Status != registry.StatusRetired || b.RetirementID != j.ID {
			rb.Problems = append(rb.Problems, Problem{Kind: ProblemStatus, BatchID: b.ID, Related: j.ID,
				Detail: fmt.Sprintf("%s is listed by retirement %s but is %s with retirement_id %s", b.ID, j.ID, b.Status, orNull(b.RetirementID))})
		}
		if p, ok := creditsProblem(b); ok {
			rb.Problems = append(rb.Problems, p)
		}
		for _, u := range b.Unread() {
			rb.Problems = append(rb.Problems, Problem{Kind: ProblemUnreadable, BatchID: b.ID, Detail: unreadDetail(b.ID, u)})
		}
		rep.BatchesKg += b.Size.CreditKgs
		tallyRetired(rb, holders, benefs)
		if b.IssuanceID != "" && !slices.Contains(rep.Issuances, b.IssuanceID) {
			rep.Issuances = append(rep.Issuances, b.IssuanceID)
		}
		rep.Problems += len(rb.Problems)
		if slices.ContainsFunc(rb.Problems, func(p Problem) bool { return p.Kind == ProblemFetchFailed }) {
			rep.FetchFailed++
		}
		rep.Batches = append(rep.Batches, *rb)
	}
	rep.ByHolder = holders.sorted(func(h *HolderKg) int64 { return h.ActiveKg + h.RetiredKg + h.OtherKg })
	rep.ByBeneficiary = benefs.sorted(func(b *BeneficiaryKg) int64 { return b.RetiredKg })
	rep.Took = time.Since(start)
	return rep, nil
}

// tallyRetired adds one batch of a retirement to the owner and beneficiary tallies; its tree
// is named by the top of its path.
func tallyRetired(rb *RetiredBatch, holders *tally[HolderKg], benefs *tally[BeneficiaryKg]) {
	b := &rb.Batch
	tree := b.ID
	if len(rb.Path) > 0 {
		tree = rb.Path[0].ID
	}
	kg := b.Size.CreditKgs
	h := holders.at(b.Owner.ID, func() HolderKg { return HolderKg{Holder: b.Owner} })
	h.Batches++
	h.Trees = addOnce(h.Trees, tree)
	switch b.Status {
	case registry.StatusRetired:
		h.RetiredKg += kg
	case registry.StatusActive:
		h.ActiveKg += kg
		return
	default:
		h.OtherKg += kg
		return
	}
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
	bf.RetiredKg += kg
	bf.Batches++
	if b.RetirementID != "" {
		bf.Retirements = addOnce(bf.Retirements, b.RetirementID)
	}
	bf.Trees = addOnce(bf.Trees, tree)
}

// addOnce appends v unless the list has it: a retirement's batches come from trees in any order.
func addOnce(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// climb follows parent_id from batch b up to its root through the cache, one fetch at a time
// (each parent is known only from its child). It stops, with a problem, at a parent that is
// unknown, malformed or not fetched, at a cycle, or past the walker's node bound. It returns
// nil for a batch with a malformed id, and an error only when ctx ends.
func (e *Explorer) climb(ctx context.Context, b *registry.CreditBatch, prog *Progress) (*RetiredBatch, error) {
	if registry.ValidateID(registry.PrefixCreditBatch, b.ID) != nil {
		return nil, nil
	}
	rb := &RetiredBatch{Batch: *b}
	chain := []*registry.CreditBatch{b}
	links := []Link{""}
	seen := map[string]bool{b.ID: true}
	cur := b
	for cur.ParentID != "" {
		pid := cur.ParentID
		if len(chain) >= e.walker.maxNodes {
			rb.Problems = append(rb.Problems, Problem{Kind: ProblemTruncated, BatchID: cur.ID,
				Detail: fmt.Sprintf("the path is longer than %d batches; it was not followed further", e.walker.maxNodes)})
			break
		}
		if err := registry.ValidateID(registry.PrefixCreditBatch, pid); err != nil {
			rb.Problems = append(rb.Problems, Problem{Kind: ProblemInvalidLink, BatchID: cur.ID,
				Detail: fmt.Sprintf("%s has parent_id %q, which is not a credit batch id", cur.ID, registry.TruncateForError(pid))})
			break
		}
		if seen[pid] {
			rb.Problems = append(rb.Problems, Problem{Kind: ProblemCycle, BatchID: cur.ID, Related: pid,
				Detail: fmt.Sprintf("%s has parent_id %s, which is already on the path below it", cur.ID, pid)})
			break
		}
		prog.discovered.Add(1)
		// A path cut by a passing fault is asked for again, as a walk asks for its ancestors.
		p, err := e.walker.persist(ctx, func() (*registry.CreditBatch, error) { return e.cache.CreditBatch(ctx, pid) })
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, registry.ErrNotFound) {
				rb.Problems = append(rb.Problems, Problem{Kind: ProblemDangling, BatchID: cur.ID, Related: pid,
					Detail: fmt.Sprintf("%s has parent_id %s, which the registry does not have", cur.ID, pid)})
			} else {
				rb.Problems = append(rb.Problems, Problem{Kind: ProblemFetchFailed, BatchID: cur.ID, Related: pid,
					Detail: fmt.Sprintf("the parent %s could not be fetched: %v", pid, err)})
			}
			break
		}
		prog.fetched.Add(1)
		link := LinkClaimed
		switch cur.ID {
		case p.LeftChildID:
			link = LinkLeft
		case p.RightChildID:
			link = LinkRight
		default:
			rb.Problems = append(rb.Problems, Problem{Kind: ProblemUnlisted, BatchID: cur.ID, Related: pid,
				Detail: fmt.Sprintf("%s has parent_id %s, which does not list it as a child", cur.ID, pid)})
		}
		links[len(links)-1] = link
		seen[pid] = true
		chain = append(chain, p)
		links = append(links, "")
		cur = p
	}
	rb.Complete = cur.ParentID == ""
	if rb.Complete && cur.IssuanceID != b.IssuanceID {
		rb.Problems = append(rb.Problems, Problem{Kind: ProblemMixedLineage, BatchID: b.ID, Related: cur.ID,
			Detail: fmt.Sprintf("%s has issuance_id %s, but its root %s has %s", b.ID, orNull(b.IssuanceID), cur.ID, orNull(cur.IssuanceID))})
	}
	// chain runs from the batch up; links[i] is how chain[i] hangs from chain[i+1].
	rb.Path = make([]PathStep, len(chain))
	for i, c := range chain {
		k := len(chain) - 1 - i
		rb.Path[k] = PathStep{ID: c.ID, SerialNumber: c.SerialNumber, Status: c.Status, CreditKgs: c.Size.CreditKgs,
			Owner: c.Owner, Link: links[i]}
	}
	return rb, nil
}
