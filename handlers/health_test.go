package handlers

import (
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	a := newApp(t, appOptions{})
	if r := a.get(t, "/healthz"); r.status != 200 {
		t.Errorf("/healthz = %d", r.status)
	}
	if r := a.get(t, "/readyz"); r.status != 200 {
		t.Fatalf("/readyz = %d %q", r.status, r.body)
	}
	before := a.reg.Requests()
	for range 5 {
		if r := a.get(t, "/readyz"); r.status != 200 {
			t.Fatalf("/readyz = %d", r.status)
		}
	}
	if n := a.reg.Requests() - before; n != 0 {
		t.Errorf("%d upstream calls for 5 probes within the cache period", n)
	}
}
