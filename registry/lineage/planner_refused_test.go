package lineage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

// A registry that refuses every list costs a walk a few refused requests, not some for every
// holder, retirement and delivery the tree names: once three of a route's lists are refused in
// a row, the route is taken as refused.
func TestPlannerRefusedRouteCostsAFewRequests(t *testing.T) {
	reg := demo.New(demo.Options{})
	asked := &listCounts{}
	c := refusingLists(t, reg, http.StatusForbidden, asked, orgLists, retirementLists, deliveryLists)
	_, planned, p := walkers(c)
	tree, err := planned.Lineage(context.Background(), reg.Fixtures().WideLeafDeep, nil)
	if err != nil {
		t.Fatal(err)
	}
	lists := asked.count(orgLists) + asked.count(retirementLists) + asked.count(deliveryLists)
	if lists > int64(tree.Len())/50 || c.Stats().Requests != int64(tree.Len())+lists {
		t.Errorf("%d lists asked (%d organisations', %d retirements', %d deliveries'), %d requests in all for %d batches (planner %+v); want at most %d lists",
			lists, asked.count(orgLists), asked.count(retirementLists), asked.count(deliveryLists), c.Stats().Requests, tree.Len(), p.Stats(), tree.Len()/50)
	}
}

// Until an organisation's list has served a page, a walk waits for none: against a registry
// whose lists never answer, the walk ends, every batch fetched by id.
func TestPlannerDoesNotWaitForListsNeverServed(t *testing.T) {
	reg := demo.New(demo.Options{})
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/credit_batches") {
			select { // until the test ends, or the client gives up
			case <-hang:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(hang)
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: demo.AccessToken,
		// Slots to spare for the lists that hang: the test is about waiting for them, not slots.
		ClientSecret: demo.ClientSecret, Concurrency: 64})
	if err != nil {
		t.Fatal(err)
	}
	byID, planned, _ := walkers(c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := reg.Fixtures()
	for _, start := range []string{f.DeepChainLeaf, f.WideLeafDeep} {
		want, err := byID.Lineage(ctx, start, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := planned.Lineage(ctx, start, nil)
		if err != nil {
			t.Fatalf("the walk of %s with lists that never answer: %v", start, err)
		}
		if got.Len() != want.Len() || got.Partial() {
			t.Errorf("%s: %d batches, partial %v; by id %d", start, got.Len(), got.Partial(), want.Len())
		}
	}
}
