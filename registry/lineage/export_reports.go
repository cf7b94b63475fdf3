package lineage

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"sync"

	gocache "github.com/patrickmn/go-cache"
	"golang.org/x/sync/errgroup"

	"github.com/lineage-explorer/explorer/registry"
)

// RetirementIDs are the well-formed retirement ids of the tree's batches, in pre-order, once each.
func (t *Tree) RetirementIDs() []string {
	var ids []string
	seen := map[string]bool{}
	t.Each(func(n *Node) bool {
		if b := n.Batch; b != nil && n.Missing == MissingNone && !seen[b.RetirementID] &&
			registry.ValidateID(registry.PrefixRetirement, b.RetirementID) == nil {
			seen[b.RetirementID] = true
			ids = append(ids, b.RetirementID)
		}
		return true
	})
	return ids
}

// RetirementPurposes returns the purposes of each retirement id (GET /retirements/{id}, kept
// without expiry: a retirement is final), at most four fetched at once. An id whose record
// could not be fetched is left out of the map (its first error is returned beside it); the
// error is ctx's only when ctx ended.
func (e *Explorer) RetirementPurposes(ctx context.Context, ids []string) (map[string][]string, error) {
	out := make(map[string][]string, len(ids))
	var mu sync.Mutex
	var first error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, id := range ids {
		g.Go(func() error {
			ret, err := recordOrFetch(gctx, e.reports.records, "purposes:"+id, gocache.NoExpiration, func(ctx context.Context) (*registry.Retirement, error) {
				return e.client.Retirement(ctx, id)
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return nil
			}
			out[id] = ret.Purposes
			return nil
		})
	}
	_ = g.Wait()
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, first
}

// RetirementCSVHeader is the first row of a retirement's CSV (/retirements/{id}/retirement.csv).
var RetirementCSVHeader = []string{"retirement_id", "retired_at", "owner_id", "owner", "beneficiary_id", "beneficiary",
	"purposes", "batch_id", "serial_number", "status", "credit_kgs", "credits", "depth", "root_id", "path_complete",
	"issuance_id", "project_id", "supplier_id", "country_of_issue", "problems"}

// WriteRetirementCSV writes a retirement's report as CSV: one row per batch it retired, in the
// registry's order, with the retirement's own fields repeated on each row so that rows can be
// filtered and pasted elsewhere. depth and root_id are empty when the path stops short of a
// root. Every cell is guarded against formula injection.
func WriteRetirementCSV(w io.Writer, r *RetirementReport) error {
	ret := r.Retirement
	rows := [][]string{RetirementCSVHeader}
	for _, rb := range r.Batches {
		b := rb.Batch
		depth, root := "", ""
		if rb.Complete && len(rb.Path) > 0 {
			depth, root = strconv.Itoa(rb.Depth()), rb.Path[0].ID
		}
		rows = append(rows, []string{ret.ID, formatTime(ret.RetiredAt), ret.Owner.ID, ret.Owner.Name, ret.Beneficiary.ID,
			ret.Beneficiary.Name, strings.Join(ret.Purposes, "; "), b.ID, b.SerialNumber, string(b.Status),
			strconv.FormatInt(b.Size.CreditKgs, 10), registry.FormatCredits(b.Size.CreditKgs), depth, root,
			strconv.FormatBool(rb.Complete), b.IssuanceID, b.ProjectID, b.SupplierID, b.CountryOfIssue, strconv.Itoa(len(rb.Problems))})
	}
	return writeGuardedCSV(w, rows)
}

// IssuanceCSVHeader is the first row of an issuance's CSV (/issuances/{id}/issuance.csv).
var IssuanceCSVHeader = []string{"issuance_id", "issued_at", "project_id", "supplier_id", "supplier", "pool",
	"root_id", "serial_number", "status", "credit_kgs", "credits", "active_kg", "retired_kg", "batches", "depth",
	"missing", "problems", "conserved", "error"}

// WriteIssuanceCSV writes an issuance's report as CSV: one row per root batch (supplier roots,
// then buffer-pool roots, as the report lists them) with its tree's totals. conserved is
// "true", "false" or "unknown" (batches missing). Every cell is guarded against formula
// injection.
func WriteIssuanceCSV(w io.Writer, r *IssuanceReport) error {
	iss := r.Issuance
	rows := [][]string{IssuanceCSVHeader}
	for _, root := range r.Roots {
		serial, status, kg, credits := "", "", "", ""
		if b := root.Batch; b != nil {
			serial, status = b.SerialNumber, string(b.Status)
			kg, credits = strconv.FormatInt(b.Size.CreditKgs, 10), registry.FormatCredits(b.Size.CreditKgs)
		}
		conserved := "unknown"
		if ok, known := root.Conserved(); known {
			conserved = strconv.FormatBool(ok)
		}
		rows = append(rows, []string{iss.ID, formatTime(iss.IssuedAt), iss.ProjectID, iss.Supplier.ID, iss.Supplier.Organisation.Name,
			string(root.Pool), root.ID, serial, status, kg, credits, strconv.FormatInt(root.ActiveKg, 10),
			strconv.FormatInt(root.RetiredKg, 10), strconv.Itoa(root.Batches), strconv.Itoa(root.Depth),
			strconv.Itoa(root.Missing), strconv.Itoa(root.Problems), conserved, root.Error})
	}
	return writeGuardedCSV(w, rows)
}

func writeGuardedCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i := range row {
			row[i] = CSVCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
