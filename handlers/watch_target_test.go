package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/views"
)

// unknownIssuance is a well-formed issuance id the demo registry does not have.
const unknownIssuance = "iss_1ZZZZZZZZZZZZZZZ"

// An issuance the registry does not have cannot be watched, over the API or the form, as a
// batch or a serial number it does not have cannot: 404 saying so, and nothing added.
func TestWatchOfUnknownIssuanceRefused(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	r := w.send(t, http.MethodPost, "/api/v1/watches", "application/json", `{"kind": "issuance", "target": "`+unknownIssuance+`"}`, nil)
	var e apiError
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	if r.status != http.StatusNotFound || e.Code != "not_found" || !strings.Contains(e.Error, "no issuance "+unknownIssuance) {
		t.Errorf("API: %d %+v, want 404 saying the registry has no such issuance", r.status, e)
	}
	r = w.send(t, http.MethodPost, views.WatchURL(), formType, form("kind", "issuance", "target", unknownIssuance), nil)
	if got := text(mustDoc(t, r.body).Find("[data-testid=watch-error]")); r.status != http.StatusNotFound || !strings.Contains(got, "no issuance "+unknownIssuance) {
		t.Errorf("form: %d %q, want 404 saying the registry has no such issuance", r.status, got)
	}
	if ws, _ := w.journal.Watches(t.Context(), ""); len(ws) != 0 {
		t.Errorf("watches added: %+v", ws)
	}
}

// A watch whose issuance the registry does not have (one added before it was checked, or one
// the registry has since lost) is said in words on /watch and in the JSON, never as the
// upstream request that failed.
func TestWatchProblemSaidWithoutUpstreamRequest(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	if _, err := w.journal.AddWatch(t.Context(), "", history.WatchIssuance, unknownIssuance, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.poll(t)
	doc, _ := w.page(t, views.WatchURL(), http.StatusOK)
	got := text(doc.Find("[data-testid=watch-problem]"))
	if !strings.Contains(got, "the registry has no such issuance") {
		t.Errorf("/watch says %q; want that the registry has no such issuance", got)
	}
	js := w.watchesOf(t, nil)
	if len(js.Watches) != 1 || js.Watches[0].Problem != got {
		t.Errorf("JSON problem %+v; want %q as on the page", js.Watches, got)
	}
	for _, raw := range []string{"GET ", "/credit_batches", "HTTP 404", "/issuances/"} {
		if strings.Contains(got, raw) {
			t.Errorf("/watch shows the upstream's %q: %q", raw, got)
		}
	}
}

// The kind is read whatever its case, and the target as search reads it: an id in another
// case, or pasted as a registry URL, is watched as its canonical id.
func TestWatchAcceptsKindAndTargetAsSearchDoes(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	leaf, _ := w.reg.Batch(w.fx.WideLeafDeep)
	cases := []struct{ kind, target, wantKind, wantTarget string }{
		{"BATCH", w.fx.WideLeafDeep, history.WatchBatch, w.fx.WideLeafDeep},
		{"Batch", "https://registry.isometric.com/credit-batch/" + strings.ToLower(w.fx.WideRoot), history.WatchBatch, w.fx.WideRoot},
		{"issuance", strings.ToLower(w.fx.Issuance), history.WatchIssuance, w.fx.Issuance},
		{"Serial", "https://registry.isometric.com/serial/" + leaf.SerialNumber, history.WatchSerial, leaf.SerialNumber},
	}
	for _, c := range cases {
		body, _ := json.Marshal(map[string]string{"kind": c.kind, "target": c.target})
		r := w.send(t, http.MethodPost, "/api/v1/watches", "application/json", string(body), nil)
		var got watchJSON
		_ = json.Unmarshal([]byte(r.body), &got)
		if r.status != http.StatusCreated || got.Kind != c.wantKind || got.Target != c.wantTarget {
			t.Errorf("API %q %q: %d kind %q target %q; want 201 %s %s", c.kind, c.target, r.status, got.Kind, got.Target, c.wantKind, c.wantTarget)
		}
	}
	r := w.send(t, http.MethodPost, views.WatchURL(), formType, form("kind", "ISSUANCE", "target", "registry.isometric.com/issuance/"+w.fx.Issuance), nil)
	if r.status != http.StatusSeeOther {
		t.Errorf("form, ISSUANCE as a URL: %d %q", r.status, text(mustDoc(t, r.body).Find("[data-testid=watch-error]")))
	}
	if ws, _ := w.journal.Watches(t.Context(), ""); len(ws) != len(cases) {
		t.Errorf("%d watches, want %d (the form's issuance is the API's): %+v", len(ws), len(cases), ws)
	}
}
