package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// Issue 14, points 4, 5 and 12: a value the explorer cannot read is shown as sent and marked,
// and never fails a page, an export, a list or the index of serial numbers; a date is the day as
// the registry wrote it.

// appEditing serves the demo registry with edit applied to every record it sends (see
// demo.EditRecords).
func appEditing(t *testing.T, edit func(rec map[string]any)) *testApp {
	t.Helper()
	return newApp(t, appOptions{upstream: func(h http.Handler) http.Handler { return demo.EditRecords(h, edit) }})
}

// editBatch sets fields of the batch with this id, wherever the registry sends it.
func editBatch(id string, fields map[string]any) func(map[string]any) {
	return func(rec map[string]any) {
		if rec["id"] == id {
			for k, v := range fields {
				rec[k] = v
			}
		}
	}
}

// fieldValue is the text of the header row labelled label.
func fieldValue(doc *goquery.Document, label string) *goquery.Selection {
	return doc.Find(".batch-head dt, main dl dt").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return text(s) == label
	}).First().Next()
}

// lineageExport is the part of the lineage JSON these tests read.
type lineageExport struct {
	Nodes []struct {
		ID    string
		Batch map[string]any
	}
	Problems []struct {
		Kind    string `json:"kind"`
		BatchID string `json:"batch_id"`
		Detail  string `json:"detail"`
	} `json:"problems"`
}

func (a *testApp) lineageJSON(t *testing.T, id string) lineageExport {
	t.Helper()
	r := a.get(t, "/api/v1/batches/"+id+"/lineage")
	if r.status != http.StatusOK {
		t.Fatalf("lineage JSON: %d %s", r.status, head(r.body, 300))
	}
	var e lineageExport
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e lineageExport) batch(id string) map[string]any {
	for _, n := range e.Nodes {
		if n.ID == id {
			return n.Batch
		}
	}
	return nil
}

func TestAnUnreadableDateIsShownMarkedAndFailsNothing(t *testing.T) {
	var a *testApp
	a = appEditing(t, func(rec map[string]any) {
		if a != nil && rec["id"] == a.fx.AllFinalRoot {
			rec["delivered_at"] = "not a date"
			rec["retired_at"] = "not a date"
			rec["size"].(map[string]any)["credit_kgs"] = "lots" // a size in quotes
		}
	})
	root := a.fx.AllFinalRoot
	rb, _ := a.reg.Batch(root)

	// The page: the tree renders, the value is shown as sent and marked, the problem listed.
	doc, _ := a.page(t, "/batches/"+root, http.StatusOK)
	marked := doc.Find("[data-testid=not-a-date]")
	if marked.Length() == 0 || !strings.Contains(text(marked), "not a date not a date") {
		t.Errorf("the unreadable date is not shown marked: %q", text(marked))
	}
	if doc.Find("[data-testid=tree] li").Length() < 3 {
		t.Error("the tree was not rendered")
	}
	if got := text(doc.Find("[data-testid=unread]")); !strings.Contains(got, "size.credit_kgs") || !strings.Contains(got, "lots") {
		t.Errorf("the unreadable size is not shown as sent: %q", got)
	}
	probs := text(doc.Find("[data-testid=problems]"))
	for _, f := range []string{"delivered_at", "retired_at", "size.credit_kgs"} {
		if !strings.Contains(probs, f) {
			t.Errorf("the problems do not name %s: %q", f, probs)
		}
	}

	// The JSON keeps the registry's string and lists the problem.
	e := a.lineageJSON(t, root)
	if b := e.batch(root); b == nil || b["delivered_at"] != "not a date" || b["retired_at"] != "not a date" {
		t.Errorf("JSON batch: %v", b)
	}
	kinds := 0
	for _, p := range e.Problems {
		if p.Kind == "unreadable_field" && p.BatchID == root {
			kinds++
		}
	}
	if kinds != 3 {
		t.Errorf("want 3 unreadable_field problems on the root, got %d: %+v", kinds, e.Problems)
	}

	// The CSV, the issuance (whose list of roots carries the record) and its JSON answer too.
	for _, path := range []string{"/batches/" + root + "/lineage.csv", "/issuances/" + rb.IssuanceID, "/api/v1/issuances/" + rb.IssuanceID} {
		if r := a.get(t, path); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, r.status, head(r.body, 300))
		}
	}
	r := a.get(t, "/api/v1/issuances/"+rb.IssuanceID)
	if !strings.Contains(r.body, `"delivered_at": "not a date"`) {
		t.Errorf("the issuance JSON does not keep the registry's string")
	}
}

func TestOneUnreadableRootDoesNotPoisonTheSerialIndex(t *testing.T) {
	var a *testApp
	a = appEditing(t, func(rec map[string]any) {
		if a != nil && rec["id"] == a.fx.AllFinalRoot {
			rec["delivered_at"] = "not a date"
		}
	})
	// A serial of another issuance's tree, not cached: resolving it needs the index, which
	// lists every issuance's roots, the edited one's included.
	leaf, _ := a.reg.Batch(a.fx.WideLeafDeep)
	r := a.get(t, "/serial/"+leaf.SerialNumber)
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), a.fx.WideLeafDeep) {
		t.Fatalf("GET /serial/%s: %d %s", leaf.SerialNumber, r.status, head(r.body, 400))
	}
	// And the edited root's own serial still resolves, to the root.
	rb, _ := a.reg.Batch(a.fx.AllFinalRoot)
	if r := a.get(t, "/serial/"+rb.SerialNumber); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), a.fx.AllFinalRoot) {
		t.Errorf("GET /serial/%s: %d %s", rb.SerialNumber, r.status, r.header.Get("Location"))
	}
}

func TestDatesAreTheDayAsWrittenAndTimesAreUTC(t *testing.T) {
	var a *testApp
	a = appEditing(t, func(rec map[string]any) {
		if a != nil && rec["id"] == a.fx.AllFinalRoot {
			delete(rec, "sequestered_on")
			rec["sequestered_at"] = "2026-01-20T00:30:00+02:00"
			rec["issued_at"] = "2026-01-20T00:30:00+02:00"
		}
	})
	root := a.fx.AllFinalRoot
	doc, _ := a.page(t, "/batches/"+root, http.StatusOK)
	if got := text(fieldValue(doc, "Sequestered")); got != "2026-01-20" {
		t.Errorf("Sequestered shows %q, want 2026-01-20 as written", got)
	}
	if got := text(fieldValue(doc, "Issued")); got != "2026-01-19 22:30 UTC" {
		t.Errorf("Issued shows %q, want the instant in UTC, labelled", got)
	}
	b := a.lineageJSON(t, root).batch(root)
	if b["sequestered_on"] != "2026-01-20" || b["issued_at"] != "2026-01-19T22:30:00Z" {
		t.Errorf("JSON sequestered_on %v, issued_at %v", b["sequestered_on"], b["issued_at"])
	}
}

func TestUnreadableIssuanceAndRetirementFieldsAreShownAsSent(t *testing.T) {
	var a *testApp
	a = appEditing(t, func(rec map[string]any) {
		if a == nil {
			return
		}
		switch rec["id"] {
		case a.fx.Issuance:
			rec["reporting_period_start_at"] = "Q3 2025"
			rec["buffer_pool_credit_batch_size_total"] = "lots"
		case a.fx.Retirement:
			rec["retired_at"] = "yesterday"
			rec["purposes"] = "offsetting"
		}
	})
	doc, _ := a.page(t, "/issuances/"+a.fx.Issuance, http.StatusOK)
	if got := text(doc.Find("[data-testid=not-a-date]")); !strings.Contains(got, "Q3 2025 not a date") {
		t.Errorf("the reporting period is not shown as sent, marked: %q", got)
	}
	if got := text(doc.Find("[data-testid=unread]")); !strings.Contains(got, "buffer_pool_credit_batch_size_total") || !strings.Contains(got, "lots") {
		t.Errorf("the unreadable total is not shown as sent: %q", got)
	}
	doc, _ = a.page(t, "/retirements/"+a.fx.Retirement, http.StatusOK)
	if got := text(doc.Find("[data-testid=not-a-date]")); !strings.Contains(got, "yesterday not a date") {
		t.Errorf("retired_at is not shown as sent, marked: %q", got)
	}
	if got := text(doc.Find("[data-testid=unread]")); !strings.Contains(got, "purposes") || !strings.Contains(got, "offsetting") {
		t.Errorf("the unreadable purposes are not shown as sent: %q", got)
	}
	for _, p := range []string{"/api/v1/issuances/" + a.fx.Issuance, "/api/v1/retirements/" + a.fx.Retirement} {
		r := a.get(t, p)
		if r.status != http.StatusOK || !strings.Contains(r.body, `"lots"`) && !strings.Contains(r.body, `"offsetting"`) {
			t.Errorf("GET %s: %d; the registry's value should be kept as sent", p, r.status)
		}
	}
}

func TestOneUnreadableIssuanceDoesNotPoisonTheSerialIndex(t *testing.T) {
	var a *testApp
	a = appEditing(t, func(rec map[string]any) {
		if _, isIssuance := rec["supplier"]; a != nil && isIssuance && rec["id"] == a.fx.PlantedIssuance {
			rec["id"] = 42 // in the list of issuances the index pages through
			rec["issued_at"] = "not a date"
		}
	})
	leaf, _ := a.reg.Batch(a.fx.WideLeafDeep)
	r := a.get(t, "/serial/"+leaf.SerialNumber)
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), a.fx.WideLeafDeep) {
		t.Fatalf("GET /serial/%s: %d %s", leaf.SerialNumber, r.status, head(r.body, 400))
	}
	// The pass the lookup started completes, the unreadable issuance aside.
	if err := a.explorer.SerialIndex().Refresh(context.Background()); err != nil {
		t.Errorf("the index of issuances could not be built: %v", err)
	}
}
