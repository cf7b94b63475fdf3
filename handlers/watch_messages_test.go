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

// apiErrorOf reads a JSON error answer.
func apiErrorOf(t *testing.T, r response) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("answer %d %q: %v", r.status, head(r.body, 200), err)
	}
	return e
}

// Removing a watch that is not in the list says so in the list's terms, not the registry's.
func TestWatchDeleteOfMissingWatchSaysSo(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	r := w.send(t, http.MethodDelete, "/api/v1/watches/NOPE", "", "", nil)
	if e := apiErrorOf(t, r); r.status != http.StatusNotFound || e.Code != "not_found" || e.Error != "no watch NOPE in your list" {
		t.Errorf("DELETE of a missing watch: %d %+v", r.status, e)
	}
}

// "Stop watching" clicked twice goes back to the list, which says there was nothing to stop,
// rather than to a 404 page.
func TestWatchStopTwiceGoesBackToTheList(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	wt, err := w.journal.AddWatch(t.Context(), "", history.WatchBatch, w.fx.WideRoot, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := w.send(t, http.MethodPost, views.WatchDeleteURL(wt.ID), formType, "", nil)
	if first.status != http.StatusSeeOther || first.header.Get("Location") != views.WatchURL() {
		t.Fatalf("the first click: %d to %q", first.status, first.header.Get("Location"))
	}
	doc, _ := w.page(t, first.header.Get("Location"), http.StatusOK)
	if doc.Find("[data-testid=watch-notice]").Length() != 0 {
		t.Errorf("a notice after a watch was stopped: %q", text(doc.Find("[data-testid=watch-notice]")))
	}
	second := w.send(t, http.MethodPost, views.WatchDeleteURL(wt.ID), formType, "", nil)
	if second.status != http.StatusSeeOther || !strings.HasPrefix(second.header.Get("Location"), views.WatchURL()+"?") {
		t.Fatalf("the second click: %d to %q, want 303 back to the list", second.status, second.header.Get("Location"))
	}
	doc, _ = w.page(t, second.header.Get("Location"), http.StatusOK)
	if got := text(doc.Find("[data-testid=watch-notice]")); !strings.Contains(got, "no longer in your list") {
		t.Errorf("the list after the second click says %q", got)
	}
}

// The cross-origin refusal, shared by the claims check and the watch lists, speaks of neither.
func TestCrossOriginRefusalIsGeneric(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	for _, p := range []string{views.WatchURL(), "/api/v1/watches", "/api/v1/claims"} {
		r := w.send(t, http.MethodPost, p, "application/json", `{}`, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		e := apiErrorOf(t, r)
		if r.status != http.StatusForbidden || !strings.HasPrefix(e.Error, "cross-origin requests are refused: use the explorer's own pages") || strings.Contains(e.Error, "list") {
			t.Errorf("cross-origin POST %s: %d %q", p, r.status, e.Error)
		}
	}
}

// A method /api/v1/watches lacks is answered with the ones it has, in Allow and in words; an
// address the API lacks lists every route, the watch lists', claims' and history's included.
func TestWatchesAPIRouteErrorsSayWhatIsThere(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	r := w.send(t, http.MethodPut, "/api/v1/watches", "application/json", `{}`, nil)
	e := apiErrorOf(t, r)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST" || !strings.Contains(e.Error, "GET, HEAD and POST") || strings.Contains(e.Error, "only reads") {
		t.Errorf("PUT /api/v1/watches: %d Allow %q %q", r.status, r.header.Get("Allow"), e.Error)
	}
	r = w.send(t, http.MethodPut, views.WatchURL(), formType, "", nil)
	if got := text(mustDoc(t, r.body).Find("h1")); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST" || !strings.Contains(got, "GET, HEAD and POST") {
		t.Errorf("PUT /watch: %d Allow %q, page heading %q", r.status, r.header.Get("Allow"), got)
	}
	r = w.send(t, http.MethodPost, "/api/v1/batches/"+w.fx.WideRoot+"/lineage", "", "", nil)
	if e := apiErrorOf(t, r); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" || !strings.Contains(e.Error, "only reads") {
		t.Errorf("POST to a read-only route: %d Allow %q %q", r.status, r.header.Get("Allow"), e.Error)
	}
	r = w.send(t, http.MethodGet, "/api/v1/nope", "", "", nil)
	e = apiErrorOf(t, r)
	for _, route := range []string{"/api/v1/watches", "/api/v1/watches/{id}", "/api/v1/claims", "/api/v1/claims/{id}", "/api/v1/batches/{id}/history", "/api/v1/batches/{id}/lineage"} {
		if !strings.Contains(e.Error, route+" ") && !strings.Contains(e.Error, route+",") && !strings.HasSuffix(e.Error, route) {
			t.Errorf("the 404's route list lacks %s: %q", route, e.Error)
		}
	}
}
