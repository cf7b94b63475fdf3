package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Issue 14, point 11: a serial number with an encoded slash (a link's %2F) is a malformed
// serial number, answered with the serial's own 400 that names the slash, not with "no page at
// this address"; under a base path and in the JSON API too.
func TestASerialWithAnEncodedSlashGetsTheSerialsOwn400(t *testing.T) {
	for _, base := range []string{"", "/lineage"} {
		a := newApp(t, appOptions{basePath: base})
		for _, serial := range []string{"ISO-1-BSTORE%2FGBR-F5X7-2024-1-2", "ISO-1-BSTORE-GBR-F5X7-2024-1%2f2", "%2FISO-1-BSTORE-GBR-F5X7-2024-1-2"} {
			doc, _ := a.page(t, base+"/serial/"+serial, http.StatusBadRequest)
			if got := text(doc.Find("main")); !strings.Contains(got, "not a valid serial number") || !strings.Contains(got, "slash") {
				t.Errorf("%s/serial/%s: %q", base, serial, head(got, 300))
			}
			r := a.get(t, base+"/api/v1/serial/"+serial)
			var body struct{ Code, Error, What string }
			if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != http.StatusBadRequest ||
				body.Code != "invalid" || body.What != "serial number" || !strings.Contains(body.Error, "slash") {
				t.Errorf("%s/api/v1/serial/%s: %d %s", base, serial, r.status, head(r.body, 300))
			}
		}
		// A literal slash is another address, still not a page.
		if r := a.get(t, base+"/serial/ISO-1-BSTORE/GBR-F5X7-2024-1-2"); r.status != http.StatusNotFound {
			t.Errorf("a literal slash: %d", r.status)
		}
		if a.reg.Requests() != 0 {
			t.Error("a malformed serial reached the registry")
		}
	}
}
