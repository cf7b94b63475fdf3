package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/history/pgserver"
	"github.com/lineage-explorer/explorer/views"
)

// Issue 18, point 1: the journal in a real PostgreSQL server that is killed in the middle of a
// cold walk of the 3,001-batch tree. The pages go on (200), /readyz names history as degraded,
// the journal recovers by itself once the server is back, and after the tree is observed again
// every batch of it has exactly one event: none lost, none doubled.
func TestHistoryOnPostgresSurvivesTheDatabaseKilledMidWalk(t *testing.T) {
	pg := pgserver.ForTest(t)
	url := pgserver.DatabaseForTest(t, pg)
	journal, err := history.OpenURL(context.Background(), url, history.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { journal.Close() })

	var fetched atomic.Int64
	var kill sync.Once
	killed := make(chan error, 1)
	// Active batches are fetched again by every walk (a CACHE_TTL that has always run out),
	// so that a new walk observes them anew; final ones are kept for good.
	a := newApp(t, appOptions{history: journal, noPlanner: true, cacheTTL: time.Nanosecond, upstream: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A sixth of the way through the walk (by id: one request a batch), the database
			// goes down with its backends.
			if fetched.Add(1) == 500 {
				kill.Do(func() { killed <- pg.Kill() })
			}
			h.ServeHTTP(w, r)
		})
	}})
	root := a.fx.WideRoot
	doc, _ := a.page(t, views.BatchURL(root), http.StatusOK)
	select {
	case err := <-killed:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("the walk made %d requests and the database was never killed", fetched.Load())
	}
	flushJournal(t, journal) // what was queued has been tried, and failed
	if journal.Stats().Failed == 0 {
		t.Fatalf("stats %+v: no write failed with the database killed mid-walk", journal.Stats())
	}
	if doc.Find(`[data-testid="history-unavailable"]`).Length() != 1 {
		t.Errorf("the lineage page with the database down: %q; want the history said unavailable", doc.Find(`[data-testid="history"]`).Text())
	}
	if r := a.get(t, views.LineageJSONURL(root)); r.status != http.StatusOK {
		t.Errorf("lineage JSON with the database down: %d", r.status)
	}
	if _, r := historyOf(t, a, root, ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("history JSON with the database down: %d %s", r.status, head(r.body, 200))
	}
	if r := a.get(t, "/readyz"); r.status != http.StatusOK || !strings.Contains(r.body, "history: degraded") {
		t.Errorf("/readyz with the database down: %d %q; want 200 naming history as degraded", r.status, r.body)
	}
	if strings.Contains(a.get(t, "/readyz").body, pgserver.Password) {
		t.Error("/readyz shows the database password")
	}

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	// Nothing is asked of the journal: it finds the database again by itself (it retries
	// the gaps it noted while failing) and /readyz says so.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := a.get(t, "/readyz")
		if strings.Contains(r.body, "history: ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz a minute after the database came back: %q", r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The page, rendered anew now that the journal works, says which batches the journal
	// lacks and hands back the final ones (kept in the cache for good, they would never be
	// observed again); a new walk observes the active ones anew. Once recorded, each batch of
	// the tree has its one first sighting.
	doc, _ = a.page(t, views.BatchURL(root), http.StatusOK)
	if doc.Find(`[data-testid="history-gap"][data-reason="failed"]`).Length() == 0 {
		t.Errorf("after the restart the page does not say which batches failed to be recorded: %q", doc.Find(`[data-testid="history"]`).Text())
	}
	a.get(t, views.RetryURL(root))
	a.page(t, views.BatchURL(root), http.StatusOK)
	flushJournal(t, journal)
	tree, err := a.explorer.StartLineage(root, false).Result()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(tree.Nodes))
	for id := range tree.Nodes {
		ids = append(ids, id)
	}
	evs, err := journal.Events(context.Background(), ids, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range evs {
		if e.Kind != history.KindFirstSeen {
			t.Errorf("event %+v: the tree did not change, want first sightings only", e)
		}
		seen[e.BatchID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%s: %d first sightings, want 1", id, seen[id])
		}
	}
	if len(ids) != a.fx.WideNodeCount || len(evs) != len(ids) {
		t.Errorf("%d events for a tree of %d batches (fixture: %d)", len(evs), len(ids), a.fx.WideNodeCount)
	}
	cov, err := journal.Coverage(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, c := range cov {
		if !c.Recorded || c.Gap != "" {
			t.Errorf("%s: %+v; want recorded, no gap", id, c)
			break
		}
	}
	doc, _ = a.page(t, views.BatchURL(root), http.StatusOK)
	if doc.Find(`[data-testid="history-gaps"]`).Length() != 0 || doc.Find(`[data-testid="history-event"]`).Length() == 0 {
		t.Errorf("the page once all is recorded: %q", doc.Find(`[data-testid="history"]`).Text())
	}
}
