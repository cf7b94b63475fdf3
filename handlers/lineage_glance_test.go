package handlers

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// chartBytesBound bounds the icicle chart's markup on any page: a few hundred bars at most,
// whatever the tree's size.
const chartBytesBound = 96 << 10

func TestLineagePageChart(t *testing.T) {
	a := newApp(t, appOptions{})
	moreLabel := regexp.MustCompile(`^[0-9][0-9,]* more$`)
	for _, tc := range []struct {
		name, id   string
		fold, more bool
	}{
		{"deep chain tip", a.fx.DeepChainLeaf, true, false},
		{"wide root", a.fx.WideRoot, false, true},
		{"wide leaf 10 deep", a.fx.WideLeafDeep, false, true},
		{"huge root", a.fx.HugeRoot, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := a.page(t, "/batches/"+tc.id, http.StatusOK)
			svg := doc.Find("[data-testid=icicle] svg")
			if svg.Length() != 1 {
				t.Fatal("no chart on the page")
			}
			rects := svg.Find("rect")
			if rects.Length() == 0 || rects.Length() > 250 {
				t.Errorf("%d rectangles, want a few hundred at most", rects.Length())
			}
			// Every rectangle is a link to a batch page, with a tooltip.
			rects.Each(func(_ int, r *goquery.Selection) {
				link := r.Parent()
				if goquery.NodeName(link) != "a" || !strings.HasPrefix(link.AttrOr("href", ""), "/batches/ctb_") {
					t.Errorf("a rectangle is not a link to a batch page: <%s href=%q>", goquery.NodeName(link), link.AttrOr("href", ""))
				}
				if strings.TrimSpace(link.Find("title").Text()) == "" {
					t.Errorf("%s: no tooltip", link.AttrOr("href", ""))
				}
			})
			cur := svg.Find("a.cur")
			if cur.Length() != 1 || cur.AttrOr("href", "") != views.BatchURL(tc.id) {
				t.Errorf("%d outlined bars, first links to %q; want this batch once", cur.Length(), cur.AttrOr("href", ""))
			}
			if svg.Find("[style]").Length() != 0 || doc.Find("[data-testid=icicle] [style]").Length() != 0 {
				t.Error("inline style in the chart: the CSP blocks it")
			}
			if tc.fold {
				fold := svg.Find("a[data-kind=fold]")
				if fold.Length() != 1 || !strings.Contains(fold.Find("text").Text(), "splits folded") {
					t.Errorf("chain: %d folded bands, label %q", fold.Length(), fold.Find("text").Text())
				}
			}
			if tc.more {
				labelled := 0
				svg.Find("a[data-kind=more] text").Each(func(_ int, s *goquery.Selection) {
					if moreLabel.MatchString(s.Text()) {
						labelled++
					}
				})
				if labelled == 0 {
					t.Error("no labelled \"n more\" bar in a tree of thousands")
				}
			}
			legend := text(doc.Find("[data-testid=icicle] ul.legend"))
			for _, want := range []string{"active", "split", "retired", "this batch"} {
				if !strings.Contains(legend, want) {
					t.Errorf("legend %q lacks %q", legend, want)
				}
			}
			html, _ := goquery.OuterHtml(doc.Find("[data-testid=icicle]"))
			if len(html) > chartBytesBound {
				t.Errorf("chart is %d bytes, want at most %d", len(html), chartBytesBound)
			}
		})
	}
}

func TestLineagePageWithTheChartStaysWithinBudget(t *testing.T) {
	a := newApp(t, appOptions{})
	// The huge tree's page was about 660 KB before the chart; the chart may add its bound.
	_, r := a.page(t, "/batches/"+a.fx.HugeRoot, http.StatusOK)
	if bound := 660_000 + chartBytesBound; len(r.body) > bound {
		t.Errorf("the huge tree's page is %d bytes, want at most %d", len(r.body), bound)
	}
}

func TestChartTooltipsEscapeOrganisationNames(t *testing.T) {
	a := newApp(t, appOptions{})
	b, _ := a.reg.Batch(a.fx.HostileOrgBatch)
	doc, r := a.page(t, "/batches/"+a.fx.HostileOrgBatch, http.StatusOK)
	if strings.Contains(r.body, b.Owner.Name) {
		t.Fatal("the owner's name reached the page unescaped")
	}
	svg := doc.Find("[data-testid=icicle] svg")
	if svg.Find("script, b, foreignObject").Length() != 0 {
		t.Fatal("markup from a name became elements in the chart")
	}
	found := false
	svg.Find("a title").Each(func(_ int, s *goquery.Selection) {
		found = found || strings.Contains(s.Text(), b.Owner.Name)
	})
	if !found {
		t.Error("no tooltip names the owner, as text")
	}
}

func TestAuditPanelListsExactlyThePlantedProblems(t *testing.T) {
	a := newApp(t, appOptions{})
	f := a.fx
	for _, tc := range []struct {
		name, id string
		want     []lineage.ProblemKind
	}{
		{"dangling child", f.DanglingChild, []lineage.ProblemKind{lineage.ProblemDangling}},
		{"wrong parent", f.WrongParent, []lineage.ProblemKind{lineage.ProblemParentMismatch}},
		{"cycle below", f.Cycle, []lineage.ProblemKind{lineage.ProblemCycle}},
		{"cycle above", f.ParentCycle, []lineage.ProblemKind{lineage.ProblemCycle}},
		{"repeated child", f.RepeatedChild, []lineage.ProblemKind{lineage.ProblemParentMismatch, lineage.ProblemRepeated}},
		{"one-child split", f.OneChildSplit, []lineage.ProblemKind{lineage.ProblemSplitShape}},
		{"size mismatch", f.SizeMismatch, []lineage.ProblemKind{lineage.ProblemRangePartition, lineage.ProblemSizeMismatch}},
		// 500 units held by no child and 500 past the parent's end: two findings.
		{"range gap", f.RangeGap, []lineage.ProblemKind{lineage.ProblemRangePartition, lineage.ProblemRangePartition}},
		{"mixed issuance", f.MixedIssuance, []lineage.ProblemKind{lineage.ProblemMixedLineage}},
		{"bad status", f.BadStatus, []lineage.ProblemKind{lineage.ProblemStatus, lineage.ProblemSplitShape}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := a.page(t, "/batches/"+tc.id, http.StatusOK)
			tree, err := a.explorer.Lineage(context.Background(), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			panel := doc.Find("[data-testid=audit]")
			items := panel.Find("[data-testid=problems] > li")
			var got []lineage.ProblemKind
			items.Each(func(_ int, li *goquery.Selection) {
				got = append(got, lineage.ProblemKind(li.AttrOr("data-kind", "")))
			})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("audit lists %v, want %v", got, tc.want)
			}
			if panel.Find("[data-testid=no-problems]").Length() != 0 || panel.Find("[data-testid=audit-verdict]").Length() != 1 {
				t.Error("the panel calls a planted tree clean")
			}
			if !strings.Contains(text(doc.Find("[data-testid=glance-verdict]")), "problem") {
				t.Errorf("verdict at the top: %q", text(doc.Find("[data-testid=glance-verdict]")))
			}
			items.Each(func(i int, li *goquery.Selection) {
				p := tree.Problems[i]
				// Links to every batch involved...
				at := li.Find("a").First()
				if text(at) != p.BatchID || !linksTo(at.AttrOr("href", ""), p.BatchID) {
					t.Errorf("%s: first link %q → %q, want %s", p.Kind, text(at), at.AttrOr("href", ""), p.BatchID)
				}
				rel := li.Find("a[data-role=related]")
				if p.Related != "" && (text(rel) != p.Related || !linksTo(rel.AttrOr("href", ""), p.Related)) {
					t.Errorf("%s: related link %q → %q, want %s", p.Kind, text(rel), rel.AttrOr("href", ""), p.Related)
				}
				// ...and the problem stays marked where it occurs in the tree.
				if href := at.AttrOr("href", ""); strings.HasPrefix(href, "#") {
					if doc.Find("li"+href+" .prob."+string(p.Kind)).Length() == 0 {
						t.Errorf("row %s does not carry the %s mark", href, p.Kind)
					}
				}
			})
		})
	}
}

// linksTo reports whether href leads to id: its row on the page or its own page.
func linksTo(href, id string) bool {
	return href == "#"+views.NodeAnchor(id) || href == views.BatchURL(id)
}

func TestAuditPanelOnACleanTreeSaysSoWithItsFigures(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, tc := range []struct {
		name, id, root string
		batches        int
	}{
		{"wide tree, from a leaf", a.fx.WideLeafDeep, a.fx.WideRoot, a.fx.WideNodeCount},
		{"deep chain", a.fx.DeepChainLeaf, a.fx.DeepChainRoot, 2*a.fx.DeepChainDepth + 1},
		{"sizes above 2^53", a.fx.BigKgRoot, a.fx.BigKgRoot, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, _ := a.reg.Batch(tc.root)
			doc, _ := a.page(t, "/batches/"+tc.id, http.StatusOK)
			want := views.FormatCount(tc.batches) + " batches, " + views.FormatKg(root.Size.CreditKgs) + " kg conserved"
			if got := text(doc.Find("[data-testid=audit] [data-testid=conserved]")); got != want {
				t.Errorf("conserved line %q, want %q", got, want)
			}
			if doc.Find("[data-testid=audit] [data-testid=no-problems]").Length() != 1 || doc.Find("[data-testid=problems]").Length() != 0 {
				t.Error("a clean tree is not said to be clean")
			}
			if got := text(doc.Find("[data-testid=glance-verdict]")); !strings.Contains(got, want) {
				t.Errorf("verdict at the top %q lacks %q", got, want)
			}
		})
	}
}
