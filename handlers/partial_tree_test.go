package handlers

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// holdUpstream holds GET /credit_batches/{id} for the given ids until release is closed, so
// that a walk can be looked at mid-way without any timing; arrived gets the id each time one
// is asked for.
type holdUpstream struct {
	held    map[string]bool // set before the app starts, read only after
	arrived chan string
	release chan struct{}
	once    sync.Once
}

func newHold(ids ...string) *holdUpstream {
	h := &holdUpstream{held: map[string]bool{}, arrived: make(chan string, 64), release: make(chan struct{})}
	for _, id := range ids {
		h.held[id] = true
	}
	return h
}

func (h *holdUpstream) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := path.Base(r.URL.Path); h.held[id] && path.Base(path.Dir(r.URL.Path)) == "credit_batches" {
			select {
			case h.arrived <- id:
			default:
			}
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *holdUpstream) free() { h.once.Do(func() { close(h.release) }) }

// heldWideWalk is the wide tree's walk from its deep leaf, held on the root's other half
// (never on the leaf's path): what it will fetch before it waits, and the path it shows.
type heldWideWalk struct {
	hold    *holdUpstream
	app     *testApp
	held    string
	path    []string // root … leaf
	fetched int64    // batches the walk fetches before it can only wait for the held one
}

func startHeldWideWalk(t *testing.T, o appOptions) *heldWideWalk {
	t.Helper()
	reg := demo.New(demo.Options{}) // the same dataset as the app's: for the ids only
	f := reg.Fixtures()
	var p []string
	for id := f.WideLeafDeep; id != ""; {
		p = append([]string{id}, p...)
		b, _ := reg.Batch(id)
		id = b.ParentID
	}
	root, _ := reg.Batch(f.WideRoot)
	held := root.LeftChildID
	if held == p[1] {
		held = root.RightChildID
	}
	size := 0
	for stack := []string{held}; len(stack) > 0; size++ {
		b, _ := reg.Batch(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		for _, c := range reg.Children(b) {
			stack = append(stack, c.ID)
		}
	}
	h := newHold(held)
	o.upstream, o.noPlanner = h.wrap, true // by id: the planner would learn the held batch from a list
	a := newApp(t, o)
	t.Cleanup(h.free) // before the servers close: a held request would keep them waiting
	return &heldWideWalk{hold: h, app: a, held: held, path: p, fetched: int64(f.WideNodeCount - size)}
}

// open asks for the leaf's page and waits until its walk has fetched everything but the held
// branch; it returns the progress page's refresh URL (naming the walk).
func (w *heldWideWalk) open(t *testing.T) string {
	t.Helper()
	a := w.app
	doc, _ := a.page(t, "/batches/"+a.fx.WideLeafDeep, http.StatusAccepted)
	refresh := strings.TrimPrefix(doc.Find("meta[http-equiv=refresh]").AttrOr("content", ""), "1;url=")
	u, _ := url.Parse(refresh)
	walk, err := strconv.ParseUint(u.Query().Get("walk"), 10, 64)
	if err != nil {
		t.Fatalf("the progress page names no walk: %q", refresh)
	}
	<-w.hold.arrived
	p := a.explorer.FollowLineage(a.fx.WideLeafDeep, walk).Progress
	for i := 0; p.Fetched() < w.fetched; i++ {
		if i == 60_000 { // the pace of a poll, not a timed assertion
			t.Fatalf("the walk fetched %d batches, never %d", p.Fetched(), w.fetched)
		}
		time.Sleep(time.Millisecond)
	}
	return refresh
}

// While a walk is held on one branch, the page of the batch shows, below the progress, the
// batch itself, its path from the root, the tree walked so far (the first DefaultPartialRows
// batches, with a count of the rest) with the held branch "not yet walked" and the root
// "still walking", provisional totals and an audit said to be pending, never a verdict; the
// progress bar, the batches fetched and the reload stay. Released, the page is the finished
// tree, with no such marks.
func TestProgressPageShowsThePartialTree(t *testing.T) {
	w := startHeldWideWalk(t, appOptions{progressWait: time.Millisecond})
	a := w.app
	refresh := w.open(t)

	doc, r := a.page(t, refresh, http.StatusAccepted)
	if doc.Find("meta[http-equiv=refresh]").Length() != 1 || doc.Find("progress").Length() != 1 || text(doc.Find("[data-testid=fetched]")) != views.FormatCount(w.fetched) {
		t.Errorf("the progress is gone: refresh %d, bar %d, fetched %q (want %d)", doc.Find("meta[http-equiv=refresh]").Length(),
			doc.Find("progress").Length(), text(doc.Find("[data-testid=fetched]")), w.fetched)
	}
	part := doc.Find("[data-testid=partial-lineage]")
	if part.Length() != 1 {
		t.Fatalf("no partial tree on the progress page:\n%s", head(r.body, 3000))
	}
	if h := text(part.Find("#batch-h")); !strings.Contains(h, a.fx.WideLeafDeep) {
		t.Errorf("the batch's header reads %q", h)
	}
	steps := part.Find("[data-testid=path] > li")
	if steps.Length() != len(w.path) || !strings.Contains(text(steps.First()), w.path[0]) || !strings.Contains(text(steps.Last()), a.fx.WideLeafDeep) {
		t.Errorf("path of %d steps %q, want %d from %s", steps.Length(), text(steps), len(w.path), w.path[0])
	}
	row := func(id string) *goquery.Selection {
		li := part.Find("ul.tree li#" + views.NodeAnchor(id))
		if li.Length() != 1 {
			t.Fatalf("no row for %s in the partial tree", id)
		}
		return li.ChildrenFiltered("details, div.leaf").First()
	}
	mark := func(id string) string {
		r := row(id)
		if r.Is("details") {
			r = r.ChildrenFiltered("summary")
		}
		return text(r.ChildrenFiltered("[data-testid=walking]"))
	}
	if m := mark(w.held); !strings.Contains(m, "not yet walked") {
		t.Errorf("held branch marked %q", m)
	}
	if m := mark(w.path[0]); !strings.Contains(m, "still walking") {
		t.Errorf("root marked %q", m)
	}
	for _, id := range w.path[1:] {
		if m := mark(id); strings.Contains(m, "walk") {
			t.Errorf("%s, on the path and walked to its leaves, marked %q", id, m)
		}
	}
	known := w.fetched + 1
	shown := int64(len(w.path) + views.DefaultPartialRows)
	if rows := part.Find("ul.tree li").Length(); int64(rows) != shown {
		t.Errorf("the partial tree renders %d rows, want the path and %d more: %d", rows, views.DefaultPartialRows, shown)
	}
	count := text(part.Find("[data-testid=partial-count]"))
	for _, want := range []string{views.FormatCount(known) + " batches found so far", "the first " + views.FormatCount(shown) + " are shown",
		views.FormatCount(known-shown) + " more not shown"} {
		if !strings.Contains(count, want) {
			t.Errorf("the count reads %q, want %q in it", count, want)
		}
	}
	if c := text(part.Find("[data-testid=check]")); !strings.Contains(c, "Provisional") {
		t.Errorf("totals not marked provisional: %q", c)
	}
	if part.Find("[data-testid=audit-pending]").Length() != 1 {
		t.Error("the audit is not said to be pending")
	}
	for _, sel := range []string{"[data-testid=conserved]", "[data-testid=no-problems]", "[data-testid=audit-verdict]"} {
		if doc.Find(sel).Length() > 0 {
			t.Errorf("a verdict on part of the tree: %s %q", sel, text(doc.Find(sel)))
		}
	}

	w.hold.free()
	for i := 0; ; i++ {
		if i == 6000 { // a minute: a bound, not a timing test
			t.Fatal("the walk never finished")
		}
		if r := a.get(t, refresh); r.status == http.StatusOK {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	doc, _ = a.page(t, refresh, http.StatusOK)
	if n := doc.Find("[data-testid=walking], [data-testid=partial-lineage], [data-testid=audit-pending]").Length(); n > 0 {
		t.Errorf("the finished page keeps %d marks of the walk", n)
	}
	if doc.Find("[data-testid=no-problems], [data-testid=audit-verdict]").Length() != 1 {
		t.Error("the finished page has no audit verdict")
	}
	if doc.Find("ul.tree li#"+views.NodeAnchor(w.held)).Length() != 1 {
		t.Error("the finished tree has no row for the batch that was held")
	}
}

// A walk still climbing (held on the batch's parent) shows the batch itself, the path as far
// as it goes, said to be still climbing rather than broken.
func TestProgressPageWhileClimbing(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	leaf, _ := reg.Batch(f.WideLeafDeep)
	h := newHold(leaf.ParentID)
	a := newApp(t, appOptions{progressWait: time.Millisecond, noPlanner: true, upstream: h.wrap})
	t.Cleanup(h.free)
	_, _ = a.page(t, "/batches/"+f.WideLeafDeep, http.StatusAccepted)
	<-h.arrived
	doc, _ := a.page(t, "/batches/"+f.WideLeafDeep, http.StatusAccepted)
	part := doc.Find("[data-testid=partial-lineage]")
	if !strings.Contains(text(part.Find("#batch-h")), f.WideLeafDeep) {
		t.Fatalf("no header of the batch while climbing: %q", text(part))
	}
	if n := doc.Find("h1").Length(); n != 1 {
		t.Errorf("the progress page has %d h1 headings, want one", n)
	}
	if c := text(part.Find("[data-testid=path-climbing]")); !strings.Contains(c, "Still climbing") {
		t.Errorf("path while climbing: %q", c)
	}
	if part.Find("[data-testid=path-incomplete]").Length() > 0 {
		t.Error("a climb under way is reported as a path that could not be followed")
	}
	if part.Find("ul.tree li.target#"+views.NodeAnchor(f.WideLeafDeep)).Length() != 1 {
		t.Error("the tree so far does not show the batch")
	}
	if c := text(part.Find("[data-testid=partial-count]")); !strings.Contains(c, "1 batch found so far") || strings.Contains(c, "not shown") {
		t.Errorf("the count while climbing reads %q", c)
	}
	// The batch is not the root: no depth counted from it, no share of it as if it were.
	if steps := part.Find("nav .depth"); steps.Length() == 0 || steps.Length() != part.Find("[data-testid=depth-unknown]").Length() {
		t.Errorf("path depths while climbing: %q", text(steps))
	}
	if sh := part.Find("ul.tree .sh"); sh.Length() != 0 {
		t.Errorf("shares of the root while it is not reached: %q", text(sh))
	}
}
