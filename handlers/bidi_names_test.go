package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// Issue 14, point 9: a name from the registry is isolated wherever a page shows it (<bdi> or
// dir="auto" in HTML; the Unicode isolates in plain text such as the chart's tooltips and SVG
// labels), so that its right-to-left characters, an override mark included, cannot reorder
// what follows it; a genuine right-to-left name keeps its own direction.

const (
	overrideName = "Nordic Sinks \u202eAB" // RIGHT-TO-LEFT OVERRIDE: would reverse the id after it
	hebrewName   = "אדמה ירוקה"            // a genuine right-to-left name
)

// nameEveryOrganisation gives every organisation the registry sends one of the two names.
func nameEveryOrganisation(rec map[string]any) {
	id, _ := rec["id"].(string)
	if !strings.HasPrefix(id, "org_") {
		return
	}
	if id[len(id)-1]%2 == 0 {
		rec["name"] = overrideName
	} else {
		rec["name"] = hebrewName
	}
}

// checkIsolated fails on any text or attribute of a page holding one of the names outside an
// isolate: an element <bdi> or with dir="auto" (never with dir="ltr" or "rtl" forced on it),
// or, in plain text (an SVG title or text, an attribute), the Unicode isolates around it. It
// returns how many times each name was seen.
func checkIsolated(t *testing.T, path string, doc *goquery.Document) map[string]int {
	t.Helper()
	seen := map[string]int{}
	inIsolates := func(s, name string) bool {
		for rest := s; ; {
			i := strings.Index(rest, name)
			if i < 0 {
				return true
			}
			if !strings.HasSuffix(rest[:i], "\u2068") || !strings.HasPrefix(rest[i+len(name):], "\u2069") {
				return false
			}
			rest = rest[i+len(name):]
		}
	}
	all := doc.Find("*")
	all.Contents().Each(func(_ int, s *goquery.Selection) {
		if goquery.NodeName(s) != "#text" {
			return
		}
		txt := s.Nodes[0].Data
		for _, name := range []string{overrideName, hebrewName} {
			if !strings.Contains(txt, name) {
				continue
			}
			seen[name]++
			iso := s.ParentsFiltered("bdi, [dir=auto]").First()
			if iso.Length() == 0 && !inIsolates(txt, name) {
				t.Errorf("%s: %q is not isolated in %q (inside <%s>)", path, name, txt, goquery.NodeName(s.Parent()))
			}
			if d, ok := iso.Attr("dir"); ok && d != "auto" {
				t.Errorf("%s: %q is forced into dir=%q", path, name, d)
			}
			if goquery.NodeName(s.Parent()) == "bdi" && strings.TrimSpace(txt) != name {
				t.Errorf("%s: the <bdi> holds more than the name: %q", path, txt)
			}
		}
	})
	all.Each(func(_ int, s *goquery.Selection) {
		for _, at := range s.Nodes[0].Attr {
			for _, name := range []string{overrideName, hebrewName} {
				if strings.Contains(at.Val, name) {
					seen[name]++
					if !inIsolates(at.Val, name) {
						t.Errorf("%s: attribute %s of <%s> holds %q without isolates", path, at.Key, goquery.NodeName(s), name)
					}
				}
			}
		}
	})
	return seen
}

func TestRegistryNamesAreIsolatedOnEveryPage(t *testing.T) {
	a := newApp(t, appOptions{upstream: func(h http.Handler) http.Handler {
		return demo.EditRecords(h, nameEveryOrganisation)
	}})
	for _, path := range []string{
		"/batches/" + a.fx.WideRoot, // holders table, tree rows, chart bars and tooltips
		"/batches/" + a.fx.WideLeafDeep,
		"/issuances/" + a.fx.Issuance,
		"/retirements/" + a.fx.Retirement,
	} {
		doc, _ := a.page(t, path, http.StatusOK)
		seen := checkIsolated(t, path, doc)
		if seen[overrideName]+seen[hebrewName] == 0 {
			t.Errorf("%s: no organisation name shown: the test checks nothing", path)
		}
	}
	// In the chart's SVG, the holder's name is in its own isolated tspan.
	doc, _ := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusOK)
	if doc.Find("svg text tspan.bidi").Length() == 0 {
		t.Error("no chart label isolates its holder's name")
	}
}
