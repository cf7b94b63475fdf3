package views

import (
	"net/url"

	"github.com/lineage-explorer/explorer/registry/claims"
)

// ClaimsURL is the claims check's form; with sample it comes filled with the demo's sample list.
func ClaimsURL(sample bool) string {
	if sample {
		return "/claims?sample=1"
	}
	return "/claims"
}

// ClaimsResultURL is the page of one checked list (its permalink while it is kept), filtered
// by verdict when verdict is not "".
func ClaimsResultURL(id, verdict string) string {
	u := "/claims/" + url.PathEscape(id)
	if verdict != "" {
		u += "?verdict=" + url.QueryEscape(verdict)
	}
	return u
}

// ClaimsDownloadURL is a checked list's results as "csv" or "json", only the rows of verdict
// when it is not "".
func ClaimsDownloadURL(id, format, verdict string) string {
	u := "/claims/" + url.PathEscape(id) + "/results." + format
	if verdict != "" {
		u += "?verdict=" + url.QueryEscape(verdict)
	}
	return u
}

// ClaimsForm is the claims check's form: a text area for a paste, a file upload, and what went
// wrong with the last list sent (Error, with the text kept so that nothing is lost).
type ClaimsForm struct {
	Base
	Text      string // pre-fills the text area (untrusted; rendered escaped)
	Error     string // why the last list was refused, our own words; "" when none
	MaxRows   string // the row limit, formatted
	MaxBytes  string // the byte limit, formatted
	HasSample bool   // the demo's sample list can be loaded
	// MaxUnzipped and MaxCells are an XLSX workbook's limits, formatted.
	MaxUnzipped, MaxCells string
}

// ClaimsProgress is shown while a list is being checked; it refreshes itself.
type ClaimsProgress struct {
	Base
	Checked, Total int
}

// Percent is how far the check has got, 0–100.
func (p ClaimsProgress) Percent() int {
	if p.Total == 0 {
		return 100
	}
	return p.Checked * 100 / p.Total
}

// VerdictCount is one verdict's count at the top of a results page, linking to the rows that
// have it.
type VerdictCount struct {
	Code, Label string
	Count       int
	URL         string
	Active      bool // the page is filtered on it
}

// ClaimLink is a link from a row to the registry's records: a batch, a tree, a retirement.
type ClaimLink struct{ Label, URL string }

// ClaimRow is one row of a results page.
type ClaimRow struct {
	Row      int
	Text     string // the row as the user wrote it (untrusted; rendered escaped)
	Verdict  string // its code, for the badge's class and tools
	Label    string
	Findings []string
	Links    []ClaimLink
	More     int // covering batches not linked
	Covered  int // the batches that cover the claim, all of them
}

// ClaimsResults is a checked list.
type ClaimsResults struct {
	Base
	ID       string
	Total    int
	Shown    int
	Counts   []VerdictCount
	Filter   string // the verdict the table is filtered on, "" for all
	AllURL   string
	Rows     []ClaimRow
	CSVURL   string
	JSONURL  string
	Took     string
	Checked  string // when, UTC
	Verified int
}

var verdictLabels = map[claims.Code]string{
	claims.Verified:        "Verified",
	claims.Malformed:       "Malformed",
	claims.NotFound:        "Not found",
	claims.NotRetired:      "Not retired",
	claims.PartlyRetired:   "Partly retired",
	claims.RetiredForOther: "Retired for another",
	claims.KgMismatch:      "Kg mismatch",
	claims.DateMismatch:    "Date mismatch",
	claims.DoubleClaimed:   "Claimed twice",
	claims.TreeProblem:     "Tree problem",
	claims.Unchecked:       "Unchecked",
}

// VerdictLabel is a verdict in words.
func VerdictLabel(c claims.Code) string {
	if l, ok := verdictLabels[c]; ok {
		return l
	}
	return string(c)
}

// maxLinkedBatches bounds the batch links of one row; the rest are counted.
const maxLinkedBatches = 6

// NewClaimsResults builds the results page of report, filtered on verdict ("" for every row).
func NewClaimsResults(b Base, id string, list *claims.List, rep *claims.Report, verdict string) ClaimsResults {
	p := ClaimsResults{Base: b, ID: id, Total: len(rep.Results), Filter: verdict, AllURL: ClaimsResultURL(id, ""),
		CSVURL: ClaimsDownloadURL(id, "csv", verdict), JSONURL: ClaimsDownloadURL(id, "json", verdict),
		Took: rep.Took.Round(1e6).String(), Checked: rep.Started.UTC().Format("2006-01-02 15:04 UTC"), Verified: rep.Counts[claims.Verified]}
	for _, c := range claims.Codes {
		if n := rep.Counts[c]; n > 0 || c == claims.Verified {
			p.Counts = append(p.Counts, VerdictCount{Code: string(c), Label: VerdictLabel(c), Count: n, URL: ClaimsResultURL(id, string(c)), Active: verdict == string(c)})
		}
	}
	sep := list.Sep
	if sep == "\t" {
		sep = "  "
	}
	for _, r := range rep.Results {
		if verdict != "" && string(r.Verdict) != verdict {
			continue
		}
		row := ClaimRow{Row: r.Claim.Row, Text: r.Claim.Text(sep), Verdict: string(r.Verdict), Label: VerdictLabel(r.Verdict)}
		for _, f := range r.Findings {
			row.Findings = append(row.Findings, f.Text)
		}
		if r.TreeOf != "" {
			row.Links = append(row.Links, ClaimLink{Label: "tree", URL: BatchURL(r.TreeOf)})
		}
		for i, cb := range r.Batches {
			if i == maxLinkedBatches {
				break
			}
			row.Links = append(row.Links, ClaimLink{Label: cb.ID, URL: BatchURL(cb.ID)})
		}
		row.More = r.CoverCount - min(len(r.Batches), maxLinkedBatches)
		row.Covered = r.CoverCount
		for _, ret := range r.Retirements {
			row.Links = append(row.Links, ClaimLink{Label: ret, URL: RetirementURL(ret)})
		}
		p.Rows = append(p.Rows, row)
	}
	p.Shown = len(p.Rows)
	return p
}
