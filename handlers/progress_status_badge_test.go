package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// A progress page's rows not walked yet have no status: no badge, rather than an empty one.
func TestProgressRowsNotWalkedHaveNoStatusBadge(t *testing.T) {
	a := newApp(t, appOptions{demo: demo.Options{Latency: 5 * time.Millisecond}, progressWait: 200 * time.Millisecond})
	for i := 0; ; i++ {
		r := a.get(t, views.BatchURL(a.fx.WideRoot)+"?walk=0")
		if r.status != http.StatusAccepted {
			t.Fatalf("the walk of the wide tree ended before a progress page showed rows not walked yet (%d)", r.status)
		}
		if !strings.Contains(r.body, "not yet walked") {
			if i == 50 {
				t.Fatal("no progress page showed a row not walked yet")
			}
			continue
		}
		if strings.Contains(r.body, `class="badge st-"`) {
			t.Errorf("a row not walked yet has an empty status badge: %s", head(r.body[strings.Index(r.body, `class="badge st-"`)-300:], 400))
		}
		return
	}
}
