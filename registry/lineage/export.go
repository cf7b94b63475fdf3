package lineage

import (
	"encoding/csv"
	"github.com/lineage-explorer/explorer/registry"
	"io"
	"strconv"
	"strings"
	"time"
)

// LineageExport is a lineage tree as the JSON export gives it (/api/v1/batches/{id}/lineage):
// nodes in pre-order, each with its batch or why it is missing, then the problems, totals and
// audit figures. Every kg is a JSON integer; credits are strings ("12.446") so that no consumer
// is tempted to read a size through a float.
type LineageExport struct {
	Target    string        `json:"target"`
	Root      string        `json:"root"`
	Nodes     []ExportNode  `json:"nodes"`
	Problems  []Problem     `json:"problems"`
	Totals    ExportTotals  `json:"totals"`
	Summary   ExportSummary `json:"summary"`
	Truncated int           `json:"truncated"`
}

// ExportNode is one node of a LineageExport. Batch is null when Missing is set.
type ExportNode struct {
	ID       string       `json:"id"`
	ParentID string       `json:"parent_id"` // the node above it in the tree ("" for the root)
	Depth    int          `json:"depth"`
	Link     Link         `json:"link"`
	Missing  Missing      `json:"missing,omitempty"`
	Error    string       `json:"error,omitempty"`
	Batch    *ExportBatch `json:"batch"`
}

// ExportBatch is the part of a credit batch the export carries. Times are RFC 3339 in UTC, ""
// when the registry has none, or the registry's own text when it is not a date-time (then
// listed in Unread).
type ExportBatch struct {
	SerialNumber string                 `json:"serial_number"`
	Status       registry.Status        `json:"status"`
	CreditKgs    int64                  `json:"credit_kgs"`
	Credits      string                 `json:"credits"`
	Owner        registry.Organisation  `json:"owner"`
	Beneficiary  *registry.Organisation `json:"beneficiary"`
	IssuanceID   string                 `json:"issuance_id"`
	ProjectID    string                 `json:"project_id"`
	SupplierID   string                 `json:"supplier_id"`
	DeliveryID   string                 `json:"delivery_id,omitempty"`
	RetirementID string                 `json:"retirement_id,omitempty"`
	IssuedAt     string                 `json:"issued_at"`
	RetiredAt    string                 `json:"retired_at,omitempty"`
	DeliveredAt  string                 `json:"delivered_at,omitempty"`
	// SequesteredOn is the calendar date as the registry wrote it ("2026-01-20"), never moved
	// by a time zone, or its own text when it is no date.
	SequesteredOn string `json:"sequestered_on,omitempty"`
	ParentID      string `json:"parent_id,omitempty"` // as the batch itself records it
	LeftChildID   string `json:"left_child_id,omitempty"`
	RightChildID  string `json:"right_child_id,omitempty"`
	// Unread lists the record's fields whose values could not be read (kept as sent).
	Unread []registry.UnreadField `json:"unread,omitempty"`
}

// ExportTotals are Tree.Totals in kg.
type ExportTotals struct {
	ActiveKg  int64               `json:"active_kg"`
	RetiredKg int64               `json:"retired_kg"`
	ByHolder  []ExportHolderTotal `json:"by_holder"`
}

// ExportHolderTotal is one holder's kg: active as owner, retired as beneficiary.
type ExportHolderTotal struct {
	Holder    registry.Organisation `json:"holder"`
	ActiveKg  int64                 `json:"active_kg"`
	RetiredKg int64                 `json:"retired_kg"`
}

// ExportSummary are the audit's figures (see AuditSummary).
type ExportSummary struct {
	Batches     int    `json:"batches"`
	Splits      int    `json:"splits"`
	RootKg      int64  `json:"root_kg"`
	Conserved   bool   `json:"conserved"`    // every split adds up and the leaves hold root_kg exactly
	ConservedKg *int64 `json:"conserved_kg"` // root_kg when conserved, else null; the leaves' actual sum is totals.active_kg + totals.retired_kg
	Problems    int    `json:"problems"`
	Clean       bool   `json:"clean"`
}

// Export converts the tree for the JSON export.
func (t *Tree) Export() *LineageExport {
	out := &LineageExport{Problems: t.Problems, Truncated: t.Truncated, Nodes: make([]ExportNode, 0, t.Len())}
	if out.Problems == nil {
		out.Problems = []Problem{}
	}
	if t.Target != nil {
		out.Target = t.Target.ID
	}
	if t.Root != nil {
		out.Root = t.Root.ID
	}
	t.Each(func(n *Node) bool {
		en := ExportNode{ID: n.ID, Depth: n.Depth, Link: n.Link, Missing: n.Missing, Error: n.Err}
		if n.Parent != nil {
			en.ParentID = n.Parent.ID
		}
		if n.Batch != nil && n.Missing == MissingNone {
			en.Batch = exportBatch(n.Batch)
		}
		out.Nodes = append(out.Nodes, en)
		return true
	})
	tot := t.Totals()
	out.Totals = ExportTotals{ActiveKg: tot.ActiveKg, RetiredKg: tot.RetiredKg, ByHolder: []ExportHolderTotal{}}
	for _, h := range tot.ByHolder {
		out.Totals.ByHolder = append(out.Totals.ByHolder, ExportHolderTotal(h))
	}
	s := t.Summary()
	out.Summary = ExportSummary{Batches: s.Batches, Splits: s.Splits, RootKg: s.RootKg, Conserved: s.Conserved,
		Problems: s.Problems, Clean: s.Clean()}
	if s.Conserved {
		// A 0 here would read as "0 kg conserved", not "does not add up": null says that.
		out.Summary.ConservedKg = &s.ConservedKg
	}
	return out
}

func exportBatch(b *registry.CreditBatch) *ExportBatch {
	return &ExportBatch{SerialNumber: b.SerialNumber, Status: b.Status, CreditKgs: b.Size.CreditKgs,
		Credits: registry.FormatCredits(b.Size.CreditKgs), Owner: b.Owner, Beneficiary: b.Beneficiary,
		IssuanceID: b.IssuanceID, ProjectID: b.ProjectID, SupplierID: b.SupplierID, DeliveryID: b.DeliveryID,
		RetirementID: b.RetirementID, IssuedAt: formatTime(b.IssuedAt), RetiredAt: formatTime(b.RetiredAt),
		DeliveredAt: formatTime(b.DeliveredAt), SequesteredOn: formatDay(b.SequesteredOn),
		ParentID: b.ParentID, LeftChildID: b.LeftChildID, RightChildID: b.RightChildID, Unread: b.Unread()}
}

// formatTime is an instant in RFC 3339, UTC, or the registry's own text when it is not one.
func formatTime(t registry.Timestamp) string {
	if t.Unread() {
		return t.Text()
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// formatDay is a calendar date as written, "2026-01-20", or the registry's own text when it is
// not one.
func formatDay(d registry.Date) string {
	if d.Unread() {
		return d.Text()
	}
	return d.String()
}

// CSVHeader is the first row of the CSV export.
var CSVHeader = []string{"depth", "id", "parent_id", "serial_number", "status", "credit_kgs", "credits",
	"holder", "beneficiary", "retirement_id", "retired_at", "missing"}

// WriteCSV streams the tree as CSV (/batches/{id}/lineage.csv): the header, then one row per
// node in pre-order, flushed as it goes. kg are integers; text from the upstream that a
// spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed with an apostrophe. It
// returns the first write error.
func WriteCSV(w io.Writer, t *Tree) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	var err error
	rows := 0
	t.Each(func(n *Node) bool {
		if err != nil {
			return false
		}
		row := make([]string, len(CSVHeader))
		row[0] = strconv.Itoa(n.Depth)
		row[1] = n.ID
		if n.Parent != nil {
			row[2] = n.Parent.ID
		}
		row[11] = string(n.Missing)
		if b := n.Batch; b != nil && n.Missing == MissingNone {
			row[3] = cell(b.SerialNumber)
			row[4] = string(b.Status)
			row[5] = strconv.FormatInt(b.Size.CreditKgs, 10)
			row[6] = registry.FormatCredits(b.Size.CreditKgs)
			row[7] = cell(b.Owner.Name)
			if b.Beneficiary != nil {
				row[8] = cell(b.Beneficiary.Name)
			}
			row[9] = b.RetirementID
			row[10] = cell(formatTime(b.RetiredAt)) // the registry's text when it is not a date
		}
		err = cw.Write(row)
		if rows++; rows%512 == 0 {
			cw.Flush()
			err = cw.Error()
		}
		return true
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses spreadsheet formula injection in untrusted text (OWASP's advice: a leading
// apostrophe makes the cell plain text).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
