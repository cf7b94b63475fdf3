package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/views"
)

func TestRetirementPage(t *testing.T) {
	a := newApp(t, appOptions{})
	ctx := context.Background()
	ret, err := a.client.Retirement(ctx, a.fx.Retirement)
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.client.RetirementCreditBatches(ctx, a.fx.Retirement)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := a.page(t, "/retirements/"+a.fx.Retirement, http.StatusOK)
	if got := text(doc.Find("h1 code.id")); got != a.fx.Retirement {
		t.Errorf("h1 %q", got)
	}
	if got := digits(text(doc.Find(".headline .muted"))); got != strconv.FormatInt(ret.CreditBatchSizeTotal.CreditKgs, 10) {
		t.Errorf("total kg shown %s, registry %d", got, ret.CreditBatchSizeTotal.CreditKgs)
	}
	if got := text(doc.Find("[data-testid=beneficiary] .org")); got != ret.Beneficiary.Name {
		t.Errorf("beneficiary %q, registry %q", got, ret.Beneficiary.Name)
	}
	// Purposes read in words, each with the registry's code beside it, in the record's order.
	words := map[string]string{"corporate_targets": "Corporate targets", "public_environmental_claims": "Public environmental claims",
		"insetting": "Insetting", "regulatory_requirement": "Regulatory requirement", "other": "Other"}
	var codes []string
	doc.Find("[data-testid=purposes] li").Each(func(i int, li *goquery.Selection) {
		code := text(li.Find("code"))
		codes = append(codes, code)
		if w, ok := words[code]; !ok || text(li.Find(".purpose")) != w {
			t.Errorf("purpose %q reads %q", code, text(li.Find(".purpose")))
		}
	})
	if len(codes) == 0 || strings.Join(codes, "|") != strings.Join(ret.Purposes, "|") {
		t.Errorf("purpose codes %q, registry %q", codes, ret.Purposes)
	}
	if !doc.Find("[data-testid=check]").HasClass("ok") {
		t.Errorf("check: %s", text(doc.Find("[data-testid=check]")))
	}

	items := doc.Find("[data-testid=batches] tbody > tr")
	if items.Length() != len(list.Nodes) {
		t.Fatalf("%d batches shown, the registry lists %d", items.Length(), len(list.Nodes))
	}
	issuances := map[string]bool{}
	items.Each(func(i int, li *goquery.Selection) {
		b := list.Nodes[i]
		issuances[b.IssuanceID] = true
		if li.Find("th > a[href='"+views.BatchURL(b.ID)+"']").Length() != 1 {
			t.Errorf("batch %d does not link to %s", i, b.ID)
		}
		if li.Find("a[href='"+views.IssuanceURL(b.IssuanceID)+"']").Length() == 0 {
			t.Errorf("%s does not link to its issuance %s", b.ID, b.IssuanceID)
		}
		// The path, checked against the registry's own records: it starts at a root of the
		// batch's issuance, each step is the parent of the next, and it ends at the batch.
		var ids []string
		li.Find("[data-testid=path] > li:not(.fold) code").Each(func(_ int, c *goquery.Selection) { ids = append(ids, c.Text()) })
		if len(ids) == 0 || ids[len(ids)-1] != b.ID {
			t.Fatalf("%s: path %v does not end at the batch", b.ID, ids)
		}
		root, _ := a.reg.Batch(ids[0])
		if root.ParentID != "" || root.IssuanceID != b.IssuanceID {
			t.Errorf("%s: path starts at %s (parent %q, issuance %s), not a root of %s", b.ID, ids[0], root.ParentID, root.IssuanceID, b.IssuanceID)
		}
		if folded := li.Find("[data-testid=path] li.fold").Length(); folded == 0 {
			for k := 1; k < len(ids); k++ {
				if c, _ := a.reg.Batch(ids[k]); c.ParentID != ids[k-1] {
					t.Errorf("%s: step %s has parent %s, the path shows %s", b.ID, ids[k], c.ParentID, ids[k-1])
				}
			}
		}
	})
	if len(issuances) < 2 {
		t.Errorf("the fixture retires from several issuances; the page shows %d", len(issuances))
	}
	if got := doc.Find("[data-testid=retirement-fields] a[href^='/issuances/']").Length(); got != len(issuances) {
		t.Errorf("the header links %d issuances, the batches come from %d", got, len(issuances))
	}
}

func TestRetirementMarkupIsText(t *testing.T) {
	a := newApp(t, appOptions{})
	ret, err := a.client.Retirement(context.Background(), a.fx.HostileRetirement)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ret.Beneficiary.Name, "<") || !strings.Contains(ret.Notes, "<script") {
		t.Fatalf("the fixture lost its markup: %q / %q", ret.Beneficiary.Name, ret.Notes)
	}
	doc, r := a.page(t, "/retirements/"+a.fx.HostileRetirement, http.StatusOK)
	for _, raw := range []string{ret.Beneficiary.Name, ret.Notes, ret.Owner.Name} {
		if strings.Contains(r.body, raw) {
			t.Errorf("%q reached the page unescaped", raw)
		}
	}
	// The names' own <b>Sons</b> and the notes' <b>all</b> must stay text.
	if doc.Find("main script, main img").Length() != 0 || doc.Find("main b").FilterFunction(func(_ int, b *goquery.Selection) bool {
		return b.Text() == "Sons" || b.Text() == "all"
	}).Length() != 0 {
		t.Error("upstream markup became elements")
	}
	if got := text(doc.Find("[data-testid=beneficiary] .org")); got != ret.Beneficiary.Name {
		t.Errorf("beneficiary shown %q, want the name as text %q", got, ret.Beneficiary.Name)
	}
	if got := doc.Find("[data-testid=notes]").Text(); got != ret.Notes {
		t.Errorf("notes shown %q, want %q", got, ret.Notes)
	}

	// In JSON the names are data: intact once decoded, and no raw markup in the body.
	j := a.get(t, "/api/v1/retirements/"+a.fx.HostileRetirement)
	if j.status != 200 || strings.Contains(j.body, "<") {
		t.Fatalf("JSON: %d, raw markup: %v", j.status, strings.Contains(j.body, "<"))
	}
	var rep struct {
		Retirement struct {
			Beneficiary struct{ Name string } `json:"beneficiary"`
			Notes       string                `json:"notes"`
		} `json:"retirement"`
		BatchesKg json.Number `json:"batches_kg"`
		Batches   []struct {
			Batch struct {
				ID string `json:"id"`
			} `json:"batch"`
			Path []struct {
				ID        string      `json:"id"`
				CreditKgs json.Number `json:"credit_kgs"`
			} `json:"path"`
			Complete bool `json:"complete"`
		} `json:"batches"`
	}
	if err := json.Unmarshal([]byte(j.body), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Retirement.Beneficiary.Name != ret.Beneficiary.Name || rep.Retirement.Notes != ret.Notes {
		t.Errorf("JSON names: %+v", rep.Retirement)
	}
	if rep.BatchesKg.String() != strconv.FormatInt(ret.CreditBatchSizeTotal.CreditKgs, 10) {
		t.Errorf("batches_kg %s, registry %d", rep.BatchesKg, ret.CreditBatchSizeTotal.CreditKgs)
	}
	for _, b := range rep.Batches {
		if !b.Complete || len(b.Path) == 0 || b.Path[len(b.Path)-1].ID != b.Batch.ID {
			t.Errorf("%s: path %+v", b.Batch.ID, b.Path)
		}
		for _, s := range b.Path {
			if strings.ContainsAny(s.CreditKgs.String(), ".eE") {
				t.Errorf("credit_kgs %s is not a JSON integer", s.CreditKgs)
			}
		}
	}
}

func TestRetirementFromADeepChainFoldsItsPath(t *testing.T) {
	a := newApp(t, appOptions{})
	tip, _ := a.reg.Batch(a.fx.DeepChainLeaf)
	parent, _ := a.reg.Batch(tip.ParentID)
	peeled, _ := a.reg.Batch(parent.LeftChildID) // the small retired half of the last split
	if peeled.RetirementID == "" {
		t.Fatalf("%s is not retired", peeled.ID)
	}
	doc, r := a.page(t, "/retirements/"+peeled.RetirementID, http.StatusOK)
	li := doc.Find("tr#" + views.NodeAnchor(peeled.ID))
	if li.Length() != 1 {
		t.Fatalf("%s is not listed", peeled.ID)
	}
	// Hundreds of splits deep: the ends are shown, the middle is a link to the batch's page.
	steps := li.Find("[data-testid=path] > li:not(.fold)")
	if steps.Length() > 12 || text(steps.Last().Find("code")) != peeled.ID {
		t.Errorf("%d steps shown, last %q", steps.Length(), text(steps.Last().Find("code")))
	}
	if first, _ := a.reg.Batch(text(steps.First().Find("code"))); first.ParentID != "" {
		t.Errorf("the path starts at %s, which has a parent", first.ID)
	}
	if got := text(li.Find("[data-col=depth]")); got != views.FormatCount(a.fx.DeepChainDepth) {
		t.Errorf("depth: %s, want %d", got, a.fx.DeepChainDepth)
	}
	if li.Find("[data-testid=path] li.fold a[href='"+views.BatchURL(peeled.ID)+"']").Length() != 1 {
		t.Error("the folded middle does not lead to the batch's page")
	}
	t.Logf("retirement %s: %d batches, page %d bytes", peeled.RetirementID, doc.Find("[data-testid=batches] tbody > tr").Length(), len(r.body))
}
