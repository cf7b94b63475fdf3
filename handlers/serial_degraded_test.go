package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
)

// When the registry's listing of issuances never ends, a serial the index cannot find is not
// called malformed (400) nor unknown (404): the page says the index is incomplete and offers a
// retry; /readyz says the index is degraded (the app still serves) and /metrics has a gauge.
func TestSerialLookupWhileTheIssuanceListingLoops(t *testing.T) {
	a := newApp(t, appOptions{demo: demo.Options{LoopingCursors: true}, metrics: true})
	wide, _ := a.reg.Batch(a.fx.WideRoot)
	s, err := registry.ParseSerial(wide.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	s.First, s.Last = 1, 2 // a known project and vintage, units no root holds
	r := a.get(t, "/serial/"+s.String())
	if r.status == http.StatusBadRequest || r.status == http.StatusNotFound || r.status < 500 {
		t.Fatalf("GET /serial/%s = %d, want a 5xx: the index is incomplete", s, r.status)
	}
	if !strings.Contains(r.body, "incomplete") || strings.Contains(r.body, "well-formed") {
		t.Errorf("the page does not say the index is incomplete: %s", head(r.body, 2000))
	}
	ready := a.get(t, "/readyz")
	if ready.status != http.StatusOK || !strings.Contains(ready.body, "serial index: degraded") {
		t.Errorf("/readyz = %d %q, want ready with the serial index degraded", ready.status, ready.body)
	}
	if m := a.get(t, "/metrics"); !strings.Contains(m.body, "lineage_serial_index_degraded 1") {
		t.Error("/metrics lacks lineage_serial_index_degraded 1")
	}
}
