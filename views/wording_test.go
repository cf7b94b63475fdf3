package views

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Retirement purposes read in words, each with the registry's code beside it for analysts who
// search by it; a code the explorer does not know is made readable, never dropped.
func TestRetirementPurposesInWords(t *testing.T) {
	codes := []string{"corporate_targets", "public_environmental_claims", "insetting", "regulatory_requirement", "other",
		"voluntary_net_zero_pledge", "", "<b>x</b>"}
	want := []string{"Corporate targets", "Public environmental claims", "Insetting", "Regulatory requirement", "Other",
		"Voluntary net zero pledge", "(blank)", "<b>x</b>"}
	r := &lineage.RetirementReport{Retirement: registry.Retirement{ID: "ret_1XXXXXXXXXXXXXXX", Purposes: codes}}
	doc := render(t, Retirement(NewRetirementPage(Base{Title: "Retirement"}, r)))
	items := doc.Find("[data-testid=purposes] li")
	if items.Length() != len(codes) {
		t.Fatalf("%d purposes shown, the record has %d", items.Length(), len(codes))
	}
	for i, code := range codes {
		li := items.Eq(i)
		if got := squash(li.Find(".purpose")); got != want[i] {
			t.Errorf("purpose %q reads %q, want %q", code, got, want[i])
		}
		if got := li.Find("code").Text(); got != code {
			t.Errorf("purpose %q: code shown %q", code, got)
		}
		if got := li.Find(".purpose").AttrOr("title", "?"); got != code {
			t.Errorf("purpose %q: title %q", code, got)
		}
	}
	if doc.Find("[data-testid=purposes] b").Length() != 0 {
		t.Error("a purpose code was rendered as markup")
	}
}

// The progress line's elapsed time ("· 27.3 s") is one unbreakable piece: at a phone's width
// the unit used to wrap alone onto the next line.
func TestProgressElapsedTimeWrapsAsOnePiece(t *testing.T) {
	doc := render(t, Progress(ProgressPage{Base: Base{Title: "Walking"}, ID: "ctb_1XXXXXXXXXXXXXXX",
		Fetched: 1234, Discovered: 5678, Elapsed: "27.3 s"}))
	span := doc.Find("[data-testid=progress] [role=status] [data-testid=elapsed]")
	if got := squash(span); got != "· 27.3 s" {
		t.Fatalf("elapsed span holds %q, want the dot and the whole time", got)
	}
	if !span.HasClass("elapsed") {
		t.Fatalf("elapsed span class %q", span.AttrOr("class", ""))
	}
	css, err := os.ReadFile("../static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\.elapsed\s*\{[^}]*white-space:\s*nowrap`).Match(css) {
		t.Error("static/style.css does not keep .elapsed on one line (white-space: nowrap)")
	}
}

// The heading echoes the short form of the query, and the search box keeps it whole.
func TestSearchHeadingEchoesTheShortForm(t *testing.T) {
	long := strings.Repeat("junk ", 800)
	doc := render(t, Search(SearchPage{Base: Base{Title: "Search", Query: long}, Outcome: SearchUnrecognised,
		Shown: "junk junk…", ExampleID: registry.ExampleID(registry.PrefixCreditBatch), ExampleSerial: registry.ExampleSerial}))
	if got := squash(doc.Find("h1")); got != "Nothing to look up in “junk junk…”" {
		t.Errorf("heading %q", got)
	}
	if got := doc.Find("input[name=q]").AttrOr("value", ""); got != long {
		t.Errorf("search box keeps %d characters, want all %d", len(got), len(long))
	}
}
