package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// Issue 18, points 2 and 4: a demo registry that changes between two walks of a tree, observed
// by the journal on two days: the ground truth of the ?since= and ?as_of= tests.

const changeSeed = 3

var (
	walk1At = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC) // the first walk, observed on 2026-10-01
	stepAt  = time.Date(2026, 10, 2, 12, 0, 0, 0, time.UTC) // the registry changes (its retired_at, delivered_at)
	walk2At = time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC) // the second walk, observed on 2026-10-03
)

// changingDemo is an explorer with a journal in front of the demo registry, after a walk of a
// tree, a step of the demo that changes that tree, and a second walk.
type changingDemo struct {
	a       *testApp
	journal *history.Journal
	root    string                // the tree's root
	changes []demo.Change         // what the step did in the tree
	walk1   lineage.LineageExport // the tree's JSON after the first walk
	walk2   lineage.LineageExport // and after the second
}

func newChangingDemo(t *testing.T, o appOptions) *changingDemo {
	t.Helper()
	var now atomic.Int64
	now.Store(walk1At.UnixMilli())
	j, err := history.Open(context.Background(), filepath.Join(t.TempDir(), history.FileName),
		history.Config{Now: func() time.Time { return time.UnixMilli(now.Load()).UTC() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	o.history, o.cacheTTL = j, time.Nanosecond // active batches are read again by the second walk
	a := newApp(t, o)

	// Which tree the step changes, learnt from a registry of its own with the same seed: the
	// changes are replayed from their seed.
	probe := demo.New(demo.Options{})
	probe.SetChangeSeed(changeSeed)
	planned := probe.Step(stepAt)
	d := &changingDemo{a: a, journal: j, root: planned[0].Root}
	for _, c := range planned {
		if c.Root == d.root {
			d.changes = append(d.changes, c)
		}
	}

	d.walk1 = exportOf(t, a, d.root, "")
	flushJournal(t, j)
	a.reg.SetChangeSeed(changeSeed)
	if got := a.reg.Step(stepAt); !slices.Equal(got, planned) {
		t.Fatalf("the step made %+v, its seed made %+v elsewhere", got, planned)
	}
	now.Store(walk2At.UnixMilli())
	a.get(t, views.RetryURL(d.root)) // a new walk, which observes the changes
	a.page(t, views.BatchURL(d.root), http.StatusOK)
	d.walk2 = exportOf(t, a, d.root, "")
	flushJournal(t, j)
	return d
}

// exportOf is GET /api/v1/batches/{id}/lineage (?as_of= when given), decoded; it fails the
// test unless the answer is 200.
func exportOf(t *testing.T, a *testApp, id, asOf string) lineage.LineageExport {
	t.Helper()
	path := views.LineageJSONURL(id)
	if asOf != "" {
		path += "?as_of=" + asOf
	}
	r := a.get(t, path)
	var e lineage.LineageExport
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, head(r.body, 300))
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return e
}

// nodeState is what the as-of tests compare of a batch: its place in the tree and what the
// journal keeps.
type nodeState struct {
	status, owner string
	kg            int64
}

func states(e lineage.LineageExport) map[string]nodeState {
	out := map[string]nodeState{}
	for _, n := range e.Nodes {
		if n.Batch != nil {
			out[n.ID] = nodeState{string(n.Batch.Status), n.Batch.Owner.ID, n.Batch.CreditKgs}
		}
	}
	return out
}

// The demo's changes keep the record consistent: the tree changed between the walks, and its
// audit finds no problem before or after.
func TestDemoChangesKeepTheAuditClean(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	if len(d.changes) == 0 {
		t.Fatal("the step changed nothing in the tree")
	}
	if len(d.walk2.Nodes) <= len(d.walk1.Nodes) && d.changes[0].Kind == demo.ChangeSplit {
		t.Errorf("after a split: %d nodes, %d before", len(d.walk2.Nodes), len(d.walk1.Nodes))
	}
	if maps1, maps2 := states(d.walk1), states(d.walk2); len(maps1) == len(maps2) && func() bool {
		for id, s := range maps1 {
			if maps2[id] != s {
				return false
			}
		}
		return true
	}() {
		t.Error("the second walk saw the same tree as the first")
	}
	for i, e := range []lineage.LineageExport{d.walk1, d.walk2} {
		if !e.Summary.Clean || !e.Summary.Conserved || len(e.Problems) != 0 {
			t.Errorf("walk %d: clean %v, conserved %v, problems %+v", i+1, e.Summary.Clean, e.Summary.Conserved, e.Problems)
		}
	}
}

// The home page says how to make the demo change, or that it does.
func TestHomeSaysHowTheDemoChanges(t *testing.T) {
	for _, c := range []struct {
		every time.Duration
		want  string
	}{{0, "DEMO_CHANGE_EVERY=1m"}, {time.Minute, "every 1 min it splits, transfers and retires"}, {20 * time.Second, "every 20 s it splits"}} {
		a := newApp(t, appOptions{demoChanges: c.every})
		doc, _ := a.page(t, "/", http.StatusOK)
		if got := text(doc.Find("[data-testid=demo-changes]")); !strings.Contains(got, c.want) {
			t.Errorf("DEMO_CHANGE_EVERY=%v: the home page says %q; want %q in it", c.every, got, c.want)
		}
	}
}
