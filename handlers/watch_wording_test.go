package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/watch"
	"github.com/lineage-explorer/explorer/views"
)

// /watch says the polling interval in words ("1 min"), not as Go prints a duration ("1m0s").
func TestWatchPageSaysIntervalInWords(t *testing.T) {
	w := newWatchApp(t, watchOptions{poller: watch.Config{Interval: time.Minute}})
	doc, _ := w.page(t, views.WatchURL(), http.StatusOK)
	got := text(doc.Find("#watch-h").Parent())
	if !strings.Contains(got, "polled every 1 min (") || strings.Contains(got, "1m0s") {
		t.Errorf("/watch says %q; want “every 1 min”", got)
	}
}

// The JSON says "no limit" as null, not as a budget of 0 (which WATCH_BUDGET refuses).
func TestWatchesJSONSaysNoBudgetAsNull(t *testing.T) {
	for _, c := range []struct {
		budget int
		want   string
	}{{0, `"budget_per_hour": null`}, {40, `"budget_per_hour": 40`}} {
		w := newWatchApp(t, watchOptions{poller: watch.Config{Budget: c.budget}})
		if r := w.get(t, "/api/v1/watches"); !strings.Contains(r.body, c.want) {
			t.Errorf("budget %d: %s; want %s", c.budget, head(r.body, 200), c.want)
		}
	}
}
