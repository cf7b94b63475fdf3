package views

import (
	"strings"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

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

// holderRow is one owner's line of a report's holder table, its share of total kg.
func holderRow(h lineage.HolderKg, total int64) IssuanceHolderRow {
	row := IssuanceHolderRow{Holder: orgView(h.Holder), Active: amount(h.ActiveKg), Retired: amount(h.RetiredKg),
		Other: amount(h.OtherKg), Share: FormatShare(h.ActiveKg+h.RetiredKg+h.OtherKg, total), Batches: FormatCount(h.Batches)}
	row.Trees, row.MoreTrees = links(h.Trees, maxRowLinks, BatchURL)
	return row
}

// beneficiaryRow is one beneficiary's line of a report's beneficiary table, its share of total kg.
func beneficiaryRow(b lineage.BeneficiaryKg, total int64) BeneficiaryRow {
	row := BeneficiaryRow{None: b.Beneficiary == nil, Retired: amount(b.RetiredKg),
		Share: FormatShare(b.RetiredKg, total), Batches: FormatCount(b.Batches)}
	if b.Beneficiary != nil {
		row.Beneficiary = orgView(*b.Beneficiary)
	}
	row.Trees, row.MoreTrees = links(b.Trees, maxRowLinks, BatchURL)
	return row
}
