package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// A malformed serial typed in the search box gets the reason /serial/ gives, not "nothing to
// look up".
func TestSearchSaysWhyASerialIsMalformed(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, bad := range []string{
		"ISO-1-BSTORE-GBR-F5X7-2024-81177-78177", // ends swapped
		"ISO-1-BSTORE-GBR-F5X7-2024-78177",       // seven parts
		"ISO-1-BSTORE-GB-F5X7-2024-78177-81177",  // a two-letter country
	} {
		var se *registry.SerialError
		if _, err := registry.ParseSerial(bad); !errors.As(err, &se) {
			t.Fatalf("%s parses", bad)
		}
		doc, _ := a.page(t, "/search?q="+url.QueryEscape(bad), http.StatusBadRequest)
		if h := text(doc.Find("h1")); h != "That is not a valid serial number" {
			t.Errorf("%s: heading %q", bad, h)
		}
		if why := text(doc.Find(`[data-testid=dropped-why]`)); !strings.Contains(why, se.Why) {
			t.Errorf("%s: search says %q, want the reason %q", bad, why, se.Why)
		}
		// The same reason as the serial route's own page.
		serialDoc, _ := a.page(t, views.SerialURL(bad), http.StatusBadRequest)
		if !strings.Contains(text(serialDoc.Find("main")), se.Why) {
			t.Errorf("%s: /serial/ does not give the reason %q either", bad, se.Why)
		}
	}
}

// A pasted list says which pieces it left out and why, and names the kind of id.
func TestSearchListsWhatItDropped(t *testing.T) {
	a := newApp(t, appOptions{})
	q := a.fx.WideRoot + "\nret_1ABC\nISO-1-BSTORE-GBR-F5X7-2024-9-3\nabc_1DRBTYA8Q1S07CBY\nplease check these"
	doc, _ := a.page(t, "/search?q="+url.QueryEscape(q), http.StatusOK)
	if n := doc.Find(".choices li").Length(); n != 1 {
		t.Errorf("%d choices, want the one valid id", n)
	}
	items := doc.Find(`[data-testid=dropped] li`)
	if items.Length() != 3 {
		t.Fatalf("dropped list %q, want 3 items", text(doc.Find(`[data-testid=dropped]`)))
	}
	for i, want := range []string{"ret_1ABC: not a valid retirement id", "not a valid serial number: its last unit must be greater", "abc_1DRBTYA8Q1S07CBY: an id of a kind"} {
		if got := text(items.Eq(i)); !strings.Contains(got, want) {
			t.Errorf("dropped item %d: %q, want %q", i, got, want)
		}
	}

	doc, _ = a.page(t, "/search?q=ret_1ABC", http.StatusBadRequest)
	if h := text(doc.Find("h1")); h != "That is not a valid retirement id" {
		t.Errorf("heading %q", h)
	}
	doc, _ = a.page(t, views.RetirementURL("ret_1ABC"), http.StatusBadRequest)
	if h := text(doc.Find("h1")); !strings.Contains(h, "not a valid retirement id") {
		t.Errorf("retirement page heading %q", h)
	}
}
