package handlers

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

// badWording finds a possessive built onto a plural ("roots’s") and a count of one with a
// plural ("1 are", "1 batches"): slips a reader trips over on pages full of counts.
var badWording = regexp.MustCompile(`\b\w+s[’']s\b|(^|[^\d,.])1 (are|were|batches|splits|problems|trees|holders|descendants|things|children)\b|each of the 1 |\b0 splits below`)

// The demo's pages read correctly, whatever their counts.
func TestPagesWordCountsAndPossessivesCorrectly(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, p := range []string{"/", "/batches/" + a.fx.WideRoot, "/batches/" + a.fx.WideLeafDeep, "/batches/" + a.fx.DeepChainLeaf,
		"/batches/" + a.fx.SizeMismatch, "/batches/" + a.fx.OneChildSplit, "/batches/" + a.fx.BadStatus, "/batches/" + a.fx.ParentCycle,
		"/issuances/" + a.fx.Issuance, "/issuances/" + a.fx.PlantedIssuance, "/retirements/" + a.fx.Retirement, "/retirements/" + a.fx.HostileRetirement} {
		doc, _ := a.page(t, p, http.StatusOK)
		doc.Find("script, style").Remove()
		if m := badWording.FindString(text(doc.Find("body"))); m != "" {
			t.Errorf("%s: %q", p, m)
		}
		doc.Find("[title], [aria-label]").Each(func(_ int, s *goquery.Selection) {
			for _, attr := range []string{"title", "aria-label"} {
				if m := badWording.FindString(s.AttrOr(attr, "")); m != "" {
					t.Errorf("%s: %s %q", p, attr, m)
				}
			}
		})
		doc.Find("svg title").Each(func(_ int, s *goquery.Selection) {
			if m := badWording.FindString(s.Text()); m != "" {
				t.Errorf("%s: tooltip %q", p, m)
			}
		})
	}
	doc, _ := a.page(t, "/issuances/"+a.fx.Issuance, http.StatusOK)
	if got := text(doc.Find("[data-testid=check]")); !strings.Contains(got, "the roots’ ") {
		t.Errorf("issuance check %q does not name the roots’ total", got)
	}
}

// A demo retirement does not present the real registry's page as the record of made-up data.
func TestDemoRetirementDoesNotLinkTheRealRegistry(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/retirements/"+a.fx.Retirement, http.StatusOK)
	if n := doc.Find("a[href*='isometric.com']").Length(); n != 0 {
		t.Errorf("%d links to the real registry on a demo retirement", n)
	}
	if got := text(doc.Find("[data-testid=public-record]")); !strings.Contains(got, "demo data") {
		t.Errorf("public record field %q", got)
	}
}

// The technical details of a failed upstream call name the call as it was made, with its id,
// not the client's route template.
func TestErrorDetailsNameTheUpstreamCall(t *testing.T) {
	fast := func(c *isometric.ClientConfig) { c.MaxAttempts = 2; c.Timeout = 200 * time.Millisecond }
	a := newApp(t, appOptions{clientTweak: fast})
	a.reg.SetOptions(optionsWithFaults(1))
	// A report fetches its record and its batches at once: either call may be the one that
	// failed, and the details name whichever it was.
	for path, want := range map[string]*regexp.Regexp{
		"/batches/" + a.fx.WideRoot:       regexp.MustCompile(`GET /credit_batches/` + a.fx.WideRoot + `: the registry`),
		"/issuances/" + a.fx.Issuance:     regexp.MustCompile(`GET /issuances/` + a.fx.Issuance + `(/credit_batches)?: the registry`),
		"/retirements/" + a.fx.Retirement: regexp.MustCompile(`GET /retirements/` + a.fx.Retirement + `(/credit_batches)?: the registry`),
	} {
		doc, r := a.page(t, path, http.StatusBadGateway)
		got := text(doc.Find("details.tech pre"))
		if !want.MatchString(got) || strings.Contains(got, "{id}") {
			t.Errorf("%s: details %q, want them to match %s", path, got, want)
		}
		if strings.Contains(r.body, demo.AccessToken) || strings.Contains(r.body, demo.ClientSecret) {
			t.Errorf("%s: a credential reached the page", path)
		}
	}
}

// A retired batch that names no beneficiary is not shown as retired for its owner: the record
// does not say for whom (the audit flags it), and the tree row and chart say so.
func TestRetiredWithoutBeneficiaryIsNotRetiredForItsOwner(t *testing.T) {
	a := newApp(t, appOptions{})
	tree, err := a.explorer.StartLineage(a.fx.BadStatus, false).Result()
	if err != nil {
		t.Fatal(err)
	}
	var id, owner string
	for _, n := range tree.Nodes {
		if b := n.Batch; b != nil && b.Status == registry.StatusRetired && b.Beneficiary == nil {
			id, owner = n.ID, b.Owner.Name
		}
	}
	if id == "" {
		t.Fatal("the BadStatus tree has no retired batch without a beneficiary")
	}
	doc, _ := a.page(t, "/batches/"+a.fx.BadStatus, http.StatusOK)
	row := doc.Find("ul.tree a[href$='/batches/" + id + "']").First().Closest("li").Find(".ho").First()
	if got := text(row); got != "retired by "+owner+" (no beneficiary named)" {
		t.Errorf("row of %s says %q", id, got)
	}
	doc.Find("svg title").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), id) && strings.Contains(s.Text(), "retired for") {
			t.Errorf("chart tooltip of %s: %q", id, s.Text())
		}
		if strings.Contains(s.Text(), "retired, retired") {
			t.Errorf("chart tooltip stutters: %q", s.Text())
		}
	})
	// Its own page does not say "not retired" of a batch whose status is retired.
	own, _ := a.page(t, "/batches/"+id, http.StatusOK)
	if body := text(own.Find("main")); strings.Contains(body, "not retired") || !strings.Contains(body, "none recorded") {
		t.Errorf("the header of retired %s contradicts its status: %q", id, head(body, 400))
	}
}
