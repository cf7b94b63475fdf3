package lineage

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
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
	// Partial is true when the registry failed to send some batches however often the walk
	// asked (FetchFailed of them, marked "fetch_failed"): ask again later for the whole tree.
	Partial     bool `json:"partial"`
	FetchFailed int  `json:"fetch_failed"`
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

// ExportTotals are Tree.Totals in kg: the unsplit batches by status (active, retired, any
// other status as other_status_kg, whose statuses other_statuses lists as sent), by owner and
// by beneficiary.
type ExportTotals struct {
	ActiveKg      int64                    `json:"active_kg"`
	RetiredKg     int64                    `json:"retired_kg"`
	OtherKg       int64                    `json:"other_status_kg"`
	OtherStatuses []registry.Status        `json:"other_statuses"`
	ByHolder      []ExportHolderTotal      `json:"by_holder"`
	ByBeneficiary []ExportBeneficiaryTotal `json:"by_beneficiary"`
}

// ExportHolderTotal is one owner's kg: held (active), retired by it (for whichever
// beneficiary), and in a status the explorer does not know.
type ExportHolderTotal struct {
	Holder    registry.Organisation `json:"holder"`
	ActiveKg  int64                 `json:"active_kg"`
	RetiredKg int64                 `json:"retired_kg"`
	OtherKg   int64                 `json:"other_status_kg"`
}

// ExportBeneficiaryTotal is the kg retired for one beneficiary; beneficiary is null for
// retired batches that name none.
type ExportBeneficiaryTotal struct {
	Beneficiary *registry.Organisation `json:"beneficiary"`
	RetiredKg   int64                  `json:"retired_kg"`
}

// ExportSummary are the audit's figures (see AuditSummary).
type ExportSummary struct {
	Batches     int    `json:"batches"`
	Splits      int    `json:"splits"`
	RootKg      int64  `json:"root_kg"`
	Conserved   bool   `json:"conserved"`    // every split adds up, in kg and in units, and the leaves (every status) hold root_kg exactly
	ConservedKg *int64 `json:"conserved_kg"` // root_kg when conserved, else null; the leaves' actual sum is totals.active_kg + totals.retired_kg + totals.other_status_kg
	Problems    int    `json:"problems"`
	Clean       bool   `json:"clean"`
}

// Export converts the tree for the JSON export.
func (t *Tree) Export() *LineageExport {
	out := &LineageExport{Problems: t.Problems, Truncated: t.Truncated, Nodes: make([]ExportNode, 0, t.Len()),
		Partial: t.Partial(), FetchFailed: t.FetchFailed}
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
	out.Totals = ExportTotals{ActiveKg: tot.ActiveKg, RetiredKg: tot.RetiredKg, OtherKg: tot.OtherKg,
		OtherStatuses: append([]registry.Status{}, tot.OtherStatuses...),
		ByHolder:      []ExportHolderTotal{}, ByBeneficiary: []ExportBeneficiaryTotal{}}
	for _, h := range tot.ByHolder {
		out.Totals.ByHolder = append(out.Totals.ByHolder, ExportHolderTotal(h))
	}
	for _, b := range tot.ByBeneficiary {
		out.Totals.ByBeneficiary = append(out.Totals.ByBeneficiary, ExportBeneficiaryTotal(b))
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

// CSVHeader is the first row of the CSV export. counted_as says which total a row's kg are
// in: active, retired, other_status (a status the explorer does not know), or "" (a split,
// counted through its halves, or a missing batch); problems lists what the walk and the audit
// found at that batch, "; " between them. The ids, dates, country and purposes come after
// those, so that a sheet reading the first columns by position still works.
var CSVHeader = []string{"depth", "id", "parent_id", "serial_number", "status", "credit_kgs", "credits",
	"holder", "beneficiary", "retirement_id", "retired_at", "missing", "counted_as", "problems",
	"owner_id", "beneficiary_id", "issuance_id", "project_id", "supplier_id", "delivery_id", "issued_at",
	"country_of_issue", "retirement_purposes"}

// PurposesNotFetched is the retirement_purposes cell of a batch whose retirement record could
// not be fetched: the purposes are unknown, which an empty cell would not say.
const PurposesNotFetched = "(not fetched)"

// WriteCSV streams the tree as CSV without retirement purposes; see WriteCSVWithPurposes.
func WriteCSV(w io.Writer, t *Tree) error { return WriteCSVWithPurposes(w, t, nil) }

// WriteCSVWithPurposes streams the tree as CSV (/batches/{id}/lineage.csv): the header, then
// one row per node in pre-order, flushed as it goes. kg are integers. Every cell passes the
// formula guard (see CSVCell), whatever its column: ids, statuses and problem details carry
// upstream text as much as names do. purposes maps a retirement id to its purposes
// (RetirementPurposes), joined with "; " in the cell; a retired batch whose retirement is not
// in a non-nil map gets PurposesNotFetched. It returns the first write error.
func WriteCSVWithPurposes(w io.Writer, t *Tree, purposes map[string][]string) error {
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
			row[3] = b.SerialNumber
			row[4] = string(b.Status)
			row[5] = strconv.FormatInt(b.Size.CreditKgs, 10)
			row[6] = registry.FormatCredits(b.Size.CreditKgs)
			row[7] = b.Owner.Name
			if b.Beneficiary != nil {
				row[8] = b.Beneficiary.Name
			}
			row[9] = b.RetirementID
			row[10] = formatTime(b.RetiredAt)
			row[12] = countedAs(b.Status)
			row[14] = b.Owner.ID
			if b.Beneficiary != nil {
				row[15] = b.Beneficiary.ID
			}
			row[16], row[17], row[18], row[19] = b.IssuanceID, b.ProjectID, b.SupplierID, b.DeliveryID
			row[20] = formatTime(b.IssuedAt)
			row[21] = b.CountryOfIssue
			if b.RetirementID != "" && purposes != nil {
				if ps, ok := purposes[b.RetirementID]; ok {
					row[22] = strings.Join(ps, "; ")
				} else {
					row[22] = PurposesNotFetched
				}
			}
		}
		if t.Nodes[n.ID] == n {
			var ps []string
			for _, p := range t.ProblemsAt(n.ID) {
				ps = append(ps, p.Detail)
			}
			row[13] = strings.Join(ps, "; ")
		}
		for i := range row {
			row[i] = CSVCell(row[i])
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

// countedAs is the total an unsplit batch's kg are in (see CSVHeader).
func countedAs(s registry.Status) string {
	switch s {
	case registry.StatusSplit:
		return ""
	case registry.StatusActive, registry.StatusRetired:
		return string(s)
	}
	return "other_status"
}

// CSVCell defuses spreadsheet formula injection in a cell bound for a CSV file (OWASP's
// advice: a leading apostrophe makes the cell plain text). A cell is guarded when it starts
// with a tab, carriage return or line feed, or when, past leading spaces (which spreadsheets
// skip), it starts with = + - @ or their full-width forms (which some convert). Every CSV the
// explorer writes passes every cell through it.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsRune("\t\r\n", rune(s[0])) {
		return "'" + s
	}
	rest := strings.TrimLeft(s, " \u00a0\u3000")
	for _, p := range []string{"=", "+", "-", "@", "＝", "＋", "－", "＠"} {
		if strings.HasPrefix(rest, p) {
			return "'" + s
		}
	}
	return s
}
