package handlers

import (
	"net/http"
	"testing"

	"github.com/lineage-explorer/explorer/views"
)

// Every page's header links to the watch list when the explorer keeps watch lists, and only
// then.
func TestHeaderLinksToWatchList(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	for _, p := range []string{"/", views.BatchURL(w.fx.WideRoot), views.WatchURL()} {
		doc, _ := w.page(t, p, http.StatusOK)
		if got := doc.Find("header.site [data-testid=nav-watch]").AttrOr("href", ""); got != views.WatchURL() {
			t.Errorf("%s: the header's watch list link is %q", p, got)
		}
	}
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/", http.StatusOK)
	if n := doc.Find("[data-testid=nav-watch]").Length(); n != 0 {
		t.Errorf("an explorer without watch lists links to /watch %d times", n)
	}
}
