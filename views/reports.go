package views

import (
	"net/url"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
)

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

// Amount is a size in kg, display-ready both ways.
type Amount struct {
	Credits string // credits with three decimals, exact: "12.446"
	Kg      string // kg with thousands separators, exact: "12,446"
}

func amount(kg int64) Amount { return Amount{Credits: FormatCredits(kg), Kg: FormatKg(kg)} }

// Check is a line saying whether figures add up.
type Check struct {
	State string // "ok", "bad" or "unknown"
	Text  string
}

// checkSum compares what was found (got) with what was expected (want), both in kg, in words.
// missing is how many batches could not be seen, which leaves the comparison unknown. whose is
// the possessive of what want belongs to ("the root’s", "the roots’"), given whole by the caller
// because a plural takes no extra s.
func checkSum(got, want int64, missing int, what, whose string) Check {
	switch {
	case missing > 0:
		return Check{"unknown", "Cannot be checked: " + FormatCount(missing) + " " + plural(missing, "batch is", "batches are") + " missing."}
	case got == want:
		return Check{"ok", "Adds up: " + what + " hold " + whose + " " + FormatKg(want) + " kg exactly."}
	}
	diff, word := got-want, "more"
	if diff < 0 {
		diff, word = -diff, "less"
	}
	return Check{"bad", "Does not add up: " + what + " hold " + FormatKg(diff) + " kg " + word + " than " + whose + " " + FormatKg(want) + " kg."}
}

// Link is a link to one page, labelled with an id.
type Link struct {
	ID  string
	URL string
}

// links makes at most max links to the pages of ids (url picks the page), and says how many
// more there are.
func links(ids []string, max int, page func(string) string) ([]Link, int) {
	var out []Link
	for i, id := range ids {
		if i == max {
			return out, len(ids) - max
		}
		l := Link{ID: id}
		if !strings.ContainsAny(id, "/?#") {
			l.URL = page(id)
		}
		out = append(out, l)
	}
	return out, 0
}

// HeadingText is the progress page's heading before the id.
func (p ProgressPage) HeadingText() string {
	if p.Heading != "" {
		return p.Heading
	}
	return "Tracing the lineage of"
}

// PageURL is the page the progress page stands for (its "Refresh now" link).
func (p ProgressPage) PageURL() string {
	if p.URL != "" {
		return p.URL
	}
	return BatchURL(p.ID)
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

// checkWord is a check's state in a word or two, for a table cell (the full text is its title).
func checkWord(state string) string {
	switch state {
	case "ok":
		return "adds up"
	case "bad":
		return "does not add up"
	}
	return "not checked"
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
