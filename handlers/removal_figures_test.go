package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// The registry records carbon removal figures on some batches only, with net = that batch's
// size. A lineage page says whose figures it shows and shows them the same way at every level:
// a batch that carries them shows them as its own; its root, of the same removal, which carries
// none, shows its share, pro rata, whose net removal is then exactly its own size.
func TestRemovalFiguresSayWhoseTheyAre(t *testing.T) {
	a := newApp(t, appOptions{})
	job := a.explorer.StartLineage(a.fx.WideRoot, false)
	<-job.Done()
	tree, err := job.Result()
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Root
	if root.Batch == nil || root.Batch.CarbonRemovalData != nil {
		t.Fatal("the demo's wide root carries removal figures: not the case this test is for")
	}
	var carrier *lineage.Node
	tree.Each(func(n *lineage.Node) bool {
		if carrier == nil && n.Batch != nil && n.Batch.CarbonRemovalData != nil && n.Batch.RemovalID == root.Batch.RemovalID &&
			n.Batch.CarbonRemovalData.NetCarbonRemovedKg == n.Batch.Size.CreditKgs {
			carrier = n
		}
		return carrier == nil
	})
	if carrier == nil {
		t.Fatal("no batch of the wide tree carries its removal's figures")
	}

	doc, _ := a.page(t, "/batches/"+carrier.ID, http.StatusOK)
	whose := text(doc.Find("[data-testid=removal-whose]"))
	if !strings.Contains(whose, "This batch's figures") || !strings.Contains(text(doc.Find("[data-testid=removal] summary")), "as recorded on this batch") {
		t.Errorf("the carrier %s says %q", carrier.ID, whose)
	}

	doc, _ = a.page(t, "/batches/"+root.ID, http.StatusOK)
	box := doc.Find("[data-testid=removal]")
	if box.Length() != 1 {
		t.Fatalf("the root %s shows no removal figures, though %s of its removal %s carries them", root.ID, carrier.ID, root.Batch.RemovalID)
	}
	whose = text(box.Find("[data-testid=removal-whose]"))
	if !strings.Contains(whose, "pro rata") || !strings.Contains(whose, root.Batch.RemovalID) {
		t.Errorf("the root says %q", whose)
	}
	src := box.Find("[data-testid=removal-whose] a").AttrOr("href", "")
	n := tree.Nodes[strings.TrimPrefix(src, "/batches/")]
	if n == nil || n.Batch == nil || n.Batch.CarbonRemovalData == nil || n.Batch.RemovalID != root.Batch.RemovalID {
		t.Fatalf("the root's figures name %q as their source: not a batch of its removal with figures", src)
	}
	// Net = the source's size, scaled to the root: the root's own size, exactly.
	net := ""
	box.Find("dt").Each(func(i int, dt *goquery.Selection) {
		if text(dt) == "Net removed" {
			net = text(dt.Next())
		}
	})
	if want := views.FormatKg(root.Batch.Size.CreditKgs); net != want {
		t.Errorf("the root's net removal, pro rata, is %q kg, want its size %s kg", net, want)
	}
}
