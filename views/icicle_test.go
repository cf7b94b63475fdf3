package views

import (
	"bytes"
	"context"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// checkIcicle checks what every chart must keep: every node of the trees stands in exactly one
// bar (or is counted as too small to draw), bars stay inside the chart and do not overlap in
// a row, every bar links to a batch page, and the current batch is drawn once, visibly.
func checkIcicle(t *testing.T, v IcicleView, current string, maxBars int) {
	t.Helper()
	if v.Empty {
		t.Fatal("empty chart")
	}
	total := v.Hidden
	for _, b := range v.Bars {
		total += b.Count
	}
	if total != v.Nodes {
		t.Errorf("bars stand for %d batches (%d hidden), the trees have %d", total, v.Hidden, v.Nodes)
	}
	if len(v.Bars) > maxBars {
		t.Errorf("%d bars, more than %d", len(v.Bars), maxBars)
	}
	rows := map[int][]IcicleBar{}
	currents := 0
	for _, b := range v.Bars {
		if b.X < 0 || b.W < 1 || b.X+b.W > v.Width || b.Y < 0 || b.Y+b.H > v.Height {
			t.Errorf("bar %s (%s) at x=%d w=%d y=%d lies outside the %d×%d chart", b.ID, b.Kind, b.X, b.W, b.Y, v.Width, v.Height)
		}
		if !strings.HasPrefix(b.Href, "/batches/ctb_") {
			t.Errorf("bar %s (%s) links to %q, not to a batch page", b.ID, b.Kind, b.Href)
		}
		if b.Title == "" {
			t.Errorf("bar %s has no tooltip", b.ID)
		}
		if b.Current {
			currents++
			if b.ID != current || b.Kind != BarBatch || b.W < 2 {
				t.Errorf("outlined bar %s (%s, %d wide), want the batch %s", b.ID, b.Kind, b.W, current)
			}
		}
		rows[b.Y] = append(rows[b.Y], b)
	}
	if want := min(len(current), 1); currents != want {
		t.Errorf("%d bars outlined, want %d", currents, want)
	}
	for y, bars := range rows {
		for i, a := range bars {
			for _, b := range bars[i+1:] {
				// The outlined batch may be widened to stay visible; nothing else overlaps.
				if a.X < b.X+b.W && b.X < a.X+a.W && !a.Current && !b.Current && !a.OnPath && !b.OnPath {
					t.Errorf("row %d: %s [%d,%d) overlaps %s [%d,%d)", y, a.ID, a.X, a.X+a.W, b.ID, b.X, b.X+b.W)
				}
			}
		}
	}
}

func TestIcicleFoldsTheDeepChain(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	tree := walk(t, r, fx.DeepChainLeaf)
	v := NewIcicle(tree, IcicleOptions{})
	checkIcicle(t, v, fx.DeepChainLeaf, 10)
	if v.Rows > 4 {
		t.Errorf("%d rows for a chain %d deep; want the peels folded", v.Rows, fx.DeepChainDepth)
	}
	var folds []IcicleBar
	for _, b := range v.Bars {
		if b.Kind == BarFold {
			folds = append(folds, b)
		}
	}
	if len(folds) != 1 {
		t.Fatalf("%d folded bands, want 1", len(folds))
	}
	// The band stands for every split between the root's half and the tip's parent, and what
	// they peeled off.
	f := folds[0]
	if want := 2 * (fx.DeepChainDepth - 1); f.Count != want {
		t.Errorf("the band stands for %d batches, want %d", f.Count, want)
	}
	if !strings.Contains(f.Label, FormatCount(fx.DeepChainDepth-1)+" splits folded") || !f.OnPath {
		t.Errorf("band label %q (on path: %v)", f.Label, f.OnPath)
	}
}

func TestIcicleMergesSliversOfWideTrees(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	more := regexp.MustCompile(`^[0-9,]+ more$`)
	for _, tc := range []struct{ name, id string }{
		{"wide root", fx.WideRoot}, {"wide leaf 10 deep", fx.WideLeafDeep}, {"huge root", fx.HugeRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := walk(t, r, tc.id)
			v := NewIcicle(tree, IcicleOptions{})
			// The budget, plus what the path to the current batch may force past it.
			checkIcicle(t, v, tc.id, 200+3*len(tree.Path()))
			labelled := 0
			for _, b := range v.Bars {
				if b.Kind == BarMore && more.MatchString(b.Label) {
					labelled++
				}
			}
			if labelled == 0 || v.Merged < tree.Len()/2 {
				t.Errorf("%d labelled \"n more\" bars, %d of %d batches merged", labelled, v.Merged, tree.Len())
			}
			if v.Rows > 16 {
				t.Errorf("%d rows", v.Rows)
			}
		})
	}
}

func TestIcicleBoundsBarsWhateverTheBudget(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	tree := walk(t, r, fx.HugeRoot)
	for _, n := range []int{1, 20, 60} {
		v := NewIcicle(tree, IcicleOptions{MaxBars: n})
		checkIcicle(t, v, fx.HugeRoot, max(n, 2))
	}
}

func TestIcicleWidthsAreExactAboveTwoToThe53(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	tree := walk(t, r, fx.BigKgRoot)
	const width = 960
	v := NewIcicle(tree, IcicleOptions{Width: width})
	checkIcicle(t, v, fx.BigKgRoot, 10)
	root := tree.Root.Batch.Size.CreditKgs
	left := tree.Root.Children[0].Batch.Size.CreditKgs
	if root <= 1<<53 || left <= 1<<53 {
		t.Fatalf("fixture sizes %d and %d", root, left)
	}
	// The right half starts where the left's share of the root ends, to the unit: floor(left ×
	// width ÷ root), computed here with math/big.
	want := new(big.Int).Mul(big.NewInt(left), big.NewInt(width))
	want.Quo(want, big.NewInt(root))
	right := tree.Root.Children[1].ID
	for _, b := range v.Bars {
		if b.ID == right && b.X != int(want.Int64()) {
			t.Errorf("right half starts at %d, want %d", b.X, want.Int64())
		}
	}
	// The exact kg in the tooltips.
	for _, b := range v.Bars {
		if b.ID == tree.Root.ID && !strings.Contains(b.Title, FormatKg(root)+" kg") {
			t.Errorf("root tooltip %q lacks its exact kg %s", b.Title, FormatKg(root))
		}
	}
}

func TestIcicleMarksProblemsAndMissingBatches(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	tree := walk(t, r, fx.DanglingChild)
	v := NewIcicle(tree, IcicleOptions{})
	checkIcicle(t, v, fx.DanglingChild, 10)
	var missing *IcicleBar
	for i, b := range v.Bars {
		if b.Class == "c-missing" {
			missing = &v.Bars[i]
		}
	}
	// The dangling child stands where its kg should be: the part of the root its sibling lacks.
	if missing == nil || !missing.Problem || missing.W < 2 {
		t.Fatalf("the dangling child is not drawn as missing and marked: %+v", missing)
	}
}

func TestIcicleForestSharesOneWidth(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	a, b, c := walk(t, r, fx.DeepChainRoot), walk(t, r, fx.WideRoot), walk(t, r, fx.AllFinalRoot)
	const width = 960
	v := NewIcicleForest([]*lineage.Tree{a, b, c}, IcicleOptions{Width: width})
	checkIcicle(t, v, "", 200)
	var tops []IcicleBar
	for _, bar := range v.Bars {
		if bar.Y == 0 {
			tops = append(tops, bar)
		}
	}
	if len(tops) != 3 || tops[0].ID != a.Root.ID || tops[1].ID != b.Root.ID || tops[2].ID != c.Root.ID {
		t.Fatalf("top row %+v", tops)
	}
	// Each root's bar starts where the roots before it end, as shares of all three.
	ka, kb, kc := a.Root.Batch.Size.CreditKgs, b.Root.Batch.Size.CreditKgs, c.Root.Batch.Size.CreditKgs
	for i, before := range []int64{0, ka, ka + kb} {
		if want := int(before * width / (ka + kb + kc)); tops[i].X != want {
			t.Errorf("root %d starts at %d, want %d", i, tops[i].X, want)
		}
	}
}

func TestIcicleRendersEscapedLinkedSVG(t *testing.T) {
	r := demo.New(demo.Options{})
	fx := r.Fixtures()
	tree := walk(t, r, fx.HostileOrgBatch)
	v := NewIcicle(tree, IcicleOptions{})
	var buf bytes.Buffer
	if err := Icicle(v).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	owner, _ := r.Batch(fx.HostileOrgBatch)
	if strings.Contains(buf.String(), owner.Owner.Name) || strings.Contains(buf.String(), "<script") {
		t.Fatal("an organisation name reached the SVG unescaped")
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	links := doc.Find("svg a")
	if links.Length() != len(v.Bars) || doc.Find("svg rect").Length() != len(v.Bars) {
		t.Errorf("%d links and %d rects for %d bars", links.Length(), doc.Find("svg rect").Length(), len(v.Bars))
	}
	found := false
	links.Each(func(_ int, a *goquery.Selection) {
		if a.Find("title").Length() != 1 {
			t.Errorf("link %s has no tooltip", a.AttrOr("href", ""))
		}
		if strings.Contains(a.Find("title").Text(), owner.Owner.Name) {
			found = true // the name, as text
		}
		if _, ok := a.Attr("style"); ok {
			t.Error("inline style in the SVG (the CSP forbids it)")
		}
	})
	if !found {
		t.Error("no tooltip names the hostile owner as text")
	}
	if doc.Find("svg a.cur").Length() != 1 || doc.Find("svg a.cur").AttrOr("href", "") != BatchURL(fx.HostileOrgBatch) {
		t.Error("the current batch is not outlined once")
	}
	if n := doc.Find("ul.legend li").Length(); n < 3 || !strings.Contains(doc.Find("ul.legend").Text(), "retired") {
		t.Errorf("legend: %d entries, %q", n, doc.Find("ul.legend").Text())
	}
}

func TestIcicleOfNothingIsEmpty(t *testing.T) {
	b := &registry.CreditBatch{ID: "ctb_1DRBTYA8Q1S07CBY", Status: registry.StatusActive}
	tree := &lineage.Tree{Root: &lineage.Node{ID: b.ID, Batch: b}, Nodes: map[string]*lineage.Node{}}
	if v := NewIcicle(tree, IcicleOptions{}); !v.Empty || len(v.Bars) != 0 {
		t.Errorf("a zero-kg tree gives %+v", v)
	}
	if v := NewIcicle(nil, IcicleOptions{}); !v.Empty {
		t.Error("no tree gives a chart")
	}
}
