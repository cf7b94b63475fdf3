package handlers

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/lineage-explorer/explorer/views"
)

// In a browser, without script: the lineage page's Watch button adds the tree to the watch
// list, and once the tree changes and is polled, /watch says what changed.
func TestBrowserWatchABatchAndSeeItsChange(t *testing.T) {
	b := newBrowser(t)
	w := newWatchApp(t, watchOptions{})
	b.do(t, chromedp.Navigate(w.url+views.BatchURL(w.parent)))
	b.settle(t, "form[data-testid=watch-batch] button")
	b.do(t, chromedp.Click(chromedp.CSS("form[data-testid=watch-batch] button")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=watch-item]")))
	if u, err := url.Parse(run(t, b, chromedp.Location())); err != nil || u.Path != views.WatchURL() {
		t.Fatalf("the Watch button led to %v", u)
	}
	if got := run(t, b, chromedp.Text(chromedp.CSS("[data-testid=watch-item] h2"))); !strings.Contains(got, w.parent) {
		t.Errorf("the watch list shows %q, want %s", got, w.parent)
	}
	w.poll(t)
	w.split.Store(true)
	w.poll(t)
	b.do(t, chromedp.Navigate(w.url+views.WatchURL()), chromedp.WaitVisible(chromedp.CSS("[data-testid=watch-change]")))
	got := run(t, b, chromedp.Text(chromedp.CSS("[data-testid=watch-changes]")))
	if !strings.Contains(got, w.parent) || !strings.Contains(got, "split into") {
		t.Errorf("changes shown: %q; want %s's split", got, w.parent)
	}
	// The change links to the batch it is about.
	b.do(t, chromedp.Click(chromedp.CSS("[data-testid=watch-change] a")), chromedp.WaitVisible(chromedp.CSS("ul.tree li.target")))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
