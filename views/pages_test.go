package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// render renders a component for real and parses it as a browser would.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func squash(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func TestHomeRegistryNotice(t *testing.T) {
	for _, tc := range []struct {
		state RegistryState
		says  string // "" for no notice
	}{
		{RegistryOK, ""},
		{RegistryCredentials, "not accepting this explorer’s credentials"},
		{RegistryThrottled, "asking for fewer requests"},
		{RegistryUnreachable, "could not be reached"},
	} {
		doc := render(t, Home(HomePage{Base: Base{Title: "Search"}, Registry: tc.state}))
		n := doc.Find("[data-testid=registry-notice]")
		if tc.says == "" {
			if n.Length() != 0 {
				t.Errorf("state %d: unexpected notice %q", tc.state, squash(n))
			}
			continue
		}
		if n.Length() != 1 || !strings.Contains(squash(n), tc.says) {
			t.Errorf("state %d: notice %q, want one saying %q", tc.state, squash(n), tc.says)
		}
		if n.AttrOr("role", "") != "status" {
			t.Errorf("state %d: notice role %q, want a calm status", tc.state, n.AttrOr("role", ""))
		}
	}
}

func TestHomeShapesAndDemoExamples(t *testing.T) {
	const batch, iss, ret, serial = "ctb_1XXXXXXXXXXXXXXX", "iss_1XXXXXXXXXXXXXXX", "ret_1XXXXXXXXXXXXXXX", "ISO-1-BSTORE-GBR-F5X7-2024-1-2"
	examples := []Example{{Label: "b", ID: batch}, {Label: "i", ID: iss}, {Label: "r", ID: ret}, {Label: "s", ID: serial}}
	p := HomePage{Base: Base{Title: "Search", Demo: true}, ExampleID: registry.ExampleID(registry.PrefixCreditBatch),
		ExampleSerial: registry.ExampleSerial, Examples: examples}
	doc := render(t, Home(p))
	dds := doc.Find("[data-testid=shapes] dd")
	for i, want := range []string{batch, serial, iss, ret} {
		dd := dds.Eq(i)
		if !strings.HasPrefix(squash(dd), "looks like ") && !strings.HasPrefix(squash(dd), "any URL") {
			t.Errorf("hint %d %q does not say the value only looks like one", i, squash(dd))
		}
		a := dd.Find("[data-testid=try] a")
		if squash(a) != want || a.AttrOr("href", "") != SearchURL(want) {
			t.Errorf("hint %d offers %q -> %q, want %s", i, squash(a), a.AttrOr("href", ""), want)
		}
	}
	if !strings.Contains(squash(doc.Find("[data-testid=shapes-note]")), "made up") {
		t.Error("the page does not say the shapes are made up")
	}

	// Off the demo there is nothing real to offer, and the shapes are still labelled.
	p.Demo, p.Examples = false, nil
	doc = render(t, Home(p))
	if n := doc.Find("[data-testid=try]").Length(); n != 0 {
		t.Errorf("%d demo examples offered off the demo", n)
	}
	if !strings.Contains(squash(doc.Find("[data-testid=shapes] dd").First()), "looks like "+p.ExampleID) {
		t.Error("the batch id shape is not labelled")
	}
}

func TestSearchHintsSayTheShapesAreMadeUp(t *testing.T) {
	for _, demo := range []bool{false, true} {
		doc := render(t, Search(SearchPage{Base: Base{Title: "Search", Demo: demo}, Outcome: SearchEmpty,
			ExampleID: registry.ExampleID(registry.PrefixCreditBatch), ExampleSerial: registry.ExampleSerial}))
		note := doc.Find("[data-testid=shapes-note]")
		if !strings.Contains(squash(note), "made up") {
			t.Errorf("demo %v: note %q", demo, squash(note))
		}
		if home := note.Find("a[href='/']").Length(); (home == 1) != demo {
			t.Errorf("demo %v: %d links to the home page's demo examples", demo, home)
		}
	}
}

// A demo retirement carries the real registry's url; the page must not offer it as the record
// of made-up data. Off the demo, the link stays.
func TestRetirementPublicRecordIsNotClaimedForDemoData(t *testing.T) {
	const public = "https://registry.isometric.com/retirement/ret_1XXXXXXXXXXXXXXX"
	r := &lineage.RetirementReport{Retirement: registry.Retirement{ID: "ret_1XXXXXXXXXXXXXXX", URL: public}}

	doc := render(t, Retirement(NewRetirementPage(Base{Title: "Retirement", Demo: true}, r)))
	if n := doc.Find("a[href*='isometric.com']").Length(); n != 0 {
		t.Errorf("the demo page links the real registry %d times", n)
	}
	if got := squash(doc.Find("[data-testid=public-record]")); !strings.Contains(got, "demo data") {
		t.Errorf("public record field %q does not say the data is demo data", got)
	}

	doc = render(t, Retirement(NewRetirementPage(Base{Title: "Retirement"}, r)))
	if href := doc.Find("[data-testid=public-record] a").AttrOr("href", ""); href != public {
		t.Errorf("off the demo the public record links %q, want %s", href, public)
	}
}

// Counts of one take the singular; a plural owner takes a bare apostrophe.
func TestWordingAgreesWithCounts(t *testing.T) {
	doc := render(t, Icicle(IcicleView{Width: 10, Height: 10, Nodes: 1, Batches: 1, Merged: 1, Folded: 1, Hidden: 1, RefCredits: "1.000", RefKg: "1,000"}))
	got := squash(doc.Find("figcaption"))
	for _, want := range []string{"Of 1 batch,", "1 too thin to draw is merged", "1 is in folded chains", "1 is too small"} {
		if !strings.Contains(got, want) {
			t.Errorf("caption %q does not say %q", got, want)
		}
	}
	if label := doc.Find("svg").AttrOr("aria-label", ""); label != "Icicle chart of 1 batch" {
		t.Errorf("aria-label %q", label)
	}
	c := checkSum(100, 100, 0, "active and retired batches", "the roots’")
	if !strings.Contains(c.Text, "the roots’ 100 kg") || strings.Contains(c.Text, "’s") {
		t.Errorf("check %q", c.Text)
	}
}
