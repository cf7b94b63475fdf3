package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/views"
)

// offBy is b's serial with its ends moved by df and dl units.
func offBy(t *testing.T, serial string, df, dl int64) string {
	t.Helper()
	s, err := registry.ParseSerial(serial)
	if err != nil {
		t.Fatal(err)
	}
	s.First, s.Last = s.First+df, s.Last+dl
	return s.String()
}

// A serial range read as inclusive misses its batch by one unit: the answer offers that batch
// instead of a flat 404, and says how ranges read.
func TestSerialOneUnitOffSuggestsTheBatch(t *testing.T) {
	a := newApp(t, appOptions{})
	root, _ := a.reg.Batch(a.fx.AllFinalRoot)
	if root.ParentID != "" {
		t.Fatal("the fixture is not a root")
	}
	for _, d := range [][2]int64{{0, 1}, {-1, 0}, {1, 1}} {
		asked := offBy(t, root.SerialNumber, d[0], d[1])
		doc, _ := a.page(t, views.SerialURL(asked), http.StatusNotFound)
		dym := doc.Find(`[data-testid=did-you-mean]`)
		if dym.Find(`a[href="`+views.BatchURL(root.ID)+`"]`).Length() == 0 || !strings.Contains(text(dym), root.SerialNumber) {
			t.Errorf("%s: no did-you-mean for %s (%s): %q", asked, root.ID, root.SerialNumber, text(doc.Find("main")))
		}
		if text(doc.Find(`[data-testid=serial-convention]`)) != views.SerialConvention {
			t.Errorf("%s: the page does not say how ranges read", asked)
		}
		var e struct {
			DidYouMean struct {
				BatchID string `json:"batch_id"`
			} `json:"did_you_mean"`
		}
		r := a.get(t, "/api/v1/serial/"+asked)
		if r.status != http.StatusNotFound || json.Unmarshal([]byte(r.body), &e) != nil || e.DidYouMean.BatchID != root.ID {
			t.Errorf("%s: JSON %d %s", asked, r.status, head(r.body, 300))
		}
	}

	// One unit past a half's end lies inside its parent: the parent's page says which half
	// was most likely meant.
	left, _ := a.reg.Batch(root.LeftChildID)
	asked := offBy(t, left.SerialNumber, 0, 1)
	r := a.get(t, views.SerialURL(asked))
	if r.status != http.StatusSeeOther {
		t.Fatalf("%s: status %d", asked, r.status)
	}
	doc, _ := a.page(t, r.header.Get("Location"), http.StatusOK)
	if doc.Find(`[data-testid=within] [data-testid=did-you-mean] a[href="`+views.BatchURL(left.ID)+`"]`).Length() == 0 {
		t.Errorf("%s: the notice on %s does not offer %s: %q", asked, r.header.Get("Location"), left.ID, text(doc.Find(`[data-testid=within]`)))
	}

	// A serial that misses every batch by more gets the plain 404, with the convention.
	far := offBy(t, root.SerialNumber, 0, 5)
	doc, _ = a.page(t, views.SerialURL(far), http.StatusNotFound)
	if doc.Find(`[data-testid=did-you-mean]`).Length() != 0 || !strings.Contains(text(doc.Find("main")), views.SerialConvention) {
		t.Errorf("%s: %q", far, text(doc.Find("main")))
	}
}

// The batch page says once how its serial number's range reads.
func TestBatchPageStatesTheSerialConvention(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, views.BatchURL(a.fx.AllFinalRoot), http.StatusOK)
	if n := doc.Find(`[data-testid=serial-convention]`).Length(); n != 1 || text(doc.Find(`[data-testid=serial-convention]`)) != views.SerialConvention {
		t.Errorf("%d convention lines", n)
	}
}
