package handlers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
)

// post sends body to path with the content type and extra headers given.
func (a *testApp) post(t testing.TB, path, contentType string, body []byte, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// multipartList is the claims form as a browser sends it: the text area and a file.
func multipartList(t testing.TB, text, file string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("list", text); err != nil {
		t.Fatal(err)
	}
	fw, err := w.CreateFormFile("file", "claims.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, file)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// getWithUser GETs path as a signed-in user (header mode through the loopback proxy).
func (a *testApp) getAs(t testing.TB, path, user string) response {
	t.Helper()
	h := http.Header{}
	if user != "" {
		h.Set("X-Forwarded-Email", user)
	}
	return a.getWith(t, path, h)
}

func parseDoc(t testing.TB, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// claimsList is a small list over the demo registry: a verified retired batch, an active one,
// a formula-like cell, a markup beneficiary and an unknown batch.
func claimsList(t testing.TB, a *testApp) (string, registry.CreditBatch) {
	t.Helper()
	root, _ := a.reg.Batch(a.fx.AllFinalRoot)
	kids := a.reg.Children(root)
	leaf := kids[0]
	for leaf.Status != registry.StatusRetired {
		leaf = a.reg.Children(leaf)[0]
	}
	return fmt.Sprintf("batch;kg;beneficiary;reference\n%s;%d;;PO-1\n%s;;;=HYPERLINK(\"x\")\n%s;;<b>Acme</b>;PO-3\nctb_ZZZZZZZZZZZZZZZZ;;;PO-4\n",
		leaf.ID, leaf.Size.CreditKgs, a.fx.HostileOrgBatch, leaf.ID), leaf
}

func TestClaimsPageFlow(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/claims", http.StatusOK)
	if doc.Find("form[method=post] textarea[name=list]").Length() != 1 || doc.Find("input[type=file][name=file]").Length() != 1 {
		t.Fatal("the form has no text area or file upload")
	}
	list, leaf := claimsList(t, a)
	ct, body := multipartList(t, "", list) // the file wins over an empty text area
	r := a.post(t, "/claims", ct, body, nil)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/claims/") {
		t.Fatalf("POST /claims: %d %q, want 303 to the result", r.status, r.header.Get("Location"))
	}
	result := r.header.Get("Location")
	if id := strings.TrimPrefix(result, "/claims/"); len(id) < 26 {
		t.Errorf("result id %q is too short to be unguessable", id)
	}
	doc, _ = a.page(t, result, http.StatusOK)
	count := func(code string) string { return text(doc.Find(`[data-testid="count-` + code + `"]`)) }
	if count("verified") != "0" || count("double_claimed") != "1" || count("retired_for_other") != "1" || count("not_retired") != "1" || count("not_found") != "1" {
		t.Errorf("counts: %s", text(doc.Find(`[data-testid=counts]`)))
	}
	rows := doc.Find("table.claims tbody tr")
	if rows.Length() != 4 {
		t.Fatalf("%d rows, want 4", rows.Length())
	}
	if got := rows.Eq(1).AttrOr("data-verdict", ""); got != "not_retired" {
		t.Errorf("row 2 verdict %q", got)
	}
	if !strings.Contains(text(rows.Eq(2)), "<b>Acme</b>") || doc.Find("table.claims b").Length() != 0 {
		t.Error("the markup beneficiary is not shown as text")
	}
	if rows.Eq(0).Find(`a[href="/batches/`+leaf.ID+`"]`).Length() == 0 {
		t.Error("row 1 does not link to its batch")
	}

	// The filter works without script: a link with a query parameter.
	doc, _ = a.page(t, result+"?verdict=not_retired", http.StatusOK)
	if n := doc.Find("table.claims tbody tr").Length(); n != 1 {
		t.Errorf("filtered on not_retired: %d rows, want 1", n)
	}

	// CSV: the input columns, then the verdict's; formulas neutralised.
	c := a.get(t, result+"/results.csv")
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(c.body, utf8BOM))).ReadAll() // as spreadsheets read it
	if c.status != http.StatusOK || err != nil || len(recs) != 5 {
		t.Fatalf("CSV: %d, %v, %d records", c.status, err, len(recs))
	}
	if strings.Join(recs[0][:5], ",") != "batch,kg,beneficiary,reference,row" || recs[0][5] != "verdict" {
		t.Errorf("CSV header %q", recs[0])
	}
	if recs[2][3] != `'=HYPERLINK("x")` || recs[2][5] != "not_retired" {
		t.Errorf("CSV row 2 %q: formula not neutralised or verdict wrong", recs[2])
	}
	if recs[1][0] != leaf.ID || recs[1][5] != "double_claimed" {
		t.Errorf("CSV row 1 %q", recs[1])
	}

	// JSON: kg as integers.
	j := a.get(t, result+"/results.json")
	var ans struct {
		Rows []struct {
			Verdict string      `json:"verdict"`
			FoundKg json.Number `json:"found_kg"`
		} `json:"rows"`
	}
	dec := json.NewDecoder(strings.NewReader(j.body))
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil || len(ans.Rows) != 4 {
		t.Fatalf("JSON: %v %s", err, head(j.body, 300))
	}
	if ans.Rows[0].FoundKg.String() != fmt.Sprint(leaf.Size.CreditKgs) {
		t.Errorf("found_kg %s, want %d", ans.Rows[0].FoundKg, leaf.Size.CreditKgs)
	}
}

func TestClaimsResultBelongsToItsUser(t *testing.T) {
	a := newApp(t, appOptions{auth: &AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies}})
	req, _ := http.NewRequest(http.MethodPost, a.url+"/claims", strings.NewReader(url.Values{"list": {a.fx.HostileOrgBatch}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Email", "ann@example.com")
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if r := a.getAs(t, loc, "ann@example.com"); r.status != http.StatusOK {
		t.Errorf("the owner gets %d", r.status)
	}
	for _, path := range []string{loc, loc + "/results.csv", loc + "/results.json", "/api/v1/claims/" + strings.TrimPrefix(loc, "/claims/")} {
		if r := a.getAs(t, path, "bob@example.com"); r.status != http.StatusNotFound {
			t.Errorf("another user gets %s: %d, want 404", path, r.status)
		}
	}
}

func TestClaimsRefusals(t *testing.T) {
	a := newApp(t, appOptions{claims: ClaimsConfig{MaxBytes: 2048, MaxRows: 3}})
	big := strings.Repeat(a.fx.HostileOrgBatch+"\n", 200)
	ct, body := multipartList(t, big, "")
	r := a.post(t, "/claims", ct, body, nil)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "2,048 bytes") {
		t.Errorf("a list past the byte limit: %d, want 413 naming 2,048 bytes", r.status)
	}
	r = a.post(t, "/api/v1/claims", "text/csv", []byte(strings.Repeat(a.fx.HostileOrgBatch+"\n", 4)), nil)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "at most 3 rows") {
		t.Errorf("4 rows over the API with a limit of 3: %d %s", r.status, r.body)
	}
	ct, body = multipartList(t, "", "PK\x03\x04\x00\x00binary\x00")
	if r = a.post(t, "/claims", ct, body, nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "not UTF-8 text") {
		t.Errorf("a binary file posing as CSV: %d", r.status)
	}
	ct, body = multipartList(t, " \n", "")
	if r = a.post(t, "/claims", ct, body, nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "The list is empty") {
		t.Errorf("an empty list: %d", r.status)
	}
	ct, body = multipartList(t, a.fx.HostileOrgBatch, "")
	for _, h := range []http.Header{{"Sec-Fetch-Site": {"cross-site"}}, {"Origin": {"https://evil.example"}}} {
		if r = a.post(t, "/claims", ct, body, h); r.status != http.StatusForbidden {
			t.Errorf("cross-origin POST /claims with %v: %d, want 403", h, r.status)
		}
		if r = a.post(t, "/api/v1/claims", "application/json", []byte(`["`+a.fx.HostileOrgBatch+`"]`), h); r.status != http.StatusForbidden {
			t.Errorf("cross-origin POST /api/v1/claims with %v: %d, want 403", h, r.status)
		}
	}
	if r = a.post(t, "/claims", ct, body, http.Header{"Sec-Fetch-Site": {"same-origin"}}); r.status != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d, want 303", r.status)
	}
}

func TestClaimsAPI(t *testing.T) {
	a := newApp(t, appOptions{})
	big, _ := a.reg.Batch(a.fx.BigKgRoot)
	body := fmt.Sprintf(`[{"batch": %q, "kg": %d, "reference": "A-1"}, %q]`, big.ID, big.Size.CreditKgs, a.fx.HostileOrgBatch)
	r := a.post(t, "/api/v1/claims", "application/json", []byte(body), nil)
	if r.status != http.StatusOK {
		t.Fatalf("POST /api/v1/claims: %d %s", r.status, head(r.body, 300))
	}
	var ans struct {
		Status string         `json:"status"`
		Counts map[string]int `json:"counts"`
		Rows   []struct {
			Verdict string      `json:"verdict"`
			FoundKg json.Number `json:"found_kg"`
			Claim   struct {
				Kg    json.Number `json:"kg"`
				Cells []string    `json:"cells"`
			} `json:"claim"`
		} `json:"rows"`
	}
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(big.Size.CreditKgs) // past 2^53: exact only as an integer
	if ans.Status != "done" || len(ans.Rows) != 2 || ans.Rows[0].FoundKg.String() != want || ans.Rows[0].Claim.Kg.String() != want {
		t.Errorf("answer %s", head(r.body, 600))
	}
	if ans.Rows[0].Verdict != "not_retired" || ans.Counts["not_retired"] != 2 {
		t.Errorf("verdicts %+v counts %v", ans.Rows, ans.Counts)
	}

	csvBody := "serial\n" + a.fx.HostileOrgBatch + "\n"
	if r := a.post(t, "/api/v1/claims", "text/csv", []byte(csvBody), nil); r.status != http.StatusOK || !strings.Contains(r.body, `"not_retired"`) {
		t.Errorf("CSV body: %d %s", r.status, head(r.body, 300))
	}
}

// A list not checked within the API's wait answers 202 with progress and where to ask again.
func TestClaimsAPIAnswers202ThenTheVerdicts(t *testing.T) {
	gate := make(chan struct{})
	a := newApp(t, appOptions{fragmentWait: 50 * time.Millisecond, progressWait: 10 * time.Millisecond, upstream: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-gate // the registry answers once the test has seen the 202
			h.ServeHTTP(w, r)
		})
	}})
	r := a.post(t, "/api/v1/claims", "application/json", []byte(`["`+a.fx.HostileOrgBatch+`"]`), nil)
	var pending struct {
		Status    string `json:"status"`
		Checked   int64  `json:"checked"`
		Total     int    `json:"total"`
		ResultURL string `json:"result_url"`
	}
	if err := json.Unmarshal([]byte(r.body), &pending); err != nil || r.status != http.StatusAccepted || pending.Status != "pending" ||
		pending.Total != 1 || pending.Checked != 0 || r.header.Get("Location") != pending.ResultURL || r.header.Get("Retry-After") == "" {
		t.Fatalf("slow list: %d %s, want 202 pending with Location", r.status, r.body)
	}
	page := strings.Replace(pending.ResultURL, "/api/v1/claims/", "/claims/", 1)
	doc, _ := a.page(t, page, http.StatusAccepted)
	if text(doc.Find(`[data-testid=checked]`)) != "0" || doc.Find(`meta[http-equiv=refresh]`).Length() != 1 {
		t.Errorf("progress page: %s", text(doc.Find("main")))
	}
	close(gate)
	for {
		r = a.get(t, pending.ResultURL)
		if r.status != http.StatusAccepted {
			break
		}
	}
	if r.status != http.StatusOK || !strings.Contains(r.body, `"not_retired"`) {
		t.Errorf("after the check: %d %s", r.status, head(r.body, 300))
	}
}
