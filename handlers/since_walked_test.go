package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// The marks of ?since= are of the tree shown: a change the journal observed after that tree
// was walked (another page fetched the batch since) is not counted against a tree that does
// not show it, on the lineage page and the issuance page alike. Once the tree is walked again,
// it is. Seed 3 splits a batch of a tree of the fixtures' issuance; seed 0 retires a batch whole.
func TestSinceCountsOnlyWhatTheTreeShownWasWalkedWith(t *testing.T) {
	for _, seed := range []uint64{changeSeed, 0} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { sinceUpToTheWalk(t, seed) })
	}
}

func sinceUpToTheWalk(t *testing.T, seed uint64) {
	j := openJournal(t) // the real clock: the walks' times and the observations' are compared
	a := newApp(t, appOptions{history: j, cacheTTL: time.Nanosecond, noPlanner: true})
	probe := demo.New(demo.Options{})
	probe.SetChangeSeed(seed)
	planned := probe.Step(stepAt)
	root := planned[0].Root
	var changes []demo.Change
	for _, c := range planned {
		if c.Root == root {
			changes = append(changes, c)
		}
	}
	want, wantMarks := sinceExpected(changes)
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format(dayLayout)
	want.Day = yesterday

	// The tree and the issuance's trees are walked, then the registry changes and the journal
	// observes the changed batches through the cache, as any other page asking for them would.
	a.page(t, views.BatchURL(root), http.StatusOK)
	a.page(t, views.IssuanceURL(a.fx.Issuance), http.StatusOK)
	flushJournal(t, j)
	a.reg.SetChangeSeed(seed)
	a.reg.Step(stepAt)
	for _, c := range changes {
		for _, id := range []string{c.Batch, c.Left, c.Right} {
			if id == "" {
				continue
			}
			if _, err := a.explorer.CreditBatch(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}
	}
	flushJournal(t, j)

	for _, path := range []string{views.BatchURL(root), views.IssuanceURL(a.fx.Issuance)} {
		doc, _ := a.page(t, path+"?since="+yesterday, http.StatusOK)
		s := text(doc.Find("[data-testid=since-summary]"))
		if !strings.Contains(s, "since "+yesterday+": no change observed") || !strings.Contains(s, "walked") {
			t.Errorf("%s: the summary %q counts changes the tree shown does not have; want none, up to when it was walked", path, s)
		}
		if m := rowMarks(doc); len(m) != 0 {
			t.Errorf("%s: rows marked %v, in a tree walked before those changes", path, m)
		}
		if n := doc.Find("[data-testid=since-count]").Length(); n != 0 {
			t.Errorf("%s: %d root rows say their tree changed", path, n)
		}
		if !strings.Contains(text(doc.Find("[data-testid=since-later]")), "not counted") {
			t.Errorf("%s: the page does not say that later changes are left out", path)
		}
	}

	// Walked again (the page's link, which comes back to the marked page), the tree has the
	// changes, and the marks count them.
	doc, _ := a.page(t, views.BatchURL(root)+"?since="+yesterday, http.StatusOK)
	again := doc.Find("[data-testid=since-again]").AttrOr("href", "")
	if r := a.get(t, again); r.status != http.StatusSeeOther || r.header.Get("Location") != views.BatchURL(root)+"?since="+yesterday {
		t.Errorf("GET %s: %d to %q; want the marked page walked again", again, r.status, r.header.Get("Location"))
	}
	doc, _ = a.page(t, views.BatchURL(root)+"?since="+yesterday, http.StatusOK)
	if s := text(doc.Find("[data-testid=since-summary]")); !strings.Contains(s, want.Summary()) {
		t.Errorf("after a new walk, the summary %q; want %q in it", s, want.Summary())
	}
	if got := rowMarks(doc); len(got) != len(wantMarks) {
		t.Errorf("after a new walk, rows marked %v; want %v", got, wantMarks)
	}
}

// A tree walked after the journal observed a change may still not have it: its batches came
// from this replica's cache, older than the observation another replica sharing the journal
// made. The marks follow the tree shown, not the newer observation.
func TestSinceFollowsTheTreeNotANewerObservation(t *testing.T) {
	for _, seed := range []uint64{changeSeed, 0} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { sinceOfTheTreeShown(t, seed) })
	}
}

func sinceOfTheTreeShown(t *testing.T, seed uint64) {
	j := openJournal(t)
	a := newApp(t, appOptions{history: j, noPlanner: true}) // active batches are kept for the cache's default TTL
	probe := demo.New(demo.Options{})
	probe.SetChangeSeed(seed)
	planned := probe.Step(stepAt)
	root := planned[0].Root
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format(dayLayout)

	a.page(t, views.BatchURL(root), http.StatusOK)
	flushJournal(t, j)
	a.reg.SetChangeSeed(seed)
	a.reg.Step(stepAt)
	for _, c := range planned {
		if c.Root != root {
			continue
		}
		for _, id := range []string{c.Batch, c.Left, c.Right} {
			if b, ok := a.reg.Batch(id); ok {
				j.Observe(&b) // as the other replica's cache stores it
			}
		}
	}
	flushJournal(t, j)
	a.get(t, views.RetryURL(root)) // walked after the observation, from this replica's cache
	doc, _ := a.page(t, views.BatchURL(root)+"?since="+yesterday, http.StatusOK)
	if s := text(doc.Find("[data-testid=since-summary]")); !strings.Contains(s, "since "+yesterday+": no change observed") ||
		!strings.Contains(text(doc.Find("[data-testid=since-later]")), "not counted") {
		t.Errorf("the summary %q counts changes the tree shown does not have; want none, and those said to be left out", s)
	}
	if m := rowMarks(doc); len(m) != 0 {
		t.Errorf("rows marked %v, in a tree that does not have those changes", m)
	}
}

// The History section lists what the journal holds now, the tree what its walk saw: changes
// observed after the walk (another replica's, say) are said to be newer than the tree, with a
// way to walk it again, rather than contradict it unexplained.
func TestHistoryNewerThanTheTreeIsSaidSo(t *testing.T) {
	j := openJournal(t)
	a := newApp(t, appOptions{history: j, noPlanner: true})
	probe := demo.New(demo.Options{})
	probe.SetChangeSeed(changeSeed)
	planned := probe.Step(stepAt)
	root := planned[0].Root

	doc, _ := a.page(t, views.BatchURL(root), http.StatusOK)
	if doc.Find("[data-testid=history-after-walk]").Length() != 0 {
		t.Fatalf("a tree just walked is said to be older than its history: %q", text(doc.Find("[data-testid=history-after-walk]")))
	}
	flushJournal(t, j)
	a.reg.SetChangeSeed(changeSeed)
	a.reg.Step(stepAt)
	for _, c := range planned {
		if c.Root != root {
			continue
		}
		for _, id := range []string{c.Batch, c.Left, c.Right} {
			if b, ok := a.reg.Batch(id); ok {
				j.Observe(&b) // as the other replica's cache stores it
			}
		}
	}
	flushJournal(t, j)
	doc, _ = a.page(t, views.BatchURL(root), http.StatusOK)
	note := doc.Find("[data-testid=history-after-walk]")
	if !strings.Contains(text(note), "observed after the tree above was walked") {
		t.Errorf("the history lists changes the tree does not show, unexplained: %q", text(doc.Find("[data-testid=history]")))
	}
	if href := note.Find("[data-testid=history-again]").AttrOr("href", ""); href != views.RetryURL(root) {
		t.Errorf("walk-again link %q, want %q", href, views.RetryURL(root))
	}
}
