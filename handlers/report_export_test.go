package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// readCSV checks a CSV download's headers and parses it, keyed by column name.
func readCSV(t *testing.T, r response, file string) (header []string, rows []map[string]string) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		r.header.Get("Content-Disposition") != `attachment; filename="`+file+`"` {
		t.Fatalf("status %d, %q, %q: %s", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), head(r.body, 300))
	}
	body, ok := strings.CutPrefix(r.body, "\ufeff")
	if !ok {
		t.Error("no UTF-8 byte order mark")
	}
	all, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return all[0], rows
}

// formulaUpstream puts spreadsheet formulas into what the demo registry answers: a retirement
// purpose and every batch's country of issue.
func formulaUpstream(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		body = bytes.ReplaceAll(body, []byte(`"purposes":[`), []byte(`"purposes":["=HYPERLINK(\"http://evil\")",`))
		body = bytes.ReplaceAll(body, []byte(`"country_of_issue":"`), []byte(`"country_of_issue":"+`))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func guarded(t *testing.T, where string, rows []map[string]string) {
	t.Helper()
	for _, row := range rows {
		for col, v := range row {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				t.Errorf("%s: column %s holds a live formula %q", where, col, v)
			}
		}
	}
}

// The issuance and retirement pages link their JSON and CSV; the CSVs hold a row per root or
// per batch, every cell guarded against formulas.
func TestReportPagesLinkTheirExports(t *testing.T) {
	a := newApp(t, appOptions{upstream: formulaUpstream})
	ctx := context.Background()

	doc, _ := a.page(t, views.IssuanceURL(a.fx.Issuance), http.StatusOK)
	jsonURL, _ := doc.Find(`[data-testid=export-json]`).Attr("href")
	csvURL, _ := doc.Find(`[data-testid=export-csv]`).Attr("href")
	if r := a.get(t, jsonURL); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("issuance JSON link %q: %d", jsonURL, r.status)
	}
	header, rows := readCSV(t, a.get(t, csvURL), "issuance-"+a.fx.Issuance+".csv")
	if strings.Join(header, ",") != strings.Join(lineage.IssuanceCSVHeader, ",") {
		t.Errorf("issuance CSV header %v", header)
	}
	roots, err := a.client.IssuanceCreditBatches(ctx, a.fx.Issuance)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, b := range roots.SupplierCreditBatches {
		want[b.ID] = "supplier"
	}
	for _, b := range roots.BufferPoolCreditBatches {
		want[b.ID] = "buffer_pool"
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, the issuance has %d roots", len(rows), len(want))
	}
	for _, row := range rows {
		if want[row["root_id"]] != row["pool"] || row["issuance_id"] != a.fx.Issuance {
			t.Errorf("row %v: not a %s root of the issuance", row, row["pool"])
		}
	}
	guarded(t, "issuance CSV", rows)

	ret, err := a.client.Retirement(ctx, a.fx.Retirement)
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.client.RetirementCreditBatches(ctx, a.fx.Retirement)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ = a.page(t, views.RetirementURL(a.fx.Retirement), http.StatusOK)
	jsonURL, _ = doc.Find(`[data-testid=export-json]`).Attr("href")
	csvURL, _ = doc.Find(`[data-testid=export-csv]`).Attr("href")
	if r := a.get(t, jsonURL); r.status != http.StatusOK || !strings.Contains(r.body, `"retirement"`) {
		t.Errorf("retirement JSON link %q: %d", jsonURL, r.status)
	}
	_, rows = readCSV(t, a.get(t, csvURL), "retirement-"+a.fx.Retirement+".csv")
	if len(rows) != len(list.Nodes) {
		t.Fatalf("%d rows, the retirement has %d batches", len(rows), len(list.Nodes))
	}
	for i, b := range list.Nodes {
		row := rows[i]
		if row["batch_id"] != b.ID || row["credit_kgs"] != strconv.FormatInt(b.Size.CreditKgs, 10) ||
			row["beneficiary_id"] != ret.Beneficiary.ID || row["purposes"] != "'"+strings.Join(ret.Purposes, "; ") {
			t.Errorf("row %d: %v, want batch %s of %d kg for %s, purposes %v", i, row, b.ID, b.Size.CreditKgs, ret.Beneficiary.ID, ret.Purposes)
		}
	}
	guarded(t, "retirement CSV", rows)
}

// The lineage CSV carries ids beside names, the issue date, the country and the retirement's
// purposes.
func TestLineageCSVCarriesIDsAndPurposes(t *testing.T) {
	a := newApp(t, appOptions{upstream: formulaUpstream})
	ctx := context.Background()
	r := a.get(t, views.LineageCSVURL(a.fx.WideLeafDeep))
	_, rows := readCSV(t, r, "lineage-"+a.fx.WideLeafDeep+".csv")
	guarded(t, "lineage CSV", rows)
	purposes := map[string]string{}
	retired := 0
	for _, row := range rows {
		b, ok := a.reg.Batch(row["id"])
		if !ok {
			continue
		}
		if row["owner_id"] != b.Owner.ID || row["issuance_id"] != b.IssuanceID || row["project_id"] != b.ProjectID ||
			row["supplier_id"] != b.SupplierID || row["delivery_id"] != b.DeliveryID || row["issued_at"] == "" ||
			row["country_of_issue"] != "'+"+b.CountryOfIssue {
			t.Fatalf("row %v does not carry the ids of %s", row, b.ID)
		}
		if b.Status != registry.StatusRetired {
			continue
		}
		retired++
		if row["beneficiary_id"] != b.Beneficiary.ID {
			t.Errorf("%s: beneficiary_id %q, want %s", b.ID, row["beneficiary_id"], b.Beneficiary.ID)
		}
		want, ok := purposes[b.RetirementID]
		if !ok {
			ret, err := a.client.Retirement(ctx, b.RetirementID)
			if err != nil {
				t.Fatal(err)
			}
			want = "'" + strings.Join(ret.Purposes, "; ")
			purposes[b.RetirementID] = want
		}
		if row["retirement_purposes"] != want {
			t.Errorf("%s: purposes %q, want %q", b.ID, row["retirement_purposes"], want)
		}
	}
	if retired == 0 || len(purposes) < 2 {
		t.Errorf("%d retired rows of %d retirements: the fixture has several", retired, len(purposes))
	}
}
