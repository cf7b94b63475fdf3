package claims

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// workbook writes an XLSX workbook whose first sheet holds rows (a time.Time cell gets
// Excel's default short date format, 14), and a second sheet that must be ignored.
func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				_ = f.SetCellStyle("Sheet1", cell, cell, dateStyle)
			}
		}
	}
	if _, err := f.NewSheet("Other"); err != nil {
		t.Fatal(err)
	}
	_ = f.SetCellValue("Other", "A1", batchA)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseXLSX(t *testing.T) {
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	data := workbook(t, [][]any{
		{"Serial Number", "kg", "Beneficiary", "retired_at", "Reference"},
		{serialA, 12446, "Acme, Inc.", day, "=HYPERLINK(\"x\")"},
		{},
		{batchA, "9007199254740993", "קרן הגליל", "", "PO-2"}, // kg past 2^53, kept as text by the sheet
		{retA, 1.5, "", "03/04/2025", "PO-3"},
	})
	if !LooksLikeXLSX(data) {
		t.Fatal("a workbook is not recognised")
	}
	l, err := ParseXLSX(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Header == nil || len(l.Claims) != 3 {
		t.Fatalf("header %q, %d claims (%+v): want a header and 3 claims, the blank row and the second sheet skipped", l.Header, len(l.Claims), l.Claims)
	}
	c := l.Claims[0]
	if c.Kind != KindSerial || c.ID != serialA || c.Kg != 12446 || c.Beneficiary != "Acme, Inc." || !c.Date.Equal(day) || len(c.Malformed) > 0 {
		t.Errorf("row 1: %+v", c)
	}
	if c.Cells[4] != `=HYPERLINK("x")` {
		t.Errorf("row 1's reference %q is not echoed as given", c.Cells[4])
	}
	if c := l.Claims[1]; c.Kind != KindBatch || c.Kg != 9007199254740993 || c.Beneficiary != "קרן הגליל" {
		t.Errorf("row 2: %+v", c)
	}
	if c := l.Claims[2]; c.Kind != KindRetirement || len(c.Malformed) == 0 {
		t.Errorf("row 3 (1.5 kg, a date of unknown order): %+v, want malformed", c)
	}
}

func TestParseXLSXLimits(t *testing.T) {
	var rows [][]any
	rows = append(rows, []any{"serial"})
	for i := range 5001 {
		rows = append(rows, []any{fmt.Sprintf("ISO-1-BSTORE-GBR-F5X7-2024-%d-%d", i*10, i*10+10)})
	}
	big := workbook(t, rows)
	if _, err := ParseXLSX(bytes.NewReader(big), Limits{}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "5,000 rows") {
		t.Errorf("5,001 rows: %v", err)
	}
	if _, err := ParseXLSX(bytes.NewReader(big), Limits{MaxCells: 1000}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1,000 cells") {
		t.Errorf("past the cell limit: %v", err)
	}
	if _, err := ParseXLSX(bytes.NewReader(big), Limits{MaxUnzipped: 64 << 10}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "unpack to at most 65,536 bytes") {
		t.Errorf("past the unpacked size: %v", err)
	}
	if _, err := ParseXLSX(bytes.NewReader(big), Limits{MaxBytes: 4096}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "4,096 bytes") {
		t.Errorf("past the byte limit: %v", err)
	}

	// A bomb: 64 MiB of zeros deflate to about 64 KiB. Its declared size is refused before
	// anything is unpacked.
	zeros := make([]byte, 64<<20)
	honest := zipOf(t, "xl/worksheets/sheet1.xml", zeros, uint64(len(zeros)))
	if len(honest) > 1<<20 {
		t.Fatalf("the bomb is %d bytes", len(honest))
	}
	if _, err := ParseXLSX(bytes.NewReader(honest), Limits{}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "unpack") {
		t.Errorf("a zip bomb: %v, want ErrTooLarge naming the unpacked limit", err)
	}
	// The same bomb declaring 100 bytes: archive/zip stops it past what it declared.
	lying := zipOf(t, "xl/worksheets/sheet1.xml", zeros, 100)
	if _, err := ParseXLSX(bytes.NewReader(lying), Limits{}); !errors.Is(err, ErrNotText) {
		t.Errorf("a zip lying about its size: %v, want ErrNotText", err)
	}

	for name, data := range map[string][]byte{
		"a zip that is no workbook": zipOf(t, "notes.txt", []byte("hello"), 5),
		"a truncated zip":           big[:len(big)/2],
		"text":                      []byte(serialA + "\n"),
	} {
		if _, err := ParseXLSX(bytes.NewReader(data), Limits{}); !errors.Is(err, ErrNotText) {
			t.Errorf("%s: %v, want ErrNotText", name, err)
		}
	}
	if LooksLikeXLSX([]byte("PK\x03\x04\x00\x00binary\x00")) {
		t.Error("a file that only starts like a zip is taken for a workbook")
	}
}

// zipOf is a zip archive of one deflated part whose header declares size as its unpacked size.
func zipOf(t *testing.T, name string, content []byte, size uint64) []byte {
	t.Helper()
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	_, _ = fw.Write(content)
	_ = fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(deflated.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
