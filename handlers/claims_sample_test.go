package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/claims"
)

// A newcomer on the demo finds the sample list from the home page, checks it through the real
// router, and sees every verdict the demo can show, each row the one its reference names.
func TestClaimsSampleListFromTheHomePage(t *testing.T) {
	a := newApp(t, appOptions{claimsSample: true})
	home, _ := a.page(t, "/", http.StatusOK)
	link, ok := home.Find(`a[data-testid=try-sample]`).Attr("href")
	if !ok || !strings.Contains(text(home.Find(`[data-testid=try-sample]`)), "try a sample list") {
		t.Fatalf("the home page offers no sample list: %s", text(home.Find(`[data-testid=home-claims]`)))
	}
	form, _ := a.page(t, link, http.StatusOK)
	list := form.Find(`textarea[name=list]`).Text()
	if list != a.reg.SampleClaims() {
		t.Fatalf("the form is not filled with the sample list: %q", head(list, 200))
	}

	r := a.post(t, "/claims", "application/x-www-form-urlencoded", []byte(url.Values{"list": {list}}.Encode()), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /claims: %d %s", r.status, head(r.body, 300))
	}
	doc, _ := a.page(t, r.header.Get("Location"), http.StatusOK)
	want := a.reg.SampleClaimVerdicts()
	rows := doc.Find("table.claims tbody tr")
	if rows.Length() != len(want) || len(want) < 40 {
		t.Fatalf("%d rows, want %d (at least 40)", rows.Length(), len(want))
	}
	for i, w := range want {
		if got := rows.Eq(i).AttrOr("data-verdict", ""); got != w.Verdict {
			t.Errorf("%s: %s", w.Reference, got)
		}
	}
	// A claim over several batches says how many cover it.
	for i, w := range want {
		if strings.Contains(w.Reference, "covered by 2 ") {
			if got := text(rows.Eq(i).Find(`[data-testid=covered]`)); got != "covered by 2 batches:" {
				t.Errorf("%s: %q", w.Reference, got)
			}
		}
	}
	for _, c := range claims.Codes {
		n := text(doc.Find(`[data-testid="count-` + string(c) + `"]`))
		if c == claims.Unchecked { // needs a failing registry: TestClaimVerdicts covers it
			continue
		}
		if n == "" || n == "0" {
			t.Errorf("the sample shows no %s row (count %q)", c, n)
		}
	}
}

// Without a sample (a real registry), the home page links to the claims check only.
func TestClaimsHomeLinkWithoutSample(t *testing.T) {
	a := newApp(t, appOptions{})
	home, _ := a.page(t, "/", http.StatusOK)
	if home.Find(`[data-testid=home-claims] a[href="/claims"]`).Length() != 1 || home.Find(`[data-testid=try-sample]`).Length() != 0 {
		t.Errorf("home page's claims section: %s", text(home.Find(`[data-testid=home-claims]`)))
	}
	form, _ := a.page(t, "/claims?sample=1", http.StatusOK)
	if strings.TrimSpace(form.Find(`textarea[name=list]`).Text()) != "" {
		t.Error("?sample=1 fills the form although there is no sample")
	}
}
