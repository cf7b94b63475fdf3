package handlers

import (
	"archive/zip"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxOf is a workbook whose first sheet holds rows.
func xlsxOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for r, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadFile is the claims form with only a file, named name.
func uploadFile(t *testing.T, name string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("list", "")
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

// An Excel workbook uploaded through the form or sent to the API is read from its first sheet;
// one that unpacks past the limit is refused with 413 naming it.
func TestClaimsXLSX(t *testing.T) {
	a := newApp(t, appOptions{claims: ClaimsConfig{MaxUnzipped: 1 << 20}})
	book := xlsxOf(t, [][]any{{"batch", "reference"}, {a.fx.HostileOrgBatch, "PO-1"}, {"ctb_ZZZZZZZZZZZZZZZZ", "PO-2"}})

	ct, body := uploadFile(t, "claims.xlsx", book)
	r := a.post(t, "/claims", ct, body, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /claims with a workbook: %d %s", r.status, head(r.body, 300))
	}
	doc, _ := a.page(t, r.header.Get("Location"), http.StatusOK)
	rows := doc.Find("table.claims tbody tr")
	if rows.Length() != 2 || rows.Eq(0).AttrOr("data-verdict", "") != "not_retired" || rows.Eq(1).AttrOr("data-verdict", "") != "not_found" ||
		!strings.Contains(text(rows.Eq(0)), "PO-1") {
		t.Errorf("rows of the workbook: %s", text(doc.Find("table.claims tbody")))
	}

	r = a.post(t, "/api/v1/claims", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", book, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"not_retired"`) || !strings.Contains(r.body, `"not_found"`) {
		t.Errorf("POST /api/v1/claims with a workbook: %d %s", r.status, head(r.body, 300))
	}

	// 2 MiB of one repeated byte deflate to a few KiB: refused before it is unpacked.
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	_, _ = io.Copy(w, io.LimitReader(zeroes{}, 2<<20))
	_ = zw.Close()
	ct, body = uploadFile(t, "claims.xlsx", bomb.Bytes())
	if r = a.post(t, "/claims", ct, body, nil); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "1,048,576 bytes") {
		t.Errorf("a workbook unpacking past 1 MiB: %d, want 413 naming the limit: %s", r.status, text(parseDoc(t, r.body).Find("[data-testid=claims-error]")))
	}
	if r = a.post(t, "/api/v1/claims", "application/octet-stream", bomb.Bytes(), nil); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("the same over the API: %d %s", r.status, head(r.body, 300))
	}
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
