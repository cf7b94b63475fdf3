package views

import (
	"time"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

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
