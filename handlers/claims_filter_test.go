package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/claims"
)

// A results page filtered on one verdict links downloads of those rows alone, and the CSV
// and JSON downloads carry exactly the rows the unfiltered answer gives that verdict.
func TestClaimsDownloadsFollowTheVerdictFilter(t *testing.T) {
	a := newApp(t, appOptions{claimsSample: true})
	r := a.post(t, "/claims", "application/x-www-form-urlencoded", []byte(url.Values{"list": {a.reg.SampleClaims()}}.Encode()), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /claims: %d %s", r.status, head(r.body, 300))
	}
	result := r.header.Get("Location")
	id := strings.TrimPrefix(result, "/claims/")

	var all claimsAnswer
	for i := 0; all.Status != "done"; i++ { // each request waits a while for the check to end
		if i == 50 {
			t.Fatalf("the list is still being checked: %+v", all)
		}
		if err := json.Unmarshal([]byte(a.get(t, result+"/results.json").body), &all); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []claims.Code{claims.NotRetired, claims.DoubleClaimed, claims.Verified} {
		var want []int
		for _, row := range all.Rows {
			if row.Verdict == v {
				want = append(want, row.Claim.Row)
			}
		}
		if len(want) == 0 {
			t.Fatalf("the sample has no %s row to filter on", v)
		}
		doc, _ := a.page(t, result+"?verdict="+string(v), http.StatusOK)
		csvURL := doc.Find(`a[data-testid=csv]`).AttrOr("href", "")
		jsonURL := doc.Find(`a[data-testid=json]`).AttrOr("href", "")
		if !strings.Contains(csvURL, "verdict="+string(v)) || !strings.Contains(jsonURL, "verdict="+string(v)) {
			t.Fatalf("%s: the downloads ignore the filter: %q %q", v, csvURL, jsonURL)
		}

		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(a.get(t, csvURL).body, utf8BOM))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		var got []string
		for _, rec := range recs[1:] {
			if rec[col["verdict"]] != string(v) {
				t.Errorf("%s CSV holds a %s row", v, rec[col["verdict"]])
			}
			got = append(got, rec[col["row"]])
		}
		if len(got) != len(want) {
			t.Errorf("%s CSV: %d rows %v, want %d %v", v, len(got), got, len(want), want)
		}

		var ans claimsAnswer
		if err := json.Unmarshal([]byte(a.get(t, jsonURL).body), &ans); err != nil {
			t.Fatal(err)
		}
		if ans.Verdict != v || ans.Total != len(want) || len(ans.Rows) != len(want) || ans.Counts[v] != len(want) || len(ans.Counts) != 1 {
			t.Errorf("%s JSON: verdict %q total %d rows %d counts %v, want %d", v, ans.Verdict, ans.Total, len(ans.Rows), ans.Counts, len(want))
		}
		for i, row := range ans.Rows {
			if row.Claim.Row != want[i] {
				t.Errorf("%s JSON row %d is input row %d, want %d", v, i, row.Claim.Row, want[i])
			}
		}
	}

	// A verdict that is not one is refused by name, on the page and the downloads alike.
	for _, path := range []string{result + "?verdict=bogus", result + "/results.csv?verdict=bogus", result + "/results.json?verdict=bogus", "/api/v1/claims/" + id + "?verdict=bogus"} {
		r := a.get(t, path)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "the verdicts are") || !strings.Contains(r.body, "double_claimed") {
			t.Errorf("%s: %d %s", path, r.status, head(r.body, 300))
		}
	}
	// A verdict typed in capitals is understood.
	if doc, _ := a.page(t, result+"?verdict=NOT_RETIRED", http.StatusOK); doc.Find("table.claims tbody tr").Length() != all.Counts[claims.NotRetired] {
		t.Errorf("?verdict=NOT_RETIRED shows %d rows, want %d", doc.Find("table.claims tbody tr").Length(), all.Counts[claims.NotRetired])
	}
	// HEAD answers as GET does, on the downloads as on the page.
	for _, path := range []string{result, result + "/results.csv", result + "/results.json", "/api/v1/claims/" + id} {
		if r := a.do(t, http.MethodHead, path); r.status != http.StatusOK {
			t.Errorf("HEAD %s: %d", path, r.status)
		}
	}
	// The id in a link is found whatever its case.
	if r := a.get(t, "/claims/"+strings.ToLower(id)); r.status != http.StatusOK {
		t.Errorf("the lower-cased result link: %d", r.status)
	}
}
