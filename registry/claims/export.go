package claims

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/lineage-explorer/explorer/registry/lineage"
)

// WriteCSV writes the results as CSV (/claims/{id}/results.csv): the input's columns (named by its header, else
// input_1…), then row, verdict, codes, findings, found_kg, batches, tree and retirements.
func WriteCSV(w io.Writer, l *List, rep *Report) error {
	cw := csv.NewWriter(w)
	cols := l.Columns()
	head := make([]string, 0, cols+8)
	for i := range cols {
		if i < len(l.Header) {
			head = append(head, l.Header[i])
		} else {
			head = append(head, "input_"+strconv.Itoa(i+1))
		}
	}
	head = append(head, "row", "verdict", "codes", "findings", "found_kg", "batches", "tree_of", "retirements")
	if err := cw.Write(guardCells(head)); err != nil {
		return err
	}
	for _, r := range rep.Results {
		rec := make([]string, cols, cols+8)
		copy(rec, r.Claim.Cells)
		var codes, texts []string
		for _, f := range r.Findings {
			codes = append(codes, string(f.Code))
			texts = append(texts, f.Text)
		}
		var ids []string
		for _, b := range r.Batches {
			ids = append(ids, b.ID)
		}
		found := ""
		if r.TreeOf != "" || r.FoundKg != 0 {
			found = strconv.FormatInt(r.FoundKg, 10)
		}
		rec = append(rec, strconv.Itoa(r.Claim.Row), string(r.Verdict), strings.Join(codes, " "), strings.Join(texts, "; "),
			found, strings.Join(ids, " "), r.TreeOf, strings.Join(r.Retirements, " "))
		if err := cw.Write(guardCells(rec)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// guardCells defuses spreadsheet formula injection in every cell (the user's own cells and the
// registry's names included) with the lineage CSV's own guard.
func guardCells(rec []string) []string {
	for i, v := range rec {
		rec[i] = lineage.CSVCell(v)
	}
	return rec
}
