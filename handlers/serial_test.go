package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// serialOf is the parsed serial number of a demo batch, from the registry's own record.
func (a *testApp) serialOf(t *testing.T, id string) registry.Serial {
	t.Helper()
	b, ok := a.reg.Batch(id)
	if !ok {
		t.Fatalf("%s: not in the demo registry", id)
	}
	s, err := registry.ParseSerial(b.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSerialRedirectsToItsBatchWhateverItsStatus(t *testing.T) {
	a := newApp(t, appOptions{})
	last, err := a.client.IssuanceCreditBatches(context.Background(), a.fx.LastPageIssuance)
	if err != nil {
		t.Fatal(err)
	}
	lastRoot := last.SupplierCreditBatches[len(last.SupplierCreditBatches)-1].ID
	for _, tc := range []struct {
		name, id string
	}{
		{"active leaf ten splits down", a.fx.WideLeafDeep},
		{"split root", a.fx.WideRoot},
		{"retired batch", a.fx.HostileOrgBatch},
		{"tip of a 300-deep chain", a.fx.DeepChainLeaf},
		{"root of the issuance on the last page of GET /issuances", lastRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := a.reg.Batch(tc.id)
			r := a.get(t, "/serial/"+url.PathEscape(want.SerialNumber))
			if r.status != http.StatusSeeOther || r.header.Get("Location") != views.BatchURL(tc.id) {
				t.Errorf("GET /serial/%s = %d to %q, want 303 to %s", want.SerialNumber, r.status, r.header.Get("Location"), views.BatchURL(tc.id))
			}
		})
	}
}

func TestSerialPastedFromASpreadsheet(t *testing.T) {
	a := newApp(t, appOptions{})
	s := a.serialOf(t, a.fx.WideLeafDeep).String()
	for _, pasted := range []string{strings.ToLower(s), "  " + s + ".\t", `"` + s + `"`, strings.ReplaceAll(s, "-", "–")} {
		r := a.get(t, "/serial/"+url.PathEscape(pasted))
		if r.status != http.StatusSeeOther || r.header.Get("Location") != views.BatchURL(a.fx.WideLeafDeep) {
			t.Errorf("%q: %d to %q", pasted, r.status, r.header.Get("Location"))
		}
	}
	// Search hands a serial to the same route, in canonical form.
	r := a.get(t, "/search?q="+url.QueryEscape(" "+strings.ToLower(s)+". "))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != views.SerialURL(s) {
		t.Errorf("search: %d to %q", r.status, r.header.Get("Location"))
	}
}

func TestSerialInsideABatchSaysSo(t *testing.T) {
	a := newApp(t, appOptions{})
	leaf := a.serialOf(t, a.fx.WideLeafDeep)
	cut := leaf
	cut.First, cut.Last = leaf.First+1, leaf.Last-1 // cut from a certificate: no batch's own

	r := a.get(t, "/serial/"+cut.String())
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d", r.status)
	}
	loc, _ := url.Parse(r.header.Get("Location"))
	if loc.Path != views.BatchURL(a.fx.WideLeafDeep) || loc.Query().Get("serial") != cut.String() {
		t.Fatalf("Location %q, want the leaf with ?serial=%s", loc, cut)
	}
	doc, _ := a.page(t, loc.String(), http.StatusOK)
	notice := text(doc.Find("[data-testid=within]"))
	if !strings.Contains(notice, cut.String()) || !strings.Contains(notice, leaf.String()) {
		t.Errorf("notice %q does not name the serial asked for and the batch's own", notice)
	}

	// A range across the boundary of the root's two halves lies in no half: the root it is.
	root, _ := a.reg.Batch(a.fx.WideRoot)
	left := a.serialOf(t, root.LeftChildID)
	across := left
	across.First, across.Last = left.Last-1, left.Last+1
	r = a.get(t, "/serial/"+across.String())
	loc, _ = url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc.Path != views.BatchURL(a.fx.WideRoot) {
		t.Errorf("across the halves: %d to %q, want the root %s", r.status, loc, a.fx.WideRoot)
	}

	// The page checks the claim instead of trusting the URL: no notice for the batch's own
	// serial, for a range outside it, or for one that a half of it holds.
	for _, p := range []string{
		views.BatchWithinURL(a.fx.WideLeafDeep, leaf.String()),
		views.BatchWithinURL(a.fx.WideLeafDeep, across.String()),
		views.BatchWithinURL(a.fx.WideRoot, cut.String()),
		views.BatchURL(a.fx.WideLeafDeep) + "?serial=%3Cscript%3E",
	} {
		doc, _ := a.page(t, p, http.StatusOK)
		if doc.Find("[data-testid=within]").Length() != 0 {
			t.Errorf("%s: a notice that is not true of this batch", p)
		}
	}
}

func TestUnknownSerialNamesItAndTheIndexFreshness(t *testing.T) {
	a := newApp(t, appOptions{})
	leaf := a.serialOf(t, a.fx.WideLeafDeep)
	unknown := leaf
	unknown.Project = "ZZ99" // no project has this code
	doc, _ := a.page(t, "/serial/"+strings.ToLower(unknown.String()), http.StatusNotFound)
	main := text(doc.Find("main"))
	if !strings.Contains(text(doc.Find("h1")), unknown.String()) {
		t.Errorf("heading %q does not name %s", text(doc.Find("h1")), unknown)
	}
	asOf := a.explorer.SerialIndex().Status().IndexedAsOf
	if asOf.IsZero() || !strings.Contains(main, "as of "+asOf.UTC().Format("2006-01-02 15:04:05 UTC")) {
		t.Errorf("the page does not say how fresh the index is (%v): %s", asOf, main)
	}

	// Past the end of every range of a known block: unknown too.
	beyond := leaf
	beyond.First, beyond.Last = 1<<62, 1<<62+5
	a.page(t, "/serial/"+beyond.String(), http.StatusNotFound)
}

func TestMalformedSerialIs400WithNothingSentUpstream(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, bad := range []string{"not-a-serial", "ISO-1-BSTORE-GBR-F5X7-2024-81177-78177", "ISO-1-BSTORE-GBR-F5X7-1800-1-2",
		"<img src=x onerror=alert(1)>", "ISO-1-BSTORE-GBR-F5X7-2024-1-99999999999999999999"} {
		doc, r := a.page(t, "/serial/"+url.PathEscape(bad), http.StatusBadRequest)
		if !strings.Contains(text(doc.Find(".hint")), registry.ExampleSerial) {
			t.Errorf("%q: the 400 page does not show a valid serial: %s", bad, text(doc.Find("main")))
		}
		if strings.Contains(r.body, "<img src=x") {
			t.Errorf("%q reached the page unescaped", bad)
		}
		j := a.get(t, "/api/v1/serial/"+url.PathEscape(bad))
		var body struct {
			Status     int
			Code, Hint string
		}
		if err := json.Unmarshal([]byte(j.body), &body); err != nil || j.status != 400 || body.Code != "invalid" || !strings.Contains(body.Hint, registry.ExampleSerial) {
			t.Errorf("JSON for %q: %d %s", bad, j.status, j.body)
		}
	}
	// Which part is wrong is said.
	doc, _ := a.page(t, "/serial/ISO-1-BSTORE-GBR-F5X7-1800-1-2", http.StatusBadRequest)
	if !strings.Contains(text(doc.Find("details.tech")), "vintage") {
		t.Errorf("the 400 page does not say the vintage is wrong: %s", text(doc.Find("main")))
	}
	if n := a.reg.Requests(); n != 0 {
		t.Errorf("malformed serials sent %d upstream requests", n)
	}
}

func TestSerialJSON(t *testing.T) {
	a := newApp(t, appOptions{})
	leaf := a.serialOf(t, a.fx.WideLeafDeep)
	cut := leaf
	cut.First++

	var got struct {
		Serial      string `json:"serial"`
		BatchID     string `json:"batch_id"`
		BatchSerial string `json:"batch_serial"`
		Exact       bool   `json:"exact"`
		IndexedAsOf string `json:"indexed_as_of"`
		URL         string `json:"url"`
	}
	for _, tc := range []struct {
		asked   registry.Serial
		exact   bool
		wantURL string
	}{
		{leaf, true, views.BatchURL(a.fx.WideLeafDeep)},
		{cut, false, views.BatchWithinURL(a.fx.WideLeafDeep, cut.String())},
	} {
		r := a.get(t, "/api/v1/serial/"+strings.ToLower(tc.asked.String()))
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %q", tc.asked, r.status, r.header.Get("Content-Type"))
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Serial != tc.asked.String() || got.BatchID != a.fx.WideLeafDeep || got.BatchSerial != leaf.String() ||
			got.Exact != tc.exact || got.URL != tc.wantURL || got.IndexedAsOf == "" {
			t.Errorf("%s: %+v", tc.asked, got)
		}
	}
	unknown := leaf
	unknown.Project = "ZZ99"
	r := a.get(t, "/api/v1/serial/"+unknown.String())
	var e struct {
		Status      int    `json:"status"`
		Code        string `json:"code"`
		Value       string `json:"value"`
		IndexedAsOf string `json:"indexed_as_of"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.status != 404 || e.Status != 404 || e.Code != "not_found" ||
		e.Value != unknown.String() || e.IndexedAsOf == "" {
		t.Errorf("unknown serial: %d %s", r.status, r.body)
	}
}

// The page for a malformed serial says which part is wrong, not only that it is wrong.
func TestMalformedSerialPageSaysWhy(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/serial/ISO-1-BSTORE-GBR-F5X7-2024-33380148-33356813", http.StatusBadRequest)
	if msg := text(doc.Find("h1 + p")); !strings.Contains(msg, "its last unit must be greater than its first") {
		t.Errorf("message %q does not say why", msg)
	}
}
