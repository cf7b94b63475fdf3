package handlers

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/isometric"
)

// outage wraps the demo registry: while down is set, every answer is a 502 page from the proxy
// in front of it.
func outage(down *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func quickGiveUp(cc *isometric.ClientConfig) { cc.MaxAttempts = 2 }

// A walk that failed is not what the next request gets once the registry answers again: the
// page, the JSON (with or without ?retry=1) and the CSV each walk again (the explorer keeps
// finished walks for 30 s, longer than this test).
func TestAFailureIsNotServedAfterTheRegistryRecovers(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	a := newApp(t, appOptions{upstream: outage(&down), clientTweak: quickGiveUp})
	id := a.fx.DeepChainLeaf
	routes := []string{"/batches/" + id, "/api/v1/batches/" + id + "/lineage?retry=1", "/batches/" + id + "/lineage.csv"}
	for _, path := range routes {
		if r := a.get(t, path); r.status != http.StatusBadGateway {
			t.Fatalf("GET %s during the outage: %d, want 502", path, r.status)
		}
	}
	down.Store(false)
	for _, path := range routes {
		if r := a.get(t, path); r.status != http.StatusOK {
			t.Errorf("GET %s after recovery: %d, want 200; body starts %q", path, r.status, head(r.body, 300))
		}
	}
}

// A browser that got the progress page reloads it until the walk ends: that reload is still
// waiting for the same walk, so it is the one that gets the failure; a new visit walks again.
func TestTheProgressPageGetsTheFailureOfItsOwnWalk(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	a := newApp(t, appOptions{upstream: outage(&down), clientTweak: quickGiveUp,
		progressWait: time.Nanosecond})
	id := a.fx.DeepChainLeaf
	doc, _ := a.page(t, "/batches/"+id, http.StatusAccepted)
	reload, ok := doc.Find(`[data-testid=progress] a`).Attr("href")
	if !ok || !strings.Contains(reload, "walk=") {
		t.Fatalf("the progress page reloads %q, which does not name its walk", reload)
	}
	var r response
	for deadline := time.Now().Add(30 * time.Second); ; {
		if r = a.get(t, reload); r.status != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r.status != http.StatusBadGateway {
		t.Fatalf("the progress page's reload ended with %d, want the walk's 502", r.status)
	}
	down.Store(false)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if r = a.get(t, "/batches/"+id); r.status != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r.status != http.StatusOK {
		t.Errorf("a new visit after recovery: %d, want 200", r.status)
	}
}
