package views

import (
	"net/url"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// ProjectURL is the canonical page of a project.
func ProjectURL(id string) string { return "/projects/" + url.PathEscape(id) }

// OrganisationURL is the canonical page of an organisation.
func OrganisationURL(id string) string { return "/organisations/" + url.PathEscape(id) }

// ProjectJSONURL and OrganisationJSONURL are the pages' data as JSON, for tools.
func ProjectJSONURL(id string) string { return "/api/v1" + ProjectURL(id) }

// OrganisationJSONURL is the organisation page's data as JSON, for tools.
func OrganisationJSONURL(id string) string { return "/api/v1" + OrganisationURL(id) }

// IssuanceCSVURL is an issuance's report as CSV, one row per root batch.
func IssuanceCSVURL(id string) string { return IssuanceURL(id) + "/issuance.csv" }

// IssuanceJSONURL is an issuance's report as JSON, for tools.
func IssuanceJSONURL(id string) string { return "/api/v1" + IssuanceURL(id) }

// RetirementCSVURL is a retirement's report as CSV, one row per batch it retired.
func RetirementCSVURL(id string) string { return RetirementURL(id) + "/retirement.csv" }

// RetirementJSONURL is a retirement's report as JSON, for tools.
func RetirementJSONURL(id string) string { return "/api/v1" + RetirementURL(id) }

// projectHref is the page of a project id taken from upstream data, or "" when the id is not
// well formed (it is then shown unlinked).
func projectHref(id string) string {
	if registry.ValidateID(registry.PrefixProject, id) != nil {
		return ""
	}
	return ProjectURL(id)
}

// orgHref is the page of an organisation id taken from upstream data, or "" when the id is not
// well formed.
func orgHref(id string) string {
	if registry.ValidateID(registry.PrefixOrganisation, id) != nil {
		return ""
	}
	return OrganisationURL(id)
}

// CheckView is one total compared with its parts, in words.
type CheckView struct {
	State string // "ok" or "bad"
	What  string // what is compared
	From  string // the registry field the stated total comes from
	Text  string // the comparison in words, exact kg
}

func checkViews(cs []lineage.TotalCheck, parts string) []CheckView {
	out := make([]CheckView, 0, len(cs))
	for _, c := range cs {
		ch := checkSum(c.SummedKg, c.StatedKg, 0, parts, "the registry’s stated")
		out = append(out, CheckView{State: ch.State, What: c.What, From: c.From, Text: ch.Text})
	}
	return out
}

// ProjectPage is a project with its issuances and their totals.
type ProjectPage struct {
	Base
	ID, Name, ShortCode, Status, Country, Pathway string // upstream text, rendered escaped
	Supplier                                      OrgView
	SupplierID                                    string
	Issued, IssuedBuffer, Retired, RetiredBuffer  Amount // the project's own totals
	Issuances                                     []ProjectIssuanceView
	SupplierSum, BufferSum, TotalSum              Amount // the issuances' sums
	Checks                                        []CheckView
	Mismatches                                    int
	NoSupplier                                    bool
	SupplierIssuances                             int
	JSONURL                                       string
	FetchedAt                                     string
}

// ProjectIssuanceView is one issuance of a project.
type ProjectIssuanceView struct {
	ID, URL                 string
	IssuedAt                string
	Period                  string // "2024-01-01 – 2024-03-31"
	Supplier, Buffer, Total Amount
}

// NewProjectPage builds the project page from its report.
func NewProjectPage(base Base, r *lineage.ProjectReport) ProjectPage {
	pr := r.Project
	p := ProjectPage{Base: base, ID: pr.ID, Name: pr.Name, ShortCode: pr.ShortCode, Status: pr.Status,
		Country: pr.CountryCode, Pathway: pr.Pathway, Supplier: orgView(pr.Supplier.Organisation), SupplierID: pr.Supplier.ID,
		Issued: amount(pr.IssuedCreditsTotal.CreditKgs), IssuedBuffer: amount(pr.IssuedBufferPoolCreditsTotal.CreditKgs),
		Retired: amount(pr.RetiredCreditsTotal.CreditKgs), RetiredBuffer: amount(pr.RetiredBufferPoolCreditsTotal.CreditKgs),
		SupplierSum: amount(r.SupplierKg), BufferSum: amount(r.BufferKg), TotalSum: amount(r.TotalKg),
		Checks: checkViews(r.Checks, "its issuances"), Mismatches: r.Mismatches(), NoSupplier: r.NoSupplier,
		SupplierIssuances: r.SupplierIssuances, JSONURL: ProjectJSONURL(pr.ID), FetchedAt: r.FetchedAt.Format(time.DateTime + " UTC")}
	for _, iss := range r.Issuances {
		v := ProjectIssuanceView{ID: iss.ID, URL: issuanceHref(iss.ID), IssuedAt: FormatTime(iss.IssuedAt.Time),
			Supplier: amount(iss.SupplierCreditBatchSizeTotal.CreditKgs), Buffer: amount(iss.BufferPoolCreditBatchSizeTotal.CreditKgs),
			Total: amount(iss.CreditBatchSizeTotal.CreditKgs)}
		if s, e := iss.ReportingPeriodStartAt.String(), iss.ReportingPeriodEndAt.String(); s != "" || e != "" {
			v.Period = s + " – " + e
		}
		p.Issuances = append(p.Issuances, v)
	}
	return p
}

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
