package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
	"github.com/lineage-explorer/explorer/views"
)

type watchesAnswer struct {
	Interval string      `json:"interval"`
	Budget   int         `json:"budget_per_hour"`
	Watches  []watchJSON `json:"watches"`
}

func (w *watchApp) watchesOf(t *testing.T, h http.Header) watchesAnswer {
	t.Helper()
	r := w.send(t, http.MethodGet, "/api/v1/watches", "", "", h)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/watches: %d %s", r.status, r.body)
	}
	var out watchesAnswer
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

const formType = "application/x-www-form-urlencoded"

// Another user can neither see nor remove a watch: its id answers 404 as one that does not
// exist, over the API and the form alike.
func TestWatchOwnership(t *testing.T) {
	w := newWatchApp(t, watchOptions{auth: &AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies}})
	alice, bob := as("alice@corp.example"), as("bob@corp.example")
	r := w.send(t, http.MethodPost, "/api/v1/watches", "application/json", `{"kind": "batch", "target": "`+w.fx.WideLeafDeep+`"}`, alice)
	if r.status != http.StatusCreated {
		t.Fatalf("alice adds a watch: %d %s", r.status, r.body)
	}
	var added watchJSON
	if err := json.Unmarshal([]byte(r.body), &added); err != nil || added.ID == "" {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	if got := w.watchesOf(t, bob); len(got.Watches) != 0 {
		t.Errorf("bob's list shows %+v", got.Watches)
	}
	doc, _ := w.pageAs(t, "/watch", bob)
	if strings.Contains(doc.Text(), w.fx.WideLeafDeep) || doc.Find("[data-testid=watch-item]").Length() != 0 {
		t.Error("bob's /watch shows alice's watch")
	}
	// The API answers 404; the form, whose user wanted the watch gone, goes back to the list
	// with a notice (TestWatchStopTwiceGoesBackToTheList): the same for both ids.
	for _, req := range []struct {
		method, path string
		status       int
	}{
		{http.MethodDelete, "/api/v1/watches/" + added.ID, http.StatusNotFound},
		{http.MethodPost, views.WatchDeleteURL(added.ID), http.StatusSeeOther},
	} {
		r := w.send(t, req.method, req.path, formType, "", bob)
		if r.status != req.status {
			t.Errorf("bob: %s %s answered %d, want %d", req.method, req.path, r.status, req.status)
		}
		other := w.send(t, req.method, strings.Replace(req.path, added.ID, "AAAAAAAAAAAAAAAAAAAAAAAAAA", 1), formType, "", bob)
		if other.status != r.status || other.header.Get("Location") != r.header.Get("Location") {
			t.Errorf("an id that does not exist: %s answered %d to %q, alice's %d to %q", req.method, other.status, other.header.Get("Location"), r.status, r.header.Get("Location"))
		}
	}
	if got := w.watchesOf(t, alice); len(got.Watches) != 1 || got.Watches[0].ID != added.ID || got.Watches[0].Target != w.fx.WideLeafDeep {
		t.Fatalf("alice's list after bob tried: %+v", got.Watches)
	}
	if r := w.send(t, http.MethodDelete, "/api/v1/watches/"+added.ID, "", "", alice); r.status != http.StatusNoContent {
		t.Errorf("alice removes her watch: %d %s", r.status, r.body)
	}
	if got := w.watchesOf(t, alice); len(got.Watches) != 0 {
		t.Errorf("alice's list after removing: %+v", got.Watches)
	}
}

func (w *watchApp) pageAs(t *testing.T, path string, h http.Header) (*goquery.Document, response) {
	t.Helper()
	r := w.send(t, http.MethodGet, path, "", "", h)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, head(r.body, 400))
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

// Every write of a watch list is refused cross-origin (another site cannot make a signed-in
// browser add, remove or redirect watches); the same requests from the explorer's own pages
// or from a tool go through.
func TestWatchWritesRefusedCrossOrigin(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	existing, err := w.journal.AddWatch(t.Context(), "", history.WatchBatch, w.fx.WideRoot, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	writes := []struct{ method, path, ct, body string }{
		{http.MethodPost, views.WatchURL(), formType, form("kind", "batch", "target", w.fx.WideLeafDeep)},
		{http.MethodPost, "/api/v1/watches", "application/json", `{"kind": "batch", "target": "` + w.fx.WideLeafDeep + `"}`},
		{http.MethodPost, views.WatchDeleteURL(existing.ID), formType, ""},
		{http.MethodDelete, "/api/v1/watches/" + existing.ID, "", ""},
		{http.MethodPost, views.WatchWebhookURL(), formType, form("url", "https://hooks.example.org/x", "secret", "0123456789abcdef0123")},
	}
	for _, h := range []http.Header{{"Sec-Fetch-Site": {"cross-site"}}, {"Origin": {"https://evil.example"}}} {
		for _, wr := range writes {
			if r := w.send(t, wr.method, wr.path, wr.ct, wr.body, h); r.status != http.StatusForbidden {
				t.Errorf("cross-origin %s %s with %v: %d, want 403", wr.method, wr.path, h, r.status)
			}
		}
	}
	ws, _ := w.journal.Watches(t.Context(), "")
	if len(ws) != 1 || ws[0].ID != existing.ID {
		t.Errorf("after refused writes the list is %+v, want only %s", ws, existing.ID)
	}
	if _, ok, _ := w.journal.Webhook(t.Context(), ""); ok {
		t.Error("a cross-origin form set the webhook")
	}
	same := http.Header{"Sec-Fetch-Site": {"same-origin"}}
	if r := w.send(t, http.MethodPost, views.WatchURL(), formType, writes[0].body, same); r.status != http.StatusSeeOther {
		t.Errorf("same-origin form: %d %s, want 303", r.status, head(r.body, 300))
	}
	if r := w.send(t, http.MethodDelete, "/api/v1/watches/"+existing.ID, "", "", nil); r.status != http.StatusNoContent {
		t.Errorf("a tool's DELETE (no browser headers): %d, want 204", r.status)
	}
}

// Watching from the lineage page's button, then a split in the tree: /watch says it once,
// the visit after says nothing new, and the webhook got it.
func TestWatchPageListsChangesSinceLastVisit(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	doc, _ := w.page(t, views.BatchURL(w.parent), http.StatusOK)
	btn := doc.Find("form[data-testid=watch-batch]")
	if btn.Length() != 1 || btn.AttrOr("method", "") != "post" || btn.Find("input[name=target]").AttrOr("value", "") != w.parent {
		t.Fatalf("the lineage page's Watch form: %q", text(btn))
	}
	set := w.send(t, http.MethodPost, views.WatchWebhookURL(), formType, form("url", "https://hooks.example.org/lineage/T0KEN", "secret", "a-secret-of-twenty-chars"), nil)
	if set.status != http.StatusSeeOther {
		t.Fatalf("setting the webhook: %d %s", set.status, head(set.body, 300))
	}
	r := w.send(t, http.MethodPost, views.WatchURL(), formType, form("kind", "batch", "target", w.parent), nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != views.WatchURL() {
		t.Fatalf("the Watch form: %d to %q", r.status, r.header.Get("Location"))
	}
	w.poll(t)
	doc, page := w.page(t, views.WatchURL(), http.StatusOK)
	items := doc.Find("[data-testid=watch-item]")
	if items.Length() != 1 || items.Find("[data-testid=watch-no-changes]").Length() != 1 {
		t.Fatalf("before any change: %q", text(items))
	}
	if strings.Contains(page.body, "T0KEN") || strings.Contains(page.body, "a-secret-of-twenty-chars") {
		t.Error("/watch shows the webhook's path or secret")
	}
	if got := text(doc.Find("[data-testid=webhook-where]")); got != "https://hooks.example.org/…" {
		t.Errorf("webhook shown as %q", got)
	}

	w.split.Store(true)
	w.poll(t)
	nextMillisecond() // a change observed in the millisecond of a visit is listed by the next one too
	doc, _ = w.page(t, views.WatchURL(), http.StatusOK)
	changes := doc.Find("[data-testid=watch-change]")
	if changes.Length() == 0 || !strings.Contains(text(changes), "split into") || !strings.Contains(text(changes), w.fx.HostileOrgBatch) {
		t.Errorf("after the split: %q; want it said", text(doc.Find("[data-testid=watch-item]")))
	}
	doc, _ = w.page(t, views.WatchURL(), http.StatusOK)
	if doc.Find("[data-testid=watch-change]").Length() != 0 {
		t.Errorf("the next visit lists again: %q", text(doc.Find("[data-testid=watch-changes]")))
	}
	got := w.hooks.delivered()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	var pl watch.Payload
	if err := json.Unmarshal([]byte(got[0]), &pl); err != nil || len(pl.Changes) != 1 || pl.Changes[0].Target != w.parent {
		t.Errorf("delivered %s", got[0])
	}
	if doc.Find("[data-testid=deliveries] tbody tr").Length() != 1 {
		t.Errorf("deliveries shown: %q", text(doc.Find("[data-testid=webhook]")))
	}
	// A webhook the operator does not allow is refused, and says why.
	if r := w.send(t, http.MethodPost, views.WatchWebhookURL(), formType, form("url", "http://10.0.0.1/x", "secret", "a-secret-of-twenty-chars"), nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "only https") {
		t.Errorf("a refused webhook URL: %d", r.status)
	}
}

// A budget too small for a watched tree leaves active batches unpolled: /watch and the
// metrics say so.
func TestWatchBudgetSpentShownOnPageAndMetric(t *testing.T) {
	w := newWatchApp(t, watchOptions{poller: watch.Config{Interval: 15 * time.Minute, Budget: 4}})
	if r := w.send(t, http.MethodPost, "/api/v1/watches", "application/json", `{"kind": "batch", "target": "`+w.fx.WideRoot+`"}`, nil); r.status != http.StatusCreated {
		t.Fatalf("adding a watch: %d %s", r.status, r.body)
	}
	w.poll(t)
	doc, _ := w.page(t, views.WatchURL(), http.StatusOK)
	behind := text(doc.Find("[data-testid=watch-behind]"))
	if !strings.Contains(behind, "not polled in time") {
		t.Errorf("/watch says %q; want the batches not polled said", text(doc.Find("[data-testid=watch-item]")))
	}
	if got := text(doc.Find("[data-testid=watch-polled]")); got != "not polled whole yet" {
		t.Errorf("polled: %q", got)
	}
	m := w.get(t, "/metrics")
	for _, line := range []string{"lineage_watch_trees_behind 1", "lineage_watch_requests_total 1"} {
		if !strings.Contains(m.body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if !strings.Contains(m.body, "lineage_watch_skipped_total ") || strings.Contains(m.body, "lineage_watch_skipped_total 0\n") {
		t.Error("/metrics does not count the skipped batches")
	}
}

// The Watch forms are on the pages of what can be watched: a lineage page (its tree, and the
// serial number it was reached by or its own), an issuance's page; each adds that thing.
func TestWatchButtonsOnPages(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	leaf, _ := w.reg.Batch(w.fx.WideLeafDeep)
	r := w.get(t, views.SerialURL(leaf.SerialNumber))
	if r.status != http.StatusSeeOther {
		t.Fatalf("GET /serial/…: %d", r.status)
	}
	doc, _ := w.page(t, r.header.Get("Location"), http.StatusOK)
	buttons := map[string]string{}
	doc.Find("form.watch-form").Each(func(_ int, f *goquery.Selection) {
		buttons[f.Find("input[name=kind]").AttrOr("value", "")] = f.Find("input[name=target]").AttrOr("value", "")
	})
	if buttons[history.WatchBatch] != leaf.ID || buttons[history.WatchSerial] == "" {
		t.Errorf("the lineage page reached by serial offers %v", buttons)
	}
	doc, _ = w.page(t, views.IssuanceURL(w.fx.Issuance), http.StatusOK)
	if got := doc.Find("form[data-testid=watch-issuance] input[name=target]").AttrOr("value", ""); got != w.fx.Issuance {
		t.Errorf("the issuance page's Watch form targets %q", got)
	}
	for kind, target := range map[string]string{history.WatchIssuance: w.fx.Issuance, history.WatchSerial: buttons[history.WatchSerial]} {
		if r := w.send(t, http.MethodPost, views.WatchURL(), formType, form("kind", kind, "target", target), nil); r.status != http.StatusSeeOther {
			t.Errorf("watching %s %s: %d %s", kind, target, r.status, head(r.body, 300))
		}
	}
	// What cannot be watched is said on the form, the values kept.
	r = w.send(t, http.MethodPost, views.WatchURL(), formType, form("kind", "batch", "target", "ctb_<b>nope"), nil)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "looks like ctb_") || strings.Contains(r.body, "<b>nope") {
		t.Errorf("a malformed id: %d", r.status)
	}
	w.poll(t)
	got := w.watchesOf(t, nil)
	if len(got.Watches) != 2 {
		t.Fatalf("watches %+v", got.Watches)
	}
	for _, wj := range got.Watches {
		if wj.PolledAt == "" || wj.Batches == 0 || wj.Problem != "" {
			t.Errorf("%s %s after a poll: %+v", wj.Kind, wj.Target, wj)
		}
	}
}

// The watch list's JSON writes kg as JSON integers, as every JSON route does (see
// TestEveryJSONRouteWritesQuantitiesWithoutFloats), with changes in it.
func TestWatchesJSONWritesQuantitiesWithoutFloats(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	if r := w.send(t, http.MethodPost, "/api/v1/watches", "application/json", `{"kind": "batch", "target": "`+w.parent+`"}`, nil); r.status != http.StatusCreated {
		t.Fatalf("adding a watch: %d %s", r.status, r.body)
	}
	w.poll(t)
	w.split.Store(true)
	w.poll(t)
	r := w.get(t, "/api/v1/watches")
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.body, `"credit_kgs": `) {
		t.Fatalf("no change with kg in %s", head(r.body, 400))
	}
	for _, b := range jsonFloats(v, "") {
		t.Errorf("GET /api/v1/watches: %s", b)
	}
}
