package views

import (
	"net/url"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

// BatchURL is the canonical page of a credit batch.
func BatchURL(id string) string { return "/batches/" + url.PathEscape(id) }

// NodeAnchor is the fragment id of a batch's row in the tree of a lineage page.
func NodeAnchor(id string) string { return "n-" + id }

// SubtreeURL is the HTML fragment with the children of node in the lineage tree of the batch
// target (the tree the page showed), fetched when a collapsed subtree is opened.
func SubtreeURL(target, node string) string {
	return "/batches/" + url.PathEscape(target) + "/subtree/" + url.PathEscape(node)
}

// SerialURL is the canonical page of a serial number.
func SerialURL(serial string) string { return "/serial/" + url.PathEscape(serial) }

// SearchURL is the search route with a query.
func SearchURL(q string) string { return "/search?q=" + url.QueryEscape(q) }

// RetryURL is the lineage page of a batch that walks the tree again instead of reusing a walk
// that has just failed.
func RetryURL(id string) string { return BatchURL(id) + "?retry=1" }

// LineageJSONURL is the lineage of a batch as JSON, for tools.
func LineageJSONURL(id string) string { return "/api/v1/batches/" + url.PathEscape(id) + "/lineage" }

// HistoryJSONURL is the observed history of a batch as JSON (?since=YYYY-MM-DD narrows it).
func HistoryJSONURL(id string) string { return "/api/v1/batches/" + url.PathEscape(id) + "/history" }

// LineageCSVURL is the lineage of a batch as CSV, one row per batch, for spreadsheets.
func LineageCSVURL(id string) string { return BatchURL(id) + "/lineage.csv" }

// IssuanceURL is the canonical page of an issuance.
func IssuanceURL(id string) string { return "/issuances/" + url.PathEscape(id) }

// RetirementURL is the canonical page of a retirement.
func RetirementURL(id string) string { return "/retirements/" + url.PathEscape(id) }

// IssuanceRetryURL builds an issuance's page again instead of reusing a report that has just
// failed (or left trees unfetched).
func IssuanceRetryURL(id string) string { return IssuanceURL(id) + "?retry=1" }

// RetirementRetryURL builds a retirement's page again instead of reusing a report that has
// just failed (or left paths unfollowed).
func RetirementRetryURL(id string) string { return RetirementURL(id) + "?retry=1" }

// BatchWithinURL is the lineage page of the batch a serial number's range was found inside:
// the page then says that the serial asked for is not the batch's own.
func BatchWithinURL(id, serial string) string {
	return BatchURL(id) + "?serial=" + url.QueryEscape(serial)
}

// ExampleURL is the page of a home-page example: an issuance, a retirement, a serial number
// or (the default) a credit batch.
func ExampleURL(e Example) string {
	switch {
	case strings.HasPrefix(e.ID, registry.PrefixIssuance+"_"):
		return IssuanceURL(e.ID)
	case strings.HasPrefix(e.ID, registry.PrefixRetirement+"_"):
		return RetirementURL(e.ID)
	case strings.HasPrefix(e.ID, registry.PrefixCreditBatch+"_"):
		return BatchURL(e.ID)
	}
	return SerialURL(e.ID)
}

// httpURL returns u when it is an absolute http(s) URL (an upstream link worth offering),
// else "".
func httpURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return p.String()
}

// issuanceHref is the page of an issuance id taken from a batch, or "" when the id is not
// well formed (upstream text is never turned into a link as is).
func issuanceHref(id string) string {
	if registry.ValidateID(registry.PrefixIssuance, id) != nil {
		return ""
	}
	return IssuanceURL(id)
}

// retirementHref is the page of a retirement id taken from a batch, or "" when the id is not
// well formed.
func retirementHref(id string) string {
	if registry.ValidateID(registry.PrefixRetirement, id) != nil {
		return ""
	}
	return RetirementURL(id)
}

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
