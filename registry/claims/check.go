package claims

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Registry is what a check reads, all of it through lineage's Explorer (which implements it):
// the serial index, the batch cache, shared lineage walks and retirement reports. Rows of one
// tree share its walk there, so a list costs at most the distinct batches it needs.
type Registry interface {
	// ResolveSerial is lineage.Explorer.ResolveSerial.
	ResolveSerial(ctx context.Context, serial string) (lineage.Resolution, error)
	// Lineage is lineage.Explorer.Lineage: the whole tree of a batch, audited.
	Lineage(ctx context.Context, id string) (*lineage.Tree, error)
	// RetirementReport is lineage.Explorer.RetirementReport.
	RetirementReport(ctx context.Context, id string) (*lineage.RetirementReport, error)
}

// Code is a verdict's or a finding's stable code, for tools and for the page's filter.
type Code string

// The verdicts. A row's verdict is the first of Codes that its findings hold, verified when
// none.
const (
	Malformed       Code = "malformed"
	Unchecked       Code = "unchecked"
	NotFound        Code = "not_found"
	NotRetired      Code = "not_retired"
	PartlyRetired   Code = "partly_retired"
	RetiredForOther Code = "retired_for_other"
	DoubleClaimed   Code = "double_claimed"
	KgMismatch      Code = "kg_mismatch"
	DateMismatch    Code = "date_mismatch"
	TreeProblem     Code = "tree_problem"
	Verified        Code = "verified"
)

// Codes are every code, in the order a row's verdict is chosen (and counts are shown).
var Codes = []Code{Malformed, Unchecked, NotFound, NotRetired, PartlyRetired, RetiredForOther,
	DoubleClaimed, KgMismatch, DateMismatch, TreeProblem, Verified}

// ValidCode reports whether s is one of Codes.
func ValidCode(s string) bool { return slices.Contains(Codes, Code(s)) }

// Only is the report narrowed to the rows whose verdict is v, in input order, with Counts
// for those rows alone; v == "" gives r itself. A download filtered as its page is says no
// more than the page did.
func (r *Report) Only(v Code) *Report {
	if v == "" {
		return r
	}
	out := &Report{Counts: map[Code]int{}, Started: r.Started, Took: r.Took}
	for _, res := range r.Results {
		if res.Verdict == v {
			out.Results = append(out.Results, res)
		}
	}
	if n := len(out.Results); n > 0 {
		out.Counts[v] = n
	}
	return out
}

// Units is a half-open range of units [First, Last) of one serial block: Last − First kg.
type Units struct {
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// Kg is the number of units.
func (u Units) Kg() int64 { return u.Last - u.First }

// String reads "[78177, 79177)".
func (u Units) String() string { return fmt.Sprintf("[%d, %d)", u.First, u.Last) }

// Finding is one thing a check found about a row, in words (our own text around figures, ids
// and the user's or the registry's values, all to be shown escaped) and as a code.
type Finding struct {
	Code Code   `json:"code"`
	Text string `json:"text"`
	// Rows are the other rows involved (double_claimed), Units the units they share.
	Rows  []int   `json:"rows,omitempty"`
	Units []Units `json:"units,omitempty"`
	// ClaimedKg and FoundKg are set on kg_mismatch.
	ClaimedKg int64 `json:"claimed_kg,omitempty"`
	FoundKg   int64 `json:"found_kg,omitempty"`
	// Claimed and Found are the claimed and the registry's beneficiary or date.
	Claimed string `json:"claimed,omitempty"`
	Found   string `json:"found,omitempty"`
}

// Covered is one batch of the set that covers a claim, as the registry has it.
type Covered struct {
	ID           string          `json:"id"`
	SerialNumber string          `json:"serial_number"`
	Status       registry.Status `json:"status"`
	// Kg is how many of the claim's units the batch holds; BatchKg its whole size.
	Kg           int64     `json:"kg"`
	BatchKg      int64     `json:"batch_kg"`
	RetirementID string    `json:"retirement_id,omitempty"`
	Beneficiary  string    `json:"beneficiary,omitempty"`
	RetiredAt    time.Time `json:"retired_at,omitzero"`
}

// maxCovered bounds the batches kept per row: a claim on a large tree's root covers thousands
// of batches, and the page names a few (every one is still judged).
const maxCovered = 50

// Result is one row's verdict.
type Result struct {
	Claim    Claim     `json:"claim"`
	Verdict  Code      `json:"verdict"`
	Findings []Finding `json:"findings"`
	// Batches are the batches that cover the claim (at most maxCovered of them); CoverCount
	// counts them all.
	Batches    []Covered `json:"batches,omitempty"`
	CoverCount int       `json:"cover_count"`
	// FoundKg is what the registry holds of the claim: the units in batches, the batch's size,
	// or the retirement's total.
	FoundKg int64 `json:"found_kg"`
	// TreeOf is a batch whose lineage page shows the claim's tree ("" when none was found).
	TreeOf string `json:"tree_of,omitempty"`
	// Retirements are the retirements of the covering batches, in first-seen order.
	Retirements []string `json:"retirements,omitempty"`

	units []unitsOf // what the row claims, for the double-claim check
}

type unitsOf struct {
	block registry.Serial // First and Last zero: the block only
	u     Units
}

// Report is the result of checking one list, row by row in input order.
type Report struct {
	Results []Result
	// Counts are the rows per verdict.
	Counts  map[Code]int
	Started time.Time
	Took    time.Duration
}

// Checker checks lists of claims against a Registry.
type Checker struct {
	reg     Registry
	workers int
}

// NewChecker returns a Checker that checks up to workers rows at once (default 64). Rows of
// one tree wait on one shared walk, and a walk is mostly a chain of dependent fetches, so a
// list of many trees needs many walks under way to keep UPSTREAM_CONCURRENCY busy: with 8
// rows at once, 1,000 claims over 100 demo trees took 3.4× the critical-path bound, with 64
// 1.1× (`go run . bench`). The upstream stays bounded by the Explorer's own concurrency.
func NewChecker(reg Registry, workers int) *Checker {
	return &Checker{reg: reg, workers: cmp.Or(max(workers, 0), 64)}
}

// Check gives every claim of l its verdict, in input order. done, if not nil, is incremented as
// each row is checked (for a progress page). It never fails: a row the registry could not
// answer for is unchecked.
func (ch *Checker) Check(ctx context.Context, l *List, done *atomic.Int64) *Report {
	rep := &Report{Results: make([]Result, len(l.Claims)), Counts: map[Code]int{}, Started: time.Now()}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(ch.workers, max(len(l.Claims), 1)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(l.Claims) {
					return
				}
				rep.Results[i] = ch.checkRow(ctx, l.Claims[i])
				if done != nil {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	doubleClaims(rep.Results)
	for i := range rep.Results {
		r := &rep.Results[i]
		r.Verdict = verdictOf(r.Findings)
		rep.Counts[r.Verdict]++
	}
	rep.Took = time.Since(rep.Started)
	return rep
}

func verdictOf(fs []Finding) Code {
	for _, c := range Codes {
		for _, f := range fs {
			if f.Code == c {
				return c
			}
		}
	}
	return Verified
}

func (r *Result) add(code Code, format string, args ...any) *Finding {
	r.Findings = append(r.Findings, Finding{Code: code, Text: fmt.Sprintf(format, args...)})
	return &r.Findings[len(r.Findings)-1]
}

// failed turns an error of the registry into the row's finding: not found, malformed (the
// registry refused the id), or unchecked (it could not be asked).
func (r *Result) failed(what string, err error) {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		r.add(NotFound, "the registry has no %s", what)
	case errors.Is(err, registry.ErrInvalid):
		r.add(Malformed, "the registry refused %s as malformed", what)
	default:
		r.add(Unchecked, "the registry could not be asked about %s (%s): retry later", what, reason(err))
	}
}

// reason says why the registry could not be asked, in the words of the sentinel errors only:
// an upstream message is not repeated.
func reason(err error) string {
	for _, e := range []error{registry.ErrThrottled, registry.ErrUnavailable, registry.ErrCredentials, context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "it failed"
}

func (ch *Checker) checkRow(ctx context.Context, c Claim) Result {
	r := Result{Claim: c, Findings: []Finding{}}
	for _, m := range c.Malformed {
		r.add(Malformed, "%s", m)
	}
	switch c.Kind {
	case KindSerial:
		ch.checkSerial(ctx, &r)
	case KindBatch:
		ch.checkBatch(ctx, &r)
	case KindRetirement:
		ch.checkRetirement(ctx, &r)
	}
	return r
}

func (ch *Checker) checkSerial(ctx context.Context, r *Result) {
	s := r.Claim.Serial
	r.units = []unitsOf{{block: blockOf(s), u: Units{s.First, s.Last}}}
	res, err := ch.reg.ResolveSerial(ctx, s.String())
	var snf *lineage.SerialNotFoundError
	if errors.As(err, &snf) && len(snf.Overlapping) > 0 {
		ch.checkSpan(ctx, r, snf.Overlapping)
		return
	}
	if err != nil {
		r.failed("batch holding serial number "+s.String(), err)
		return
	}
	t, err := ch.reg.Lineage(ctx, res.BatchID)
	if err != nil {
		r.failed("credit batch "+res.BatchID, err)
		return
	}
	r.TreeOf = res.BatchID
	n := t.Nodes[res.BatchID]
	cov := cover(n, &s)
	r.FoundKg = cov.kg
	if missing := s.Size() - cov.kg; missing > 0 && !cov.unknown {
		f := r.add(NotFound, "%s of the claimed %s kg lie in no batch of the registry", fmtKg(missing), fmtKg(s.Size()))
		f.ClaimedKg, f.FoundKg = s.Size(), cov.kg
	}
	ch.judge(r, t.Problems, cov)
}

func (ch *Checker) checkBatch(ctx context.Context, r *Result) {
	id := r.Claim.ID
	t, err := ch.reg.Lineage(ctx, id)
	if err != nil {
		r.failed("credit batch "+id, err)
		return
	}
	r.TreeOf = id
	n := t.Nodes[id]
	if n == nil || n.Batch == nil {
		r.add(Unchecked, "credit batch %s could not be read from its tree: retry later", id)
		return
	}
	if s, err := registry.ParseSerial(n.Batch.SerialNumber); err == nil {
		r.units = []unitsOf{{block: blockOf(s), u: Units{s.First, s.Last}}}
	}
	cov := cover(n, nil)
	r.FoundKg = n.Batch.Size.CreditKgs
	ch.judge(r, t.Problems, cov)
}

func (ch *Checker) checkRetirement(ctx context.Context, r *Result) {
	id := r.Claim.ID
	rep, err := ch.reg.RetirementReport(ctx, id)
	if err != nil {
		r.failed("retirement "+id, err)
		return
	}
	ret := rep.Retirement
	r.FoundKg = ret.CreditBatchSizeTotal.CreditKgs
	r.Retirements = []string{id}
	var cov coverage
	for _, b := range rep.Batches {
		cb := b.Batch
		cov.add(&cb, cb.Size.CreditKgs)
		if s, err := registry.ParseSerial(cb.SerialNumber); err == nil {
			r.units = append(r.units, unitsOf{block: blockOf(s), u: Units{s.First, s.Last}})
		}
		if r.TreeOf == "" {
			r.TreeOf = cb.ID
		}
	}
	if len(rep.Batches) == 0 {
		r.add(NotFound, "retirement %s lists no credit batch", id)
	}
	if rep.FetchFailed > 0 {
		r.add(Unchecked, "%d of the retirement's batches could not be traced to their issuance: retry later", rep.FetchFailed)
	}
	if rep.BatchesKg != ret.CreditBatchSizeTotal.CreditKgs {
		r.add(TreeProblem, "the retirement's batches hold %s kg, but its record says %s kg", fmtKg(rep.BatchesKg), fmtKg(ret.CreditBatchSizeTotal.CreditKgs))
	}
	if rep.Problems > 0 {
		r.add(TreeProblem, "the paths of the retirement's batches to their issuance show %d %s; see the retirement's page", rep.Problems, plural(rep.Problems, "problem", "problems"))
	}
	// The record's beneficiary and date are the retirement's: judge them once, not per batch.
	r.Batches, r.CoverCount = cov.batches, cov.count
	claim := r.Claim
	if claim.Beneficiary != "" && !sameBeneficiary(claim.Beneficiary, ret.Beneficiary) {
		f := r.add(RetiredForOther, "claimed for %q, but the registry retired it for %q", claim.Beneficiary, ret.Beneficiary.Name)
		f.Claimed, f.Found = claim.Beneficiary, ret.Beneficiary.Name
	}
	ch.judgeKg(r)
	if !claim.Date.IsZero() && !ret.RetiredAt.IsZero() && !sameDay(claim.Date, ret.RetiredAt.Time) {
		f := r.add(DateMismatch, "claimed as retired on %s, but the registry retired it on %s", day(claim.Date), day(ret.RetiredAt.Time))
		f.Claimed, f.Found = day(claim.Date), day(ret.RetiredAt.Time)
	}
}

func hasCode(fs []Finding, c Code) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Code == c })
}

func fmtKg(kg int64) string { return lineage.FormatKg(kg) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxSpanRoots bounds the trees one claimed range may span (each is walked whole).
const maxSpanRoots = 16

// checkSpan judges a claimed range that no one tree holds but the trees of roots overlap
// (adjacent roots of an issuance): the batches of every such tree that hold claimed units, and
// every tree's audit, together.
func (ch *Checker) checkSpan(ctx context.Context, r *Result, roots []string) {
	s := r.Claim.Serial
	if len(roots) > maxSpanRoots {
		// Whole trees by the dozen for one row: a list could make the check walk a registry.
		r.add(Unchecked, "the range spans %d root batches; claim it in parts of at most %d", len(roots), maxSpanRoots)
		return
	}
	var cov coverage
	var problems []lineage.Problem
	for _, id := range roots {
		t, err := ch.reg.Lineage(ctx, id)
		if err != nil {
			r.failed("credit batch "+id, err)
			return
		}
		if r.TreeOf == "" {
			r.TreeOf = id
		}
		cov.merge(cover(t.Nodes[id], &s))
		problems = append(problems, t.Problems...)
	}
	r.FoundKg = cov.kg
	if missing := s.Size() - cov.kg; missing > 0 && !cov.unknown {
		f := r.add(NotFound, "%s of the claimed %s kg lie in no batch of the registry", fmtKg(missing), fmtKg(s.Size()))
		f.ClaimedKg, f.FoundKg = s.Size(), cov.kg
	}
	ch.judge(r, problems, cov)
}
