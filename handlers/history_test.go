package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/views"
)

// Issue 18, points 2 to 4: every batch the explorer stores is compared with the journal's last
// record of it; the lineage page lists the tree's observed changes and the JSON route gives a
// batch's; a failing journal costs neither.

// openJournal is a journal in a real SQLite file of the test's own directory.
func openJournal(t testing.TB) *history.Journal {
	t.Helper()
	j, err := history.Open(context.Background(), filepath.Join(t.TempDir(), history.FileName), history.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// flushJournal waits until what the explorer has stored so far is recorded.
func flushJournal(t testing.TB, j *history.Journal) {
	t.Helper()
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// historyOf is GET /api/v1/batches/{id}/history (with ?since= when given), decoded.
func historyOf(t *testing.T, a *testApp, id, since string) (historyJSON, response) {
	t.Helper()
	path := views.HistoryJSONURL(id)
	if since != "" {
		path += "?since=" + since
	}
	r := a.get(t, path)
	var h historyJSON
	if r.status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.body), &h); err != nil {
			t.Fatalf("GET %s: %v in %q", path, err, head(r.body, 300))
		}
	}
	return h, r
}

func eventsOf(h historyJSON, kind string) []history.EventJSON {
	var out []history.EventJSON
	for _, e := range h.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// The demo registry, edited between observations: a batch first seen unsplit is then seen
// split, and one of its children changes hands and is retired. Each change is one event, seen
// twice it is recorded once, and the lineage page says them newest first.
func TestHistoryRecordsSplitsTransfersAndRetirements(t *testing.T) {
	journal := openJournal(t)
	var phase atomic.Int32 // 0: the parent unsplit; 1: as the demo has it; 2: the child retired
	var parent, child string
	var a *testApp
	a = newApp(t, appOptions{history: journal, metrics: true, cacheTTL: time.Nanosecond, // active batches read again every time
		upstream: func(h http.Handler) http.Handler {
			return demo.EditRecords(h, func(rec map[string]any) {
				switch id, _ := rec["id"].(string); {
				case phase.Load() == 0 && id == parent:
					rec["status"], rec["left_child_id"], rec["right_child_id"] = "active", nil, nil
				case phase.Load() == 2 && id == child:
					rec["owner"] = map[string]any{"id": "org_1NEWHOLDER000000", "name": "New Holder & Co"}
					rec["status"], rec["retirement_id"] = "retired", "ret_1HISTORYTEST0000"
					rec["retired_at"] = "2026-11-02T10:00:00Z"
					rec["beneficiary"] = map[string]any{"id": "org_1BENEFICIARY0000", "name": "Beneficiary <b>Ltd</b>"}
				}
			})
		}})
	child = a.fx.HostileOrgBatch // active, with a parent
	c, _ := a.reg.Batch(child)
	parent = c.ParentID
	oldOwner := c.Owner.Name

	// Phase 0: the parent, seen unsplit.
	a.page(t, views.BatchURL(parent), http.StatusOK)
	flushJournal(t, journal)
	h, r := historyOf(t, a, parent, "")
	flushJournal(t, journal)
	if r.status != http.StatusOK || len(h.Events) != 1 || h.Events[0].Kind != history.KindFirstSeen || h.Events[0].To != "active" {
		t.Fatalf("phase 0: %d %+v; want the parent first seen active", r.status, h.Events)
	}

	// Phase 1: the parent as it is, split. Asked twice, the split is recorded once.
	phase.Store(1)
	for range 2 {
		historyOf(t, a, parent, "")
		flushJournal(t, journal)
	}
	h, _ = historyOf(t, a, parent, "")
	kids := eventsOf(h, history.KindChildren)
	if len(kids) != 1 || !strings.Contains(kids[0].To, child) || len(eventsOf(h, history.KindStatus)) != 1 {
		t.Fatalf("phase 1: %+v; want one split (status and children) naming %s", h.Events, child)
	}

	// Phase 2: the child changes hands and is retired.
	a.get(t, views.RetryURL(parent)) // a new walk, which observes the children
	a.page(t, views.BatchURL(parent), http.StatusOK)
	flushJournal(t, journal)
	phase.Store(2)
	historyOf(t, a, child, "")
	flushJournal(t, journal)
	h, _ = historyOf(t, a, child, "")
	owner, status := eventsOf(h, history.KindOwner), eventsOf(h, history.KindStatus)
	if len(owner) != 1 || owner[0].ToName != "New Holder & Co" || owner[0].FromName != oldOwner {
		t.Errorf("phase 2 change of holder: %+v", owner)
	}
	if len(status) != 1 || status[0].To != "retired" || status[0].RegistryAt != "2026-11-02T10:00:00Z" || status[0].ToName != "Beneficiary <b>Ltd</b>" {
		t.Errorf("phase 2 retirement: %+v", status)
	}
	for _, e := range h.Events {
		if e.CreditKgs != c.Size.CreditKgs {
			t.Errorf("event %+v: credit_kgs %d, want the batch's %d", e, e.CreditKgs, c.Size.CreditKgs)
		}
	}
	today := time.Now().UTC().Format("2006-01-02")
	// Nothing has been observed tomorrow: refused as the pages refuse it.
	if _, r := historyOf(t, a, child, time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")); r.status != http.StatusBadRequest {
		t.Errorf("?since=tomorrow: %d %s", r.status, head(r.body, 200))
	}
	if h2, _ := historyOf(t, a, child, today); len(h2.Events) != len(h.Events) {
		t.Errorf("?since=%s: %d events, want all %d", today, len(h2.Events), len(h.Events))
	}
	if _, r := historyOf(t, a, child, "last-week"); r.status != http.StatusBadRequest {
		t.Errorf("?since=last-week: %d %s", r.status, head(r.body, 200))
	}

	// The lineage page of a new walk lists the tree's changes, newest first, with the dates of
	// observation said as such.
	a.get(t, views.RetryURL(parent))
	doc, _ := a.page(t, views.BatchURL(parent), http.StatusOK)
	items := doc.Find(`[data-testid="history"] [data-testid="history-event"]`)
	if items.Length() == 0 {
		t.Fatalf("no history on the lineage page: %q", doc.Find(`[data-testid="history"]`).Text())
	}
	var texts []string
	items.Each(func(_ int, s *goquery.Selection) { texts = append(texts, strings.Join(strings.Fields(s.Text()), " ")) })
	first := texts[0]
	if !strings.Contains(first, child) || !strings.Contains(first, "observed on "+today) {
		t.Errorf("newest event %q: want the child's latest change, observed on %s", first, today)
	}
	page := strings.Join(texts, "\n")
	for _, want := range []string{
		"retired for Beneficiary <b>Ltd</b> on 2026-11-02 (the registry's date)",
		"changed hands from " + oldOwner,
		"to New Holder & Co (org_1NEWHOLDER000000)",
		"split into ",
		"first seen on " + today + ", active",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("history on the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, parent+" split —") || strings.Contains(page, "joined retirement") || strings.Contains(page, "beneficiary changed") {
		t.Errorf("a split or a retirement said twice:\n%s", page)
	}
	if !strings.Contains(page, parent+" split into ") || !strings.Contains(page, " and "+child+" — observed on "+today) {
		t.Errorf("the split does not name the child:\n%s", page)
	}
	if doc.Find(`[data-testid="history"] b`).Length() != 0 {
		t.Error("a name from the registry was rendered as markup")
	}
	if n := a.metric(t, "lineage_history_events_total"); n != float64(journal.Stats().Events) || n < 8 {
		t.Errorf("lineage_history_events_total %v, journal's count %d", n, journal.Stats().Events)
	}
}

// The journal failing (its database closed under it) costs no page: the lineage page, its
// export and the batch answer 200, the page says the history cannot be read, the JSON route
// says it is unavailable, and /readyz names it as degraded while staying ready.
func TestHistoryFailingJournalCostsNoPage(t *testing.T) {
	journal := openJournal(t)
	a := newApp(t, appOptions{history: journal})
	id := a.fx.AllFinalRoot
	if r := a.get(t, "/readyz"); r.status != http.StatusOK || !strings.Contains(r.body, "history: ok") {
		t.Fatalf("/readyz with a working journal: %d %q", r.status, r.body)
	}
	journal.Close()
	doc, _ := a.page(t, views.BatchURL(id), http.StatusOK)
	if doc.Find(`[data-testid="history-unavailable"]`).Length() != 1 {
		t.Errorf("the lineage page does not say the history is unavailable: %q", doc.Find(`[data-testid="history"]`).Text())
	}
	if r := a.get(t, views.LineageJSONURL(id)); r.status != http.StatusOK {
		t.Errorf("lineage JSON with the journal down: %d", r.status)
	}
	if r := a.get(t, views.LineageCSVURL(id)); r.status != http.StatusOK {
		t.Errorf("lineage CSV with the journal down: %d", r.status)
	}
	if _, r := historyOf(t, a, id, ""); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"retry": true`) {
		t.Errorf("history JSON with the journal down: %d %s", r.status, head(r.body, 300))
	}
	r := a.get(t, "/readyz")
	if r.status != http.StatusOK || !strings.Contains(r.body, "history: degraded: ") {
		t.Errorf("/readyz with the journal down: %d %q; want 200 naming history as degraded", r.status, r.body)
	}
}

// Without a journal the lineage page has no History section and the route says none is kept.
func TestHistoryNotKept(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, views.BatchURL(a.fx.AllFinalRoot), http.StatusOK)
	if doc.Find(`[data-testid="history"]`).Length() != 0 {
		t.Error("a History section without a journal")
	}
	if _, r := historyOf(t, a, a.fx.AllFinalRoot, ""); r.status != http.StatusNotFound {
		t.Errorf("history JSON without a journal: %d", r.status)
	}
	if r := a.get(t, "/readyz"); strings.Contains(r.body, "history") {
		t.Errorf("/readyz names a history that is not kept: %q", r.body)
	}
}

// Issue 18, point 4: a batch the journal holds no record of is not answered as a batch with
// no history. The JSON says recorded false and why, and hands the batch to the journal again;
// the page counts such batches and hands back the final ones (kept in the cache for good, they
// would never be observed anew), so that they are recorded from then on.
func TestHistorySaysWhatTheJournalLacks(t *testing.T) {
	journal := openJournal(t)
	var lose sync.Map // ids whose observations the cache's hook loses, as a full queue would
	a := newApp(t, appOptions{history: journal, observe: func(b *registry.CreditBatch) {
		if _, lost := lose.Load(b.ID); !lost {
			journal.Observe(b)
		}
	}})
	active := a.fx.HostileOrgBatch
	c, _ := a.reg.Batch(active)
	parent := c.ParentID // split: final
	p, _ := a.reg.Batch(parent)
	sibling := p.LeftChildID
	if sibling == active {
		sibling = p.RightChildID
	}
	if c.Status.Final() || !p.Status.Final() {
		t.Fatalf("fixture: %s is %s, its parent %s; want an active batch under a final one", active, c.Status, p.Status)
	}
	for _, id := range []string{active, parent, sibling} {
		lose.Store(id, true)
	}
	if r := a.get(t, views.LineageJSONURL(parent)); r.status != http.StatusOK {
		t.Fatalf("lineage JSON: %d", r.status)
	}
	flushJournal(t, journal)

	h, r := historyOf(t, a, sibling, "")
	if r.status != http.StatusOK || h.Recorded || h.Gap == nil || h.Gap.Reason != history.GapNeverObserved || len(h.Events) != 0 {
		t.Fatalf("history of a batch the journal never got: %d %s; want recorded false, never_observed", r.status, head(r.body, 400))
	}
	if !strings.Contains(r.body, `"recorded": false`) || !strings.Contains(h.Gap.Detail, "handed to the journal again") {
		t.Errorf("answer %s: want recorded false said, and the batch handed to the journal again", head(r.body, 400))
	}
	flushJournal(t, journal)
	h, _ = historyOf(t, a, sibling, "")
	if !h.Recorded || h.Gap != nil || h.RecordedAt == "" || len(eventsOf(h, history.KindFirstSeen)) != 1 {
		t.Errorf("asked again after it was handed back: %+v; want recorded, first seen", h)
	}
	// A recorded batch says so.
	if h, _ := historyOf(t, a, p.ParentID, ""); p.ParentID != "" && (!h.Recorded || h.Gap != nil) {
		t.Errorf("history of the recorded grandparent: %+v", h)
	}

	// The page counts the tree's two batches the journal lacks, and hands back the final one.
	gapsOf := func() (int, string) {
		doc, _ := a.page(t, views.BatchURL(parent), http.StatusOK)
		gaps := doc.Find(`[data-testid="history"] [data-testid="history-gap"]`)
		if gaps.Length() > 1 || gaps.Length() == 1 && gaps.AttrOr("data-reason", "") != history.GapNeverObserved {
			t.Fatalf("the page's gaps: %q; want at most one line, never observed", doc.Find(`[data-testid="history"]`).Text())
		}
		return gaps.Length(), gaps.Text()
	}
	if n, text := gapsOf(); n != 1 || !strings.Contains(text, "2 batches not recorded") {
		t.Fatalf("the page's gaps: %q; want the two batches not recorded counted", text)
	}
	flushJournal(t, journal)
	if n, text := gapsOf(); n != 1 || !strings.Contains(text, "1 batch not recorded") {
		t.Errorf("after the page handed back the final batch: %q; want only the active one left", text)
	}
	if h, _ := historyOf(t, a, parent, ""); !h.Recorded {
		t.Errorf("the final batch the page handed back: %+v; want recorded", h)
	}
}
