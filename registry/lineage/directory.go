package lineage

// The project and organisation reports: a project's issuances with their totals, an
// organisation's holdings and retirements with its balance checked against them. Unlike the
// lineage walks they fetch a handful of list pages, so they are built within the request.

import (
	"context"
	"fmt"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// DirectorySource is what the project and organisation reports read, beside Source:
// *isometric.Client implements it. It is apart from Source so that the lineage logic and its
// test doubles need not know these routes. Errors wrap registry's sentinel errors.
type DirectorySource interface {
	// Project is GET /projects/{id}.
	Project(ctx context.Context, id string) (*registry.Project, error)
	// SupplierIssuances is one page of GET /suppliers/{id}/issuances (at most
	// registry.MaxPageSize a page).
	SupplierIssuances(ctx context.Context, supplierID string, first int, after string) (*registry.Page[registry.Issuance], error)
	// Organisation is GET /organisations/{id}.
	Organisation(ctx context.Context, id string) (*registry.Organisation, error)
	// OrganisationCreditBalance is GET /organisations/{id}/credit_balance.
	OrganisationCreditBalance(ctx context.Context, id string) (*registry.OrganisationCreditBalance, error)
	// OrganisationBatches is one page of GET /organisations/{id}/credit_batches filtered by
	// status only (empty: the registry's default, every status but split).
	OrganisationBatches(ctx context.Context, orgID string, statuses []registry.Status, first int, after string) (*registry.Page[registry.CreditBatch], error)
}

// ErrNoDirectory is the error of a report asked of an Explorer whose Source is not a
// DirectorySource. It wraps registry.ErrUnavailable: the pages cannot be shown, and it is not
// the reader's fault.
var ErrNoDirectory = fmt.Errorf("%w: this registry source has no project or organisation routes", registry.ErrUnavailable)

// TotalCheck compares a total the registry states with what its parts add up to, in kg. A
// mismatch is reported as it is: neither figure is corrected.
type TotalCheck struct {
	What     string `json:"what"`      // what is compared, e.g. "issued credits"
	StatedKg int64  `json:"stated_kg"` // the registry's total (its record)
	SummedKg int64  `json:"summed_kg"` // the sum of the parts listed
	From     string `json:"from"`      // where the stated total comes from (the route)
}

// OK reports whether the stated total and the sum agree.
func (c TotalCheck) OK() bool { return c.StatedKg == c.SummedKg }

// DifferenceKg is stated − summed: positive when the record claims more than its parts hold.
func (c TotalCheck) DifferenceKg() int64 { return c.StatedKg - c.SummedKg }

// ProjectReport is a project and its issuances. Every size is in kg.
type ProjectReport struct {
	// Project is GET /projects/{id}, with the registry's own totals.
	Project registry.Project `json:"project"`
	// Issuances are the project's, taken from GET /suppliers/{id}/issuances (the supplier's
	// issuances of every project), in the registry's order.
	Issuances []registry.Issuance `json:"issuances"`
	// SupplierKg, BufferKg and TotalKg sum the issuances' supplier, buffer-pool and overall
	// totals.
	SupplierKg int64 `json:"supplier_kg"`
	BufferKg   int64 `json:"buffer_kg"`
	TotalKg    int64 `json:"total_kg"`
	// Checks compare the project's totals with the issuances' sums, and each issuance's
	// overall total with its supplier and buffer-pool parts (those only when they disagree).
	Checks []TotalCheck `json:"checks"`
	// SupplierIssuances counts the supplier's issuances read, of every project.
	SupplierIssuances int `json:"supplier_issuances"`
	// NoSupplier is set when the project names no well-formed supplier id, so that its
	// issuances could not be listed (and Checks are not made).
	NoSupplier bool      `json:"no_supplier,omitempty"`
	FetchedAt  time.Time `json:"fetched_at"`
}

// Mismatches counts the checks that fail.
func (r *ProjectReport) Mismatches() int { return mismatches(r.Checks) }

// OrganisationReport is what an organisation holds and what was retired by it or for it, from
// GET /organisations/{id}/credit_batches, with its balance (GET
// /organisations/{id}/credit_balance) checked against the sums. Every size is in kg.
type OrganisationReport struct {
	Organisation registry.Organisation              `json:"organisation"`
	Balance      registry.OrganisationCreditBalance `json:"balance"`
	// Held are the active batches it owns; Retired the retired batches it owns (it retired
	// them); RetiredFor the batches another owner retired with it as beneficiary; Other the
	// batches of a status the explorer does not know, shown and counted in no total.
	Held       []registry.CreditBatch `json:"held"`
	Retired    []registry.CreditBatch `json:"retired"`
	RetiredFor []registry.CreditBatch `json:"retired_for"`
	Other      []registry.CreditBatch `json:"other"`
	// HeldKg, RetiredKg and RetiredForKg sum the lists of the same names.
	HeldKg       int64 `json:"held_kg"`
	RetiredKg    int64 `json:"retired_kg"`
	RetiredForKg int64 `json:"retired_for_kg"`
	// Retirements group Retired and RetiredFor by retirement id, in first-seen order.
	Retirements []RetirementSum `json:"retirements"`
	// Checks compare the balance's active and retired totals with HeldKg and RetiredKg.
	Checks []TotalCheck `json:"checks"`
	// Pages is how many pages of the list were read.
	Pages     int       `json:"pages"`
	FetchedAt time.Time `json:"fetched_at"`
}

// Mismatches counts the checks that fail.
func (r *OrganisationReport) Mismatches() int { return mismatches(r.Checks) }

// RetirementSum is one retirement as an organisation's batches show it.
type RetirementSum struct {
	ID          string                `json:"id"` // "" for retired batches that name none
	Owner       registry.Organisation `json:"owner"`
	Beneficiary registry.Organisation `json:"beneficiary"`
	RetiredAt   registry.Timestamp    `json:"retired_at"` // the first batch's
	Batches     int                   `json:"batches"`
	Kg          int64                 `json:"kg"`
	// ByOrganisation is true when the organisation retired them (it owns them), false when
	// another owner retired them for it.
	ByOrganisation bool `json:"by_organisation"`
}

func mismatches(cs []TotalCheck) int {
	n := 0
	for _, c := range cs {
		if !c.OK() {
			n++
		}
	}
	return n
}

func (e *Explorer) directory() (DirectorySource, error) {
	d, ok := e.client.(DirectorySource)
	if !ok {
		return nil, ErrNoDirectory
	}
	return d, nil
}

// ProjectReport builds the report of project id (see ProjectReport): GET /projects/{id}, then
// every page of GET /suppliers/{id}/issuances of its supplier. Errors wrap ErrInvalid for a
// malformed id (nothing sent upstream), ErrNotFound for an unknown project, or the client's
// errors; a list whose cursors do not advance is ErrInvalid.
func (e *Explorer) ProjectReport(ctx context.Context, id string) (*ProjectReport, error) {
	if err := registry.ValidateID(registry.PrefixProject, id); err != nil {
		return nil, err
	}
	src, err := e.directory()
	if err != nil {
		return nil, err
	}
	p, err := src.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &ProjectReport{Project: *p, Issuances: []registry.Issuance{}, Checks: []TotalCheck{}, FetchedAt: time.Now().UTC()}
	spl := p.Supplier.ID
	if registry.ValidateID(registry.PrefixSupplier, spl) != nil {
		r.NoSupplier = true
		return r, nil
	}
	all, _, err := allPages(ctx, func(ctx context.Context, after string) (*registry.Page[registry.Issuance], error) {
		return src.SupplierIssuances(ctx, spl, registry.MaxPageSize, after)
	})
	if err != nil {
		return nil, err
	}
	r.SupplierIssuances = len(all)
	for _, iss := range all {
		if iss.ProjectID != id {
			continue
		}
		r.Issuances = append(r.Issuances, iss)
		r.SupplierKg += iss.SupplierCreditBatchSizeTotal.CreditKgs
		r.BufferKg += iss.BufferPoolCreditBatchSizeTotal.CreditKgs
		r.TotalKg += iss.CreditBatchSizeTotal.CreditKgs
	}
	r.Checks = append(r.Checks,
		TotalCheck{What: "credits issued to the project", StatedKg: p.IssuedCreditsTotal.CreditKgs, SummedKg: r.TotalKg, From: "GET /projects/{id} issued_credits_total"},
		TotalCheck{What: "credits issued to the buffer pool", StatedKg: p.IssuedBufferPoolCreditsTotal.CreditKgs, SummedKg: r.BufferKg, From: "GET /projects/{id} issued_buffer_pool_credits_total"})
	for _, iss := range r.Issuances {
		c := TotalCheck{What: "issuance " + iss.ID + ": supplier and buffer pool", StatedKg: iss.CreditBatchSizeTotal.CreditKgs,
			SummedKg: iss.SupplierCreditBatchSizeTotal.CreditKgs + iss.BufferPoolCreditBatchSizeTotal.CreditKgs, From: "credit_batch_size_total"}
		if !c.OK() {
			r.Checks = append(r.Checks, c)
		}
	}
	return r, nil
}

// OrganisationReport builds the report of organisation id (see OrganisationReport): GET
// /organisations/{id}, GET /organisations/{id}/credit_balance and every page of GET
// /organisations/{id}/credit_batches (the registry's default statuses: active and retired).
// Errors as ProjectReport's.
func (e *Explorer) OrganisationReport(ctx context.Context, id string) (*OrganisationReport, error) {
	if err := registry.ValidateID(registry.PrefixOrganisation, id); err != nil {
		return nil, err
	}
	src, err := e.directory()
	if err != nil {
		return nil, err
	}
	org, err := src.Organisation(ctx, id)
	if err != nil {
		return nil, err
	}
	bal, err := src.OrganisationCreditBalance(ctx, id)
	if err != nil {
		return nil, err
	}
	batches, pages, err := allPages(ctx, func(ctx context.Context, after string) (*registry.Page[registry.CreditBatch], error) {
		return src.OrganisationBatches(ctx, id, nil, registry.MaxPageSize, after)
	})
	if err != nil {
		return nil, err
	}
	r := &OrganisationReport{Organisation: *org, Balance: *bal, Pages: pages, FetchedAt: time.Now().UTC(),
		Held: []registry.CreditBatch{}, Retired: []registry.CreditBatch{}, RetiredFor: []registry.CreditBatch{},
		Other: []registry.CreditBatch{}, Retirements: []RetirementSum{}}
	seen := map[string]bool{}
	byRet := map[string]int{}
	for _, b := range batches {
		if seen[b.ID] {
			continue // a page boundary that moved under us lists a batch twice; count it once
		}
		seen[b.ID] = true
		owned := b.Owner.ID == id
		switch {
		case b.Status == registry.StatusActive && owned:
			r.Held = append(r.Held, b)
			r.HeldKg += b.Size.CreditKgs
			continue
		case b.Status == registry.StatusRetired && owned:
			r.Retired = append(r.Retired, b)
			r.RetiredKg += b.Size.CreditKgs
		case b.Status == registry.StatusRetired:
			r.RetiredFor = append(r.RetiredFor, b)
			r.RetiredForKg += b.Size.CreditKgs
		default:
			r.Other = append(r.Other, b)
			continue
		}
		k, ok := byRet[b.RetirementID]
		if !ok {
			k = len(r.Retirements)
			byRet[b.RetirementID] = k
			rs := RetirementSum{ID: b.RetirementID, Owner: b.Owner, RetiredAt: b.RetiredAt, ByOrganisation: owned}
			if b.Beneficiary != nil {
				rs.Beneficiary = *b.Beneficiary
			}
			r.Retirements = append(r.Retirements, rs)
		}
		r.Retirements[k].Batches++
		r.Retirements[k].Kg += b.Size.CreditKgs
	}
	r.Checks = []TotalCheck{
		{What: "active credits held", StatedKg: bal.Total.ActiveCreditsTotal.CreditKgs, SummedKg: r.HeldKg, From: "GET /organisations/{id}/credit_balance total.active_credits_total"},
		{What: "credits it retired", StatedKg: bal.Total.RetiredCreditsTotal.CreditKgs, SummedKg: r.RetiredKg, From: "GET /organisations/{id}/credit_balance total.retired_credits_total"},
	}
	return r, nil
}

// allPages reads every page of a Relay list, in order, and how many pages that took. It stops
// with an error (and no partial list) when a page fails, and with ErrInvalid when the cursors
// do not advance or the list runs past registry.MaxPages.
func allPages[T any](ctx context.Context, page func(context.Context, string) (*registry.Page[T], error)) ([]T, int, error) {
	var all []T
	after := ""
	for i := 1; i <= registry.MaxPages; i++ {
		p, err := page(ctx, after)
		if err != nil {
			return nil, i, err
		}
		all = append(all, p.Nodes...)
		if !p.PageInfo.HasNextPage {
			return all, i, nil
		}
		if p.PageInfo.EndCursor == "" || p.PageInfo.EndCursor == after {
			return nil, i, fmt.Errorf("%w: the registry's page cursor did not advance", registry.ErrInvalid)
		}
		after = p.PageInfo.EndCursor
	}
	return nil, registry.MaxPages, fmt.Errorf("%w: more than %d pages", registry.ErrInvalid, registry.MaxPages)
}
