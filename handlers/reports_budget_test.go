package handlers

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// TestWarmPagesSendNothingUpstream opens the issuance page, the retirement page and a serial
// lookup in a cold process, then again: the second time no upstream request may be sent
// (PRODUCT.md, budgets: a warm page needs no upstream call). Run with -v for the figures.
func TestWarmPagesSendNothingUpstream(t *testing.T) {
	a := newApp(t, appOptions{})
	var mu sync.Mutex
	byRoute := map[string]int{}
	a.client.SetObserver(func(ev registry.RequestEvent) {
		mu.Lock()
		byRoute[ev.Endpoint]++
		mu.Unlock()
	})
	take := func() (int, string) {
		mu.Lock()
		defer mu.Unlock()
		n, parts := 0, []string{}
		for k, v := range byRoute {
			n += v
			parts = append(parts, k+" "+strconv.Itoa(v))
		}
		sort.Strings(parts)
		clear(byRoute)
		return n, strings.Join(parts, ", ")
	}
	leaf, _ := a.reg.Batch(a.fx.WideLeafDeep)
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"issuance page", "/issuances/" + a.fx.Issuance, http.StatusOK},
		{"retirement page", "/retirements/" + a.fx.Retirement, http.StatusOK},
		{"serial of a leaf 10 splits deep", "/serial/" + leaf.SerialNumber, http.StatusSeeOther},
	} {
		r := a.get(t, tc.path)
		if r.status != tc.status {
			t.Fatalf("%s: %d", tc.name, r.status)
		}
		cold, detail := take()
		if strings.HasPrefix(tc.path, "/serial/") {
			// The lookup went on as soon as the root it needed was indexed; the pass it
			// started goes on in the background. Let it end, so that its requests are not
			// counted as the warm lookup's.
			for i := 0; a.explorer.SerialIndex().Status().Running; i++ {
				if i == 6000 {
					t.Fatal("the index pass never ended")
				}
				time.Sleep(10 * time.Millisecond)
			}
			rest, restDetail := take()
			t.Logf("%s: the index pass it started sent %d more in the background (%s)", tc.name, rest, restDetail)
		}
		// Once the report a page shows is dropped (KeepFinished), it is built again from the
		// caches: ask for a rebuild as ?retry=1 does, then the page.
		switch {
		case strings.HasPrefix(tc.path, "/issuances/"):
			<-a.explorer.StartIssuanceReport(a.fx.Issuance, true).Done()
		case strings.HasPrefix(tc.path, "/retirements/"):
			<-a.explorer.StartRetirementReport(a.fx.Retirement, true).Done()
		}
		r2 := a.get(t, tc.path)
		warm, warmDetail := take()
		gz := ""
		if req, err := http.NewRequest(http.MethodGet, a.url+tc.path, nil); err == nil {
			req.Header.Set("Accept-Encoding", "gzip")
			if resp, err := a.http.Do(req); err == nil {
				resp.Body.Close()
				gz = resp.Header.Get("Content-Length")
			}
		}
		if n, _ := take(); n != 0 {
			t.Errorf("%s: a third, warm request sent %d upstream", tc.name, n)
		}
		t.Logf("%s: cold %d upstream requests (%s), warm %d; page %d bytes (%s bytes gzipped)", tc.name, cold, detail, warm, len(r.body), gz)
		if warm != 0 || r2.status != tc.status {
			t.Errorf("%s: warm %d (%s), status %d", tc.name, warm, warmDetail, r2.status)
		}
	}
}
