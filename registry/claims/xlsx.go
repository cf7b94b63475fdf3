package claims

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// zipMagic starts every XLSX workbook (a zip archive).
const zipMagic = "PK\x03\x04"

// LooksLikeXLSX reports whether data is a zip archive that could be an XLSX workbook: what an
// upload is read as, whatever its name says. A file that only starts like one is read as CSV
// (and refused as not text).
func LooksLikeXLSX(data []byte) bool {
	if !bytes.HasPrefix(data, []byte(zipMagic)) {
		return false
	}
	_, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	return err == nil
}

// ParseXLSX reads a list from the first sheet of an XLSX workbook, each row's cells as the
// spreadsheet shows them (dates in Excel's default short format as YYYY-MM-DD), then as
// FromRecords does: a header by name, or identifiers by their shape.
//
// Before anything is unpacked, the sizes the archive declares are added up against
// lim.MaxUnzipped (archive/zip refuses a part that unpacks past its declared size, so the
// sum bounds what is read); the sheet is read a row at a time and stops past lim.MaxCells.
//
// Errors: ErrTooLarge (past MaxBytes, MaxUnzipped, MaxCells or MaxRows; the text names the
// limit) and ErrNotText (not a workbook that can be read).
func ParseXLSX(r io.Reader, lim Limits) (*List, error) {
	lim = lim.withDefaults()
	data, err := readAtMost(r, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: it is not a readable XLSX workbook; save it again as .xlsx or as CSV UTF-8", ErrNotText)
	}
	var unzipped uint64
	for _, f := range zr.File {
		unzipped += f.UncompressedSize64
		if unzipped > uint64(lim.MaxUnzipped) {
			return nil, fmt.Errorf("%w: a workbook may unpack to at most %s bytes (%s); this one unpacks to more. Save its first sheet as CSV, or split it",
				ErrTooLarge, groupDigits(lim.MaxUnzipped), humanBytes(lim.MaxUnzipped))
		}
	}
	// UnzipXMLSizeLimit as large as the whole: a sheet within the limit is read in memory,
	// never spilled to a temporary file.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: lim.MaxUnzipped,
		UnzipXMLSizeLimit: lim.MaxUnzipped, ShortDatePattern: "yyyy-mm-dd"})
	if err != nil {
		return nil, fmt.Errorf("%w: it is not a readable XLSX workbook (encrypted, or another format with an .xlsx name?); save it again as .xlsx or as CSV UTF-8", ErrNotText)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return FromRecords(nil, "\t", lim)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("%w: its first sheet cannot be read", ErrNotText)
	}
	defer rows.Close()
	var records [][]string
	cells := 0
	for rows.Next() {
		rec, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("%w: its first sheet cannot be read", ErrNotText)
		}
		cells += len(rec)
		if cells > lim.MaxCells {
			return nil, fmt.Errorf("%w: a workbook's first sheet may have at most %s cells; keep only the columns of the claims, or split it",
				ErrTooLarge, groupDigits(int64(lim.MaxCells)))
		}
		for i, c := range rec {
			rec[i] = strings.TrimSpace(c)
		}
		if blank(rec) {
			continue
		}
		records = append(records, rec)
		if len(records) > lim.MaxRows+1 { // +1: the first may be a header
			break
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("%w: its first sheet cannot be read", ErrNotText)
	}
	return FromRecords(records, "\t", lim)
}
