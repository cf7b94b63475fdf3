package claims

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	ch.judge(r, t, cov)
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
	ch.judge(r, t, cov)
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

// coverage is the set of unsplit batches that hold a claim's units.
type coverage struct {
	batches             []Covered
	count               int
	kg                  int64 // claimed units found in batches
	retiredKg, activeKg int64
	otherKg             int64 // in batches of a status the explorer does not know
	otherStatus         string
	unknown             bool // part of the tree could not be fetched: the cover is incomplete
	retirements         []string
	retiredBatches      []*registry.CreditBatch
}

func (c *coverage) add(b *registry.CreditBatch, kg int64) {
	c.count++
	c.kg += kg
	cv := Covered{ID: b.ID, SerialNumber: b.SerialNumber, Status: b.Status, Kg: kg, BatchKg: b.Size.CreditKgs}
	switch b.Status {
	case registry.StatusRetired:
		c.retiredKg += kg
		cv.RetirementID, cv.RetiredAt = b.RetirementID, b.RetiredAt.Time
		if b.Beneficiary != nil {
			cv.Beneficiary = b.Beneficiary.Name
		}
		if b.RetirementID != "" && !slices.Contains(c.retirements, b.RetirementID) {
			c.retirements = append(c.retirements, b.RetirementID)
		}
		c.retiredBatches = append(c.retiredBatches, b)
	case registry.StatusActive:
		c.activeKg += kg
	default:
		c.otherKg += kg
		c.otherStatus = string(b.Status)
	}
	if len(c.batches) < maxCovered {
		c.batches = append(c.batches, cv)
	}
}

// cover collects the unsplit batches under n that hold units of s (all of them when s is nil),
// following left and right children only: a child that only claims its parent (parent_id)
// holds none of the parent's units.
func cover(n *lineage.Node, s *registry.Serial) coverage {
	var c coverage
	if n == nil {
		c.unknown = true
		return c
	}
	stack := []*lineage.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Batch == nil {
			if x.Missing == lineage.MissingFetchFailed || x.Missing == lineage.MissingTruncated {
				c.unknown = true
			}
			continue
		}
		kg := x.Batch.Size.CreditKgs
		if s != nil {
			bs, err := registry.ParseSerial(x.Batch.SerialNumber)
			if err != nil || !bs.Overlaps(*s) {
				continue
			}
			kg = min(bs.Last, s.Last) - max(bs.First, s.First)
		}
		if x.Batch.Status == registry.StatusSplit && len(x.Children) > 0 {
			for i := len(x.Children) - 1; i >= 0; i-- {
				if k := x.Children[i]; k.Link == lineage.LinkLeft || k.Link == lineage.LinkRight {
					stack = append(stack, k)
				}
			}
			continue
		}
		c.add(x.Batch, kg)
	}
	return c
}

// judge gives the findings of a serial or batch claim from the batches that cover it and the
// audit of their tree.
func (ch *Checker) judge(r *Result, t *lineage.Tree, cov coverage) {
	r.Batches, r.CoverCount, r.Retirements = cov.batches, cov.count, cov.retirements
	if cov.unknown {
		r.add(Unchecked, "part of the batch's tree could not be fetched from the registry: retry later")
	}
	switch {
	case cov.count == 0:
		if !cov.unknown && !hasCode(r.Findings, NotFound) {
			r.add(NotFound, "no batch of the registry holds the claimed units")
		}
	case cov.retiredKg == 0:
		r.add(NotRetired, "not retired: %s kg in %d active %s, still tradable", fmtKg(cov.activeKg+cov.otherKg), cov.count, plural(cov.count, "batch", "batches"))
	case cov.activeKg > 0 || cov.otherKg > 0:
		f := r.add(PartlyRetired, "partly retired: %s kg retired and %s kg still active across %d batches", fmtKg(cov.retiredKg), fmtKg(cov.activeKg+cov.otherKg), cov.count)
		f.FoundKg = cov.retiredKg
	}
	if cov.otherKg > 0 {
		r.add(NotRetired, "%s kg are in batches whose status %q the explorer does not know", fmtKg(cov.otherKg), registry.TruncateForError(cov.otherStatus))
	}
	claim := r.Claim
	if claim.Beneficiary != "" {
		others := map[string]int64{}
		var names []string
		for _, b := range cov.retiredBatches {
			var org registry.Organisation
			if b.Beneficiary != nil {
				org = *b.Beneficiary
			}
			if !sameBeneficiary(claim.Beneficiary, org) {
				if _, ok := others[org.Name]; !ok {
					names = append(names, org.Name)
				}
				others[org.Name] += b.Size.CreditKgs
			}
		}
		for _, name := range names {
			shown := name
			if shown == "" {
				shown = "no beneficiary"
			}
			f := r.add(RetiredForOther, "claimed for %q, but batches holding it were retired for %q", claim.Beneficiary, shown)
			f.Claimed, f.Found = claim.Beneficiary, name
		}
	}
	ch.judgeKg(r)
	if !claim.Date.IsZero() {
		var seen []string
		for _, b := range cov.retiredBatches {
			if b.RetiredAt.IsZero() || sameDay(claim.Date, b.RetiredAt.Time) {
				continue
			}
			if d := day(b.RetiredAt.Time); !slices.Contains(seen, d) {
				seen = append(seen, d)
				f := r.add(DateMismatch, "claimed as retired on %s, but %s was retired on %s", day(claim.Date), b.ID, d)
				f.Claimed, f.Found = day(claim.Date), d
			}
		}
	}
	if len(t.Problems) > 0 {
		kinds := []string{}
		for _, p := range t.Problems {
			if !slices.Contains(kinds, string(p.Kind)) {
				kinds = append(kinds, string(p.Kind))
			}
		}
		r.add(TreeProblem, "the audit of the batch's tree found %d %s (%s); see the lineage page", len(t.Problems), plural(len(t.Problems), "problem", "problems"), strings.Join(kinds, ", "))
	}
}

func (ch *Checker) judgeKg(r *Result) {
	if !r.Claim.HasKg || r.Claim.Kg == r.FoundKg || hasCode(r.Findings, NotFound) && r.FoundKg == 0 {
		return
	}
	f := r.add(KgMismatch, "claimed %s kg, the registry holds %s kg", fmtKg(r.Claim.Kg), fmtKg(r.FoundKg))
	f.ClaimedKg, f.FoundKg = r.Claim.Kg, r.FoundKg
}

func hasCode(fs []Finding, c Code) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Code == c })
}

// sameBeneficiary compares a claimed beneficiary with the registry's: its org_ id, or its
// name with case and runs of white space aside.
func sameBeneficiary(claimed string, org registry.Organisation) bool {
	if org.ID != "" && strings.EqualFold(strings.TrimSpace(claimed), org.ID) {
		return true
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return org.Name != "" && norm(claimed) == norm(org.Name)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func blockOf(s registry.Serial) registry.Serial {
	s.First, s.Last = 0, 0
	return s
}

func fmtKg(kg int64) string { return lineage.FormatKg(kg) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxNamedRows bounds the other rows one double_claimed finding names.
const maxNamedRows = 20

// doubleClaims marks the rows whose units (or whose batch or retirement) another row claims
// too, naming the other rows and the exact units they share (half-open ranges).
func doubleClaims(rs []Result) {
	type span struct {
		block registry.Serial
		u     Units
		row   int // index into rs
	}
	var spans []span
	for i := range rs {
		for _, u := range rs[i].units {
			spans = append(spans, span{u.block, u.u, i})
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.block.String(), b.block.String()), cmp.Compare(a.u.First, b.u.First), cmp.Compare(a.u.Last, b.u.Last), cmp.Compare(a.row, b.row))
	})
	type pair struct{ a, b int }
	shared := map[pair][]Units{}
	var order []pair
	note := func(a, b int, u Units) {
		if a == b {
			return
		}
		for _, p := range []pair{{a, b}, {b, a}} {
			if _, ok := shared[p]; !ok {
				order = append(order, p)
			}
			shared[p] = append(shared[p], u)
		}
	}
	var active []span
	for _, s := range spans {
		kept := active[:0]
		for _, a := range active {
			if a.block == s.block && a.u.Last > s.u.First {
				kept = append(kept, a)
			}
		}
		active = kept
		for _, a := range active {
			note(a.row, s.row, Units{s.u.First, min(a.u.Last, s.u.Last)})
		}
		active = append(active, s)
	}
	// The same batch or retirement named twice counts even where its units are unknown.
	byID := map[string][]int{}
	for i, r := range rs {
		if r.Claim.Kind == KindBatch || r.Claim.Kind == KindRetirement {
			byID[r.Claim.ID] = append(byID[r.Claim.ID], i)
		}
	}
	sameID := map[pair]bool{}
	for _, rows := range byID {
		for _, a := range rows {
			for _, b := range rows {
				if a != b {
					sameID[pair{a, b}] = true
					if _, ok := shared[pair{a, b}]; !ok {
						order = append(order, pair{a, b})
						shared[pair{a, b}] = nil
					}
				}
			}
		}
	}
	slices.SortStableFunc(order, func(x, y pair) int { return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b)) })
	named := map[int]int{}
	for _, p := range order {
		r := &rs[p.a]
		other := rs[p.b].Claim.Row
		if named[p.a] >= maxNamedRows {
			continue
		}
		named[p.a]++
		units := mergeUnits(shared[p])
		var text string
		switch {
		case len(units) > 0:
			var kg int64
			parts := make([]string, 0, len(units))
			for _, u := range units {
				kg += u.Kg()
				parts = append(parts, u.String())
			}
			text = fmt.Sprintf("row %d claims %s of the same units too: %s", other, fmtKg(kg)+" kg", strings.Join(parts, ", "))
		case sameID[p]:
			text = fmt.Sprintf("row %d claims %s too", other, r.Claim.ID)
		}
		r.Findings = append(r.Findings, Finding{Code: DoubleClaimed, Text: text, Rows: []int{other}, Units: units})
	}
}

// mergeUnits sorts ranges and joins those that touch or overlap.
func mergeUnits(us []Units) []Units {
	if len(us) == 0 {
		return nil
	}
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b Units) int { return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(a.Last, b.Last)) })
	out := []Units{us[0]}
	for _, u := range us[1:] {
		last := &out[len(out)-1]
		if u.First <= last.Last {
			last.Last = max(last.Last, u.Last)
			continue
		}
		out = append(out, u)
	}
	return out
}
