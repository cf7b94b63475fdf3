package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// A long walk's progress page measures the root's kg in complete subtrees: polled as a
// browser's refreshes poll it, the share never goes back, moves through values between 0 and
// 100 (the old measure, batches fetched of those found, sat near 50 % for most of a walk),
// shows the batches fetched beside it, and the walk it showed ends at exactly 100 %.
func TestProgressByKgRisesToTheEnd(t *testing.T) {
	// 2 ms per upstream answer: the 3,001-batch tree takes a second or so to walk.
	// By id only: with the list planner the walk is a few pages long, too quick to watch.
	a := newApp(t, appOptions{demo: demo.Options{Latency: 2 * time.Millisecond}, progressWait: time.Millisecond, noPlanner: true})
	path := "/batches/" + a.fx.WideLeafDeep

	doc, _ := a.page(t, path, http.StatusAccepted)
	refresh, _ := url.Parse(strings.TrimPrefix(doc.Find("meta[http-equiv=refresh]").AttrOr("content", ""), "1;url="))
	walk, err := strconv.ParseUint(refresh.Query().Get("walk"), 10, 64)
	if err != nil {
		t.Fatalf("the progress page names no walk: %q", refresh)
	}
	read := func(d *goquery.Document) (pct, bar, fetched int) {
		t.Helper()
		var err1, err2, err3 error
		pct, err1 = strconv.Atoi(strings.TrimSuffix(text(d.Find("[data-testid=percent]")), " %"))
		bar, err2 = strconv.Atoi(d.Find("progress").AttrOr("value", ""))
		fetched, err3 = strconv.Atoi(strings.ReplaceAll(text(d.Find("[data-testid=fetched]")), ",", ""))
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("progress page: percent %q, bar %q, fetched %q", text(d.Find("[data-testid=percent]")),
				d.Find("progress").AttrOr("value", ""), text(d.Find("[data-testid=fetched]")))
		}
		if pct != bar {
			t.Errorf("the text says %d %%, the bar %d", pct, bar)
		}
		return pct, bar, fetched
	}
	last, _, _ := read(doc)
	var seen []int
	for i := 0; ; i++ {
		if i == 3000 { // a minute: a bound against a walk that never ends, not a timing test
			t.Fatal("the walk never finished")
		}
		time.Sleep(10 * time.Millisecond)
		r := a.get(t, refresh.String())
		if r.status == http.StatusOK {
			break
		}
		if r.status != http.StatusAccepted {
			t.Fatalf("status %d while walking", r.status)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		pct, _, fetched := read(d)
		if pct < last {
			t.Errorf("poll %d: progress went back from %d %% to %d %% (%d batches fetched)", i, last, pct, fetched)
		}
		if pct > 99 {
			t.Errorf("poll %d: %d %% while the walk runs", i, pct)
		}
		if len(seen) == 0 || seen[len(seen)-1] != pct {
			seen = append(seen, pct)
		}
		last = pct
	}
	t.Logf("percentages shown, in order: %v", seen)
	moving := 0
	for _, p := range seen {
		if p > 0 && p < 100 {
			moving++
		}
	}
	if moving < 2 {
		t.Errorf("the share took %d values between 0 and 100 (%v): it did not move", moving, seen)
	}
	if pm := a.explorer.FollowLineage(a.fx.WideLeafDeep, walk).Progress.Permille(); pm != 1000 {
		t.Errorf("the finished walk is at %d ‰, want 1000", pm)
	}
}
