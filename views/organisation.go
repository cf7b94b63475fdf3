package views

import (
	"time"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// OrganisationPage is what an organisation holds and what was retired by it or for it.
type OrganisationPage struct {
	Base
	ID, Name, Domain string // upstream text, rendered escaped
	// Held is the holdings table, sorted as asked (?sort=).
	Held        BatchTable
	HeldKg      Amount
	Retirements []OrgRetirementView
	RetiredKg   Amount // retired by it
	RetiredFor  Amount // retired for it by others
	Other       []BatchRowView
	Checks      []CheckView
	Mismatches  int
	Pages       int
	JSONURL     string
	FetchedAt   string
}

// OrgRetirementView is one retirement as an organisation's batches show it.
type OrgRetirementView struct {
	ID, URL        string
	ByOrganisation bool    // it retired them; otherwise they were retired for it
	Other          OrgView // the beneficiary (ByOrganisation) or the owner who retired them
	OtherURL       string
	RetiredAt      string
	Batches        int
	Size           Amount
}

// NewOrganisationPage builds the organisation page from its report; sort orders the holdings
// table (see SortBatchTable).
func NewOrganisationPage(base Base, r *lineage.OrganisationReport, sort string) OrganisationPage {
	o := r.Organisation
	p := OrganisationPage{Base: base, ID: o.ID, Name: o.Name, Domain: o.Domain, HeldKg: amount(r.HeldKg),
		RetiredKg: amount(r.RetiredKg), RetiredFor: amount(r.RetiredForKg), Checks: checkViews(r.Checks, "its batches"),
		Mismatches: r.Mismatches(), Pages: r.Pages, JSONURL: OrganisationJSONURL(o.ID),
		FetchedAt: r.FetchedAt.Format(time.DateTime + " UTC")}
	rows := make([]BatchRowView, 0, len(r.Held))
	for _, b := range r.Held {
		rows = append(rows, batchRowView(b, nil))
	}
	p.Held = NewBatchTable(rows, OrganisationURL(o.ID), sort)
	for _, b := range r.Other {
		p.Other = append(p.Other, batchRowView(b, nil))
	}
	for _, s := range r.Retirements {
		v := OrgRetirementView{ID: s.ID, URL: retirementHref(s.ID), ByOrganisation: s.ByOrganisation,
			RetiredAt: FormatTime(s.RetiredAt.Time), Batches: s.Batches, Size: amount(s.Kg)}
		other := s.Owner
		if s.ByOrganisation {
			other = s.Beneficiary
		}
		v.Other, v.OtherURL = orgView(other), orgHref(other.ID)
		p.Retirements = append(p.Retirements, v)
	}
	return p
}
