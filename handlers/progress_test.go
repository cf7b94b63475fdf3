package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
)

func TestLongWalkShowsProgressThenThePage(t *testing.T) {
	// 5 ms per upstream answer makes the 320-deep chain take over a second and a half to climb.
	a := newApp(t, appOptions{demo: demo.Options{Latency: 5 * time.Millisecond}, progressWait: time.Millisecond})
	path := "/batches/" + a.fx.DeepChainLeaf

	doc, r := a.page(t, path, http.StatusAccepted)
	refresh := doc.Find("meta[http-equiv=refresh]").AttrOr("content", "")
	if !strings.HasPrefix(refresh, "1;url="+path+"?walk=") {
		t.Errorf("refresh = %q, want it to reload %s every second", refresh, path)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("progress page is cacheable: %q", r.header.Get("Cache-Control"))
	}
	if doc.Find("script:not([src])").Length() != 0 {
		t.Error("the progress page uses an inline script")
	}
	first, err := strconv.Atoi(strings.ReplaceAll(text(doc.Find("[data-testid=fetched]")), ",", ""))
	if err != nil {
		t.Fatalf("fetched count: %v", err)
	}

	// Follow the refreshes as a browser would, until the lineage page arrives. The walk
	// advances between two looks, and the count shown never goes back.
	last, advanced := first, false
	for i := 0; ; i++ {
		if i == 3000 { // a minute: a bound against a walk that never ends, not a timing test
			t.Fatal("the walk never finished")
		}
		time.Sleep(20 * time.Millisecond)
		r := a.get(t, path)
		if r.status == http.StatusOK {
			break
		}
		if r.status != http.StatusAccepted {
			t.Fatalf("status %d while walking", r.status)
		}
		// Read this answer, not a second one: the walk may end between two requests.
		d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(strings.ReplaceAll(text(d.Find("[data-testid=fetched]")), ",", ""))
		if n < last {
			t.Errorf("progress went back from %d to %d", last, n)
		}
		if n > first {
			advanced = true
		}
		last = n
	}
	if !advanced {
		t.Error("the progress page never showed the walk advancing")
	}
	doc, _ = a.page(t, path, http.StatusOK)
	if doc.Find("ul.tree li.target").Length() != 1 {
		t.Error("the finished page has no tree")
	}
}
