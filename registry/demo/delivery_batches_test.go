package demo_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// GET /deliveries/{id}/credit_batches lists the batches delivered, split ones included, and
// not the halves they were split into since (which carry the delivery_id too: the
// organisation route's delivery_id filter finds those).
func TestDeliveryCreditBatches(t *testing.T) {
	r := shared()
	f := r.Fixtures()
	base := demo.NewTestServer(t, r)

	a := get(t, base+"/deliveries/"+f.Delivery+"/credit_batches")
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var list struct {
		Nodes []struct {
			ID         string `json:"id"`
			Status     string `json:"status"`
			DeliveryID string `json:"delivery_id"`
		} `json:"nodes"`
		TotalCount int `json:"total_count"`
	}
	if err := json.Unmarshal([]byte(a.body), &list); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, n := range list.Nodes {
		listed[n.ID] = true
		b, _ := r.Batch(n.ID)
		if n.DeliveryID != f.Delivery || b.DeliveryID != f.Delivery {
			t.Errorf("%s of delivery %q listed for %s", n.ID, n.DeliveryID, f.Delivery)
		}
		if p, ok := r.Batch(b.ParentID); ok && p.DeliveryID == f.Delivery {
			t.Errorf("%s is a half of %s, delivered with it: only the batch delivered is listed", n.ID, p.ID)
		}
	}
	if !listed[f.DeepChainRoot] || len(list.Nodes) != list.TotalCount {
		t.Errorf("listed %v (total_count %d): want the deep chain's root %s", listed, list.TotalCount, f.DeepChainRoot)
	}

	// Every batch carrying the delivery_id descends from a batch the delivery lists.
	var org relayPage
	_ = json.Unmarshal([]byte(get(t, base+"/organisations/"+f.Organisation+"/credit_batches?first=50&status=split&status=active&status=retired&delivery_id="+f.Delivery).body), &org)
	if len(org.Nodes) < 2 {
		t.Fatalf("the organisation route lists %d batches of the delivery: the test proves nothing", len(org.Nodes))
	}
	for _, n := range org.Nodes {
		b, ok := r.Batch(n.ID)
		for ok && !listed[b.ID] {
			b, ok = r.Batch(b.ParentID)
		}
		if !ok {
			t.Errorf("%s carries delivery %s but descends from no batch its list holds", n.ID, f.Delivery)
		}
	}

	for path, want := range map[string]int{
		"/deliveries/dlv_1000000000000000/credit_batches":                                 http.StatusNotFound,
		"/deliveries/dlv_x/credit_batches":                                                http.StatusUnprocessableEntity,
		"/deliveries/" + strings.Replace(f.Delivery, "dlv", "ret", 1) + "/credit_batches": http.StatusUnprocessableEntity,
	} {
		if a := get(t, base+path); a.status != want {
			t.Errorf("GET %s: %d, want %d", path, a.status, want)
		}
	}
}
