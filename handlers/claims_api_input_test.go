package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The JSON API counts exactly the items it was sent, reads an object's keys as its header
// (never as a claim), and makes an item it cannot read a malformed row, not a failed list.
func TestClaimsAPICountsTheItemsItWasSent(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, c := range []struct {
		body      string
		rows      int
		malformed int
	}{
		{`[{}]`, 1, 1},
		{`[{},{},{}]`, 3, 3},
		{`[{"reference":"x"}]`, 1, 1},
		{`["` + a.fx.HostileOrgBatch + `", 12345, null, [1,2]]`, 4, 3},
	} {
		r := a.post(t, "/api/v1/claims", "application/json", []byte(c.body), nil)
		var ans struct {
			Counts map[string]int    `json:"counts"`
			Rows   []json.RawMessage `json:"rows"`
		}
		if err := json.Unmarshal([]byte(r.body), &ans); err != nil || r.status != http.StatusOK {
			t.Errorf("%s: %d %v %.200s", c.body, r.status, err, r.body)
			continue
		}
		if len(ans.Rows) != c.rows || ans.Counts["malformed"] != c.malformed {
			t.Errorf("%s: %d rows, %d malformed; want %d and %d", c.body, len(ans.Rows), ans.Counts["malformed"], c.rows, c.malformed)
		}
	}
	for _, body := range []string{`[]`, `{}`, `null`, `123`, `"abc"`} {
		if r := a.post(t, "/api/v1/claims", "application/json", []byte(body), nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", body, r.status)
		}
	}
}

// The results CSV starts with a byte-order mark, as the lineage CSV does, and guards every cell
// a spreadsheet would run, the user's own cells included, in every form the lineage CSV does.
func TestClaimsCSVIsGuardedAndMarkedUTF8(t *testing.T) {
	a := newApp(t, appOptions{})
	body := "batch,reference\n" + a.fx.HostileOrgBatch + ",\"  -2+3\"\n" + a.fx.HostileOrgBatch + ",＝1+1\n" +
		a.fx.HostileOrgBatch + ",\"\n=1+1\"\n" + a.fx.HostileOrgBatch + ",=HYPERLINK(\"x\")\n"
	r := a.post(t, "/api/v1/claims", "text/csv", []byte(body), nil)
	var ans struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.body), &ans); err != nil || ans.ID == "" {
		t.Fatalf("POST: %d %.200s", r.status, r.body)
	}
	csvBody := a.get(t, "/claims/"+ans.ID+"/results.csv").body
	if !strings.HasPrefix(csvBody, utf8BOM) {
		t.Errorf("no byte-order mark: %q", head(csvBody, 20))
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvBody, utf8BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if ref := rec[1]; !strings.HasPrefix(ref, "'") {
			t.Errorf("reference cell %q is not guarded", ref)
		}
	}
}
