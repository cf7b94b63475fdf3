package handlers

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// searchAction is what a search does: redirect to one page, or show a page with a status.
type searchAction struct {
	redirect string
	status   int
	outcome  views.SearchOutcome
	choices  []views.Choice
	dropped  []views.Dropped
}

var kindLabel = map[targetKind]string{
	targetBatch:        "credit batch",
	targetSerial:       "serial number",
	targetIssuance:     "issuance",
	targetRetirement:   "retirement",
	targetProject:      "project",
	targetOrganisation: "organisation",
}

// decideSearch turns a query into what to do. It is pure: nothing is fetched to decide.
func decideSearch(q string) searchAction {
	targets, drops := parseQueryExplained(q)
	dropped := make([]views.Dropped, 0, len(drops))
	for _, d := range drops {
		dropped = append(dropped, views.Dropped{Text: d.text, Kind: d.kind, Why: d.why})
	}
	choices := make([]views.Choice, 0, len(targets))
	for _, t := range targets {
		c := views.Choice{Kind: kindLabel[t.kind], Value: t.value}
		switch t.kind {
		case targetBatch:
			c.URL = views.BatchURL(t.value)
		case targetSerial:
			c.URL = views.SerialURL(t.value)
		case targetIssuance:
			c.URL = views.IssuanceURL(t.value)
		case targetRetirement:
			c.URL = views.RetirementURL(t.value)
		case targetProject:
			c.URL = views.ProjectURL(t.value)
		case targetOrganisation:
			c.URL = views.OrganisationURL(t.value)
		}
		choices = append(choices, c)
	}
	switch {
	case len(targets) == 0 && len(q) == 0:
		return searchAction{status: http.StatusBadRequest, outcome: views.SearchEmpty}
	case len(targets) == 0 && len(dropped) > 0:
		return searchAction{status: http.StatusBadRequest, outcome: views.SearchInvalid, dropped: dropped}
	case len(targets) == 0:
		return searchAction{status: http.StatusBadRequest, outcome: views.SearchUnrecognised}
	case len(targets) > 1 || len(dropped) > 0:
		// With pieces left out, even one target is shown rather than redirected to, so that
		// the reader sees what was dropped and why.
		return searchAction{status: http.StatusOK, outcome: views.SearchSeveral, choices: choices, dropped: dropped}
	}
	return searchAction{redirect: choices[0].URL}
}

// search is GET /search?q=: it redirects (303) to the page of what the query names.
func (s *server) search(c *gin.Context) error {
	q := c.Query("q")
	a := decideSearch(trimQuery(q))
	if a.redirect != "" {
		if to, ok := s.keepDays(c, a.redirect); ok {
			c.Redirect(http.StatusSeeOther, to)
		}
		return nil
	}
	p := views.SearchPage{Base: s.base("Search"), Outcome: a.outcome, Choices: a.choices, Dropped: a.dropped,
		ExampleID: registry.ExampleID(registry.PrefixCreditBatch), ExampleSerial: registry.ExampleSerial}
	p.Query = trimQuery(q)
	if a.outcome == views.SearchUnrecognised || a.outcome == views.SearchInvalid {
		p.OtherDigits = registry.OtherDigits(p.Query)
		// Said once: a dropped serial's reason may already name the digits.
		for _, d := range a.dropped {
			if p.OtherDigits != "" && strings.Contains(d.Why, p.OtherDigits) {
				p.OtherDigits = ""
			}
		}
	}
	p.Cut, p.CutAt = len(strings.TrimFunc(q, isSpace)) > maxQueryLen, maxQueryLen
	// The heading echoes it cut short; runs of spaces, tabs and newlines (pasted from a
	// spreadsheet) become one space first, as the page would show them, rather than the
	// replacement marks shown() puts for control characters.
	p.Shown = shown(strings.Join(strings.FieldsFunc(p.Query, isSpace), " "))
	s.render(c, a.status, views.Search(p))
	return nil
}

// trimQuery is the query as the user meant it: without surrounding spaces, and not longer
// than anything the parser would read.
func trimQuery(q string) string {
	q = strings.TrimFunc(q, isSpace)
	if len(q) > maxQueryLen {
		q = strings.ToValidUTF8(q[:maxQueryLen], "")
	}
	return q
}

// isSpace is what separates or surrounds pasted values, zero-width ones included (they come
// along when copying from web pages).
func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }
