package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

func TestBatchPageShowsTheBatchItsPathAndTree(t *testing.T) {
	a := newApp(t, appOptions{})
	id := a.fx.WideLeafDeep
	want, ok := a.reg.Batch(id)
	if !ok {
		t.Fatal("fixture missing from the demo registry")
	}
	doc, _ := a.page(t, "/batches/"+id, http.StatusOK)

	if got := text(doc.Find("h1 code.id")); got != id {
		t.Errorf("h1 id = %q, want %q", got, id)
	}
	if got := text(doc.Find("[data-testid=serial]")); got != want.SerialNumber {
		t.Errorf("serial = %q, want %q", got, want.SerialNumber)
	}
	if got := text(doc.Find(".batch-head .headline .badge")); got != string(want.Status) {
		t.Errorf("status badge = %q, want %q", got, want.Status)
	}
	// The exact kg, digits only, against the registry's own integer.
	kgText := strings.NewReplacer(",", "", "=", "", "kg", "", " ", "").Replace(text(doc.Find(".batch-head .headline .muted")))
	if kgText != strconv.FormatInt(want.Size.CreditKgs, 10) {
		t.Errorf("kg shown = %q, want %d", kgText, want.Size.CreditKgs)
	}
	if !strings.Contains(text(doc.Find("dl.fields")), want.Owner.Name) {
		t.Errorf("holder %q not shown", want.Owner.Name)
	}
	if !strings.Contains(text(doc.Find("dl.fields")), want.IssuanceID) {
		t.Errorf("issuance %q not shown", want.IssuanceID)
	}

	// The path runs from the tree's root to this batch: WideLeafDeep is 10 splits down.
	steps := doc.Find("[data-testid=path] li:not(.fold)")
	if steps.Length() != 11 {
		t.Errorf("path has %d steps, want 11", steps.Length())
	}
	if got := text(steps.First().Find("code")); got != a.fx.WideRoot {
		t.Errorf("path starts at %q, want the root %q", got, a.fx.WideRoot)
	}
	if !steps.Last().HasClass("target") {
		t.Error("path does not end at the target")
	}

	// The tree starts at the root; the target is highlighted once and its ancestors are open.
	tree := doc.Find("[data-testid=tree]")
	if got := tree.Children().First().AttrOr("id", ""); got != views.NodeAnchor(a.fx.WideRoot) {
		t.Errorf("tree's first row = %q, want the root", got)
	}
	target := tree.Find("li.target")
	if target.Length() != 1 || target.AttrOr("id", "") != views.NodeAnchor(id) || target.AttrOr("aria-current", "") != "true" {
		t.Fatalf("target rows: %d, id %q", target.Length(), target.AttrOr("id", ""))
	}
	target.ParentsFiltered("details").Each(func(_ int, d *goquery.Selection) {
		if _, open := d.Attr("open"); !open {
			t.Errorf("an ancestor of the target is closed: %s", text(d.Find("summary").First()))
		}
	})
	// Every row links to its own page.
	tree.Find("li[id]").EachWithBreak(func(_ int, li *goquery.Selection) bool {
		rid := strings.TrimPrefix(li.AttrOr("id", ""), "n-")
		if li.Find("a[href='/batches/"+rid+"']").Length() == 0 {
			t.Errorf("row %s has no link to its page", rid)
			return false
		}
		return true
	})

	// Totals: the wide tree is consistent, so it adds up and has no problems.
	if doc.Find("[data-testid=check].ok").Length() != 1 {
		t.Errorf("totals check = %q, want it to add up", text(doc.Find("[data-testid=check]")))
	}
	if doc.Find("[data-testid=no-problems]").Length() != 1 {
		t.Errorf("problems listed for a consistent tree: %s", text(doc.Find("[data-testid=problems]")))
	}
	if doc.Find("[data-testid=holders] tbody tr").Length() == 0 {
		t.Error("no totals by holder")
	}
	if doc.Find("[data-testid=demo-banner]").Length() != 1 {
		t.Error("no demo banner")
	}
}

func TestBatchPageSizesAboveTwoToThe53AreExact(t *testing.T) {
	a := newApp(t, appOptions{})
	b, _ := a.reg.Batch(a.fx.BigKgRoot)
	if b.Size.CreditKgs <= 1<<53 {
		t.Fatalf("fixture is only %d kg", b.Size.CreditKgs)
	}
	doc, _ := a.page(t, "/batches/"+a.fx.BigKgRoot, http.StatusOK)
	kg := strings.NewReplacer(",", "", "=", "", "kg", "", " ", "").Replace(text(doc.Find(".batch-head .headline .muted")))
	if kg != strconv.FormatInt(b.Size.CreditKgs, 10) {
		t.Errorf("kg = %s, want %d (float64 would give %.0f)", kg, b.Size.CreditKgs, float64(b.Size.CreditKgs))
	}
	credits := strings.ReplaceAll(text(doc.Find(".batch-head .size strong")), ",", "")
	if want := strconv.FormatInt(b.Size.CreditKgs/1000, 10) + "." + strconv.FormatInt(b.Size.CreditKgs%1000+1000, 10)[1:]; credits != want {
		t.Errorf("credits = %s, want %s", credits, want)
	}
	if doc.Find("[data-testid=check].ok").Length() != 1 {
		t.Errorf("the big tree should add up exactly: %s", text(doc.Find("[data-testid=check]")))
	}
}

func TestBatchPageEscapesOrganisationNames(t *testing.T) {
	a := newApp(t, appOptions{})
	b, _ := a.reg.Batch(a.fx.HostileOrgBatch)
	if !strings.Contains(b.Owner.Name, "<script>") {
		t.Fatalf("fixture owner %q has no markup", b.Owner.Name)
	}
	doc, r := a.page(t, "/batches/"+a.fx.HostileOrgBatch, http.StatusOK)
	if strings.Contains(r.body, b.Owner.Name) || strings.Contains(r.body, "<script>alert") {
		t.Fatal("the organisation name reached the page unescaped")
	}
	// Our own script tag is the only one; the name is shown as text.
	if n := doc.Find("script").Length(); n != 1 {
		t.Errorf("%d script elements, want 1 (app.js)", n)
	}
	if !strings.Contains(text(doc.Find("dl.fields")), strings.Join(strings.Fields(b.Owner.Name), " ")) {
		t.Errorf("the name is not shown as text: %s", text(doc.Find("dl.fields")))
	}
	if doc.Find(".ho b b, dl.fields b").Length() != 0 {
		t.Error("markup from a name became elements")
	}
	// Its sibling was retired for a hostile beneficiary: shown as text too.
	found := false
	doc.Find(".ho").Each(func(_ int, s *goquery.Selection) {
		if strings.HasPrefix(text(s), "retired for") && strings.Contains(s.Text(), "<") {
			found = true
		}
	})
	if !found {
		t.Error("the hostile beneficiary is not shown as text in the tree")
	}
}

func TestBatchPageMarksProblemsWhereTheyOccur(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, tc := range []struct {
		name, id string
		kind     lineage.ProblemKind
		check    string // totals check state
	}{
		{"dangling child", a.fx.DanglingChild, lineage.ProblemDangling, "unknown"},
		{"wrong parent", a.fx.WrongParent, lineage.ProblemParentMismatch, ""},
		{"cycle", a.fx.Cycle, lineage.ProblemCycle, ""},
		{"parent cycle", a.fx.ParentCycle, lineage.ProblemCycle, ""},
		{"repeated child", a.fx.RepeatedChild, lineage.ProblemRepeated, ""},
		{"size mismatch", a.fx.SizeMismatch, "", "bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := a.page(t, "/batches/"+tc.id, http.StatusOK)
			if tc.kind != "" {
				listed := doc.Find("[data-testid=problems] li." + string(tc.kind))
				if listed.Length() == 0 {
					t.Fatalf("no %s problem listed; problems: %s", tc.kind, text(doc.Find(".problems")))
				}
				// Each listed problem links to a row that carries the same mark.
				href := listed.First().Find("a").AttrOr("href", "")
				if !strings.HasPrefix(href, "#n-") {
					t.Fatalf("problem links to %q, not to its row", href)
				}
				row := doc.Find("li" + href)
				if row.Length() != 1 || row.Find(".prob."+string(tc.kind)).Length() == 0 {
					t.Errorf("row %s does not carry the %s mark", href, tc.kind)
				}
			}
			if tc.check != "" && doc.Find("[data-testid=check]."+tc.check).Length() != 1 {
				t.Errorf("totals check = %q (%s), want %s", text(doc.Find("[data-testid=check]")),
					doc.Find("[data-testid=check]").AttrOr("class", ""), tc.check)
			}
		})
	}
	t.Run("dangling node is marked missing", func(t *testing.T) {
		doc, _ := a.page(t, "/batches/"+a.fx.DanglingChild, http.StatusOK)
		if doc.Find("ul.tree .badge.st-missing").Length() == 0 {
			t.Error("no missing node in the tree")
		}
	})
}

func TestBatchPageRejectsMalformedIDsWithoutAskingUpstream(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, id := range []string{"ctb_123", "iss_1DRBTYA8Q1S07CBY", "ctb_1DRBTYA8Q1S07CB%21", "%3Cscript%3E"} {
		doc, r := a.page(t, "/batches/"+id, http.StatusBadRequest)
		if !strings.Contains(text(doc.Find(".hint")), registry.ExampleID(registry.PrefixCreditBatch)) {
			t.Errorf("%s: the 400 page does not show a valid id: %s", id, text(doc.Find("main")))
		}
		if strings.Contains(r.body, "<script>") {
			t.Errorf("%s: the id reached the page unescaped", id)
		}
	}
	if n := a.reg.Requests(); n != 0 {
		t.Errorf("%d requests reached the registry for malformed ids", n)
	}
}

func TestBatchPageUnknownIDIs404NamingIt(t *testing.T) {
	a := newApp(t, appOptions{})
	id := "ctb_1ZZZZZZZZZZZZZZZ"
	doc, _ := a.page(t, "/batches/"+id, http.StatusNotFound)
	if !strings.Contains(text(doc.Find("h1")), id) {
		t.Errorf("404 heading %q does not name %s", text(doc.Find("h1")), id)
	}
}

func TestLargeTreeRendersCollapsedAndExpandsOnDemand(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, r := a.page(t, "/batches/"+a.fx.HugeRoot, http.StatusOK)
	if len(r.body) > 3<<20 {
		t.Errorf("page of the huge tree is %d bytes, want at most 3 MiB", len(r.body))
	}
	rows := doc.Find("ul.tree li").Length()
	if rows > 2000 {
		t.Errorf("%d rows rendered for the huge tree", rows)
	}
	lazy := doc.Find("details.lazy[data-src]")
	if lazy.Length() == 0 {
		t.Fatal("no collapsed branch in a 30,000-batch tree")
	}
	// Each collapsed branch links to a page that works without scripts...
	first := lazy.First()
	link := first.Find(".lazy-body a").AttrOr("href", "")
	if !strings.HasPrefix(link, "/batches/ctb_") {
		t.Fatalf("collapsed branch's fallback link = %q", link)
	}
	// ...and its fragment holds the rows below it.
	frag := a.get(t, first.AttrOr("data-src", ""))
	if frag.status != http.StatusOK {
		t.Fatalf("fragment: %d", frag.status)
	}
	fdoc, _ := goquery.NewDocumentFromReader(strings.NewReader(frag.body))
	nodeID := strings.TrimPrefix(link, "/batches/")
	kids := fdoc.Find("body > ul > li")
	if kids.Length() == 0 {
		t.Fatalf("empty fragment: %q", head(frag.body, 300))
	}
	b, _ := a.reg.Batch(nodeID)
	for _, cid := range b.Children() {
		if fdoc.Find("li#"+views.NodeAnchor(cid)).Length() != 1 {
			t.Errorf("fragment lacks child %s of %s", cid, nodeID)
		}
	}
	if fdoc.Find("html head title").Length() != 0 && strings.Contains(frag.body, "<html") {
		t.Error("the fragment is a whole page")
	}
	// A node that is not in the tree is a 404; a malformed one a 400.
	if r := a.get(t, views.SubtreeURL(a.fx.HugeRoot, a.fx.WideRoot)); r.status != http.StatusNotFound {
		t.Errorf("fragment of a node from another tree: %d", r.status)
	}
	if r := a.get(t, "/batches/"+a.fx.HugeRoot+"/subtree/nope"); r.status != http.StatusBadRequest {
		t.Errorf("fragment of a malformed id: %d", r.status)
	}
}

func TestDeepChainStaysShallowInHTML(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/batches/"+a.fx.DeepChainLeaf, http.StatusOK)
	if n := doc.Find("[data-testid=path] li:not(.fold)").Length(); n != a.fx.DeepChainDepth+1 {
		t.Errorf("path has %d steps, want %d", n, a.fx.DeepChainDepth+1)
	}
	deepest := 0
	doc.Find("ul.tree li").Each(func(_ int, li *goquery.Selection) {
		deepest = max(deepest, li.ParentsFiltered("ul").Length())
	})
	if deepest > 20 {
		t.Errorf("tree lists nest %d deep for a chain; want it folded flat", deepest)
	}
	if doc.Find("ul.tree li.target").Length() != 1 {
		t.Error("the chain's tip is not in the tree")
	}
	// The whole chain is on the page: every batch of it has a row.
	if n := doc.Find("ul.tree li[id]").Length(); n != 2*a.fx.DeepChainDepth+1 {
		t.Errorf("%d rows, want %d", n, 2*a.fx.DeepChainDepth+1)
	}
}

func TestTruncatedTreeSaysSo(t *testing.T) {
	a := newApp(t, appOptions{maxNodes: 100})
	doc, _ := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusOK)
	if !strings.Contains(text(doc.Find(".notice.warn")), "not fetched") {
		t.Errorf("no notice of the node bound: %q", text(doc.Find(".notice")))
	}
	if doc.Find("ul.tree .badge.st-skipped").Length() == 0 {
		t.Error("no row marked as not fetched")
	}
	if doc.Find("[data-testid=check].unknown").Length() != 1 {
		t.Error("a truncated tree's totals claim to be checkable")
	}
	if doc.Find("[data-testid=problems] li.truncated").Length() != 1 {
		t.Error("truncation not listed among the problems")
	}
}

// A link whose id a spreadsheet put in lower case is sent to the batch's page, not a 404.
func TestLowerCaseIdInALinkIsRedirected(t *testing.T) {
	a := newApp(t, appOptions{basePath: testBase})
	id := a.fx.WideLeafDeep
	r := a.get(t, testBase+"/batches/"+strings.ToLower(id)+"?serial=x")
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != testBase+"/batches/"+id+"?serial=x" {
		t.Errorf("lower-case id: %d to %q", r.status, r.header.Get("Location"))
	}
	// A mixed-case body is not guessed at.
	mixed := id[:6] + strings.ToLower(id[6:9]) + id[9:]
	if r := a.get(t, testBase+"/batches/"+mixed); r.status == http.StatusMovedPermanently {
		t.Errorf("mixed-case id redirected to %q", r.header.Get("Location"))
	}
}

// A branch of a batch from another tree is not "missing from the registry".
func TestSubtreeOfABatchFromAnotherTree(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/batches/"+a.fx.WideLeafDeep+"/subtree/"+a.fx.DeepChainLeaf, http.StatusNotFound)
	if h := text(doc.Find("h1")); h != a.fx.DeepChainLeaf+" is not in this tree" || strings.Contains(text(doc.Find("main")), "registry has no") {
		t.Errorf("heading %q; page %q", h, head(text(doc.Find("main")), 300))
	}
}
