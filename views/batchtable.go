package views

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// BatchTable is a compact table of credit batches, sortable by any column without JavaScript:
// each column heading links to the page with ?sort=<column> (or -<column> for descending).
type BatchTable struct {
	Rows    []BatchRowView
	Columns []SortColumn
	Sort    string // the column sorted by, as in the query ("kg", "-kg"); "" is the registry's order
}

// SortColumn is one heading of a BatchTable.
type SortColumn struct {
	Key, Label string
	URL        string // the page sorted by this column (the other way round when it already is)
	Aria       string // "ascending", "descending" or "none", for aria-sort
	Num        bool   // a numeric column, right-aligned
}

// BatchRowView is one row of a BatchTable.
type BatchRowView struct {
	ID, URL     string
	Serial      string
	Kg          int64 // for sorting; Size is what is shown
	Size        Amount
	Status      StatusView
	Depth       int // splits below the root; -1 when not known
	RootID      string
	RootURL     string
	IssuanceID  string
	IssuanceURL string
	ProjectID   string
	ProjectURL  string
	// Path, when set, is the row's path from its root, shown on demand (details/summary).
	Path       *PathView
	PathHidden int
	Problems   []ProblemView
	// Incomplete is set when the row's path stops short of a root (its problems say why).
	Incomplete bool
}

// DepthText is the depth in words, "—" when not known.
func (r BatchRowView) DepthText() string {
	if r.Depth < 0 {
		return "—"
	}
	return FormatCount(r.Depth)
}

var batchColumns = []SortColumn{
	{Key: "batch", Label: "Batch"}, {Key: "serial", Label: "Serial number"}, {Key: "kg", Label: "kg", Num: true},
	{Key: "status", Label: "Status"}, {Key: "depth", Label: "Depth", Num: true}, {Key: "root", Label: "Root"},
	{Key: "issuance", Label: "Issuance"},
}

// batchRowView is one batch as a row; rb, when set, gives its path and root.
func batchRowView(b registry.CreditBatch, rb *lineage.RetiredBatch) BatchRowView {
	r := BatchRowView{ID: b.ID, URL: BatchURL(b.ID), Serial: b.SerialNumber, Kg: b.Size.CreditKgs, Size: amount(b.Size.CreditKgs),
		Status: statusView(b.Status), Depth: -1, IssuanceID: b.IssuanceID, IssuanceURL: issuanceHref(b.IssuanceID),
		ProjectID: b.ProjectID, ProjectURL: projectHref(b.ProjectID)}
	if registry.ValidateID(registry.PrefixCreditBatch, b.ID) != nil {
		r.URL = ""
	}
	if b.ParentID == "" {
		r.Depth, r.RootID, r.RootURL = 0, r.ID, r.URL
	}
	if rb != nil && rb.Complete && len(rb.Path) > 0 {
		r.Depth = rb.Depth()
		r.RootID = rb.Path[0].ID
		r.RootURL = BatchURL(r.RootID)
	}
	return r
}

// NewBatchTable sorts rows by sort ("kg", "-depth"; unknown or "" keeps their order) and makes
// the headings link to page (a path without query) sorted by each column.
func NewBatchTable(rows []BatchRowView, page, sort string) BatchTable {
	key, desc := strings.CutPrefix(sort, "-")
	less := map[string]func(a, b BatchRowView) int{
		"batch":    func(a, b BatchRowView) int { return cmp.Compare(a.ID, b.ID) },
		"serial":   func(a, b BatchRowView) int { return compareSerials(a.Serial, b.Serial) },
		"kg":       func(a, b BatchRowView) int { return cmp.Compare(a.Kg, b.Kg) },
		"status":   func(a, b BatchRowView) int { return cmp.Compare(a.Status.Label, b.Status.Label) },
		"depth":    func(a, b BatchRowView) int { return cmp.Compare(a.Depth, b.Depth) },
		"root":     func(a, b BatchRowView) int { return cmp.Compare(a.RootID, b.RootID) },
		"issuance": func(a, b BatchRowView) int { return cmp.Compare(a.IssuanceID, b.IssuanceID) },
	}[key]
	t := BatchTable{Rows: rows}
	if less != nil {
		t.Sort = sort
		t.Rows = slices.Clone(rows)
		slices.SortStableFunc(t.Rows, func(a, b BatchRowView) int {
			c := less(a, b)
			if desc {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(a.ID, b.ID))
		})
	}
	for _, c := range batchColumns {
		next := c.Key
		c.Aria = "none"
		switch {
		case less != nil && key == c.Key && !desc:
			c.Aria, next = "ascending", "-"+c.Key
		case less != nil && key == c.Key:
			c.Aria = "descending"
		}
		c.URL = page + "?sort=" + url.QueryEscape(next)
		t.Columns = append(t.Columns, c)
	}
	return t
}

// compareSerials orders serial numbers by their block, then by their first unit as a number
// (so that 9999 comes before 10000); a serial that does not parse sorts after those that do,
// as text.
func compareSerials(a, b string) int {
	sa, ea := registry.ParseSerial(a)
	sb, eb := registry.ParseSerial(b)
	switch {
	case ea == nil && eb == nil:
		ka, kb := sa, sb
		ka.First, ka.Last, kb.First, kb.Last = 0, 0, 0, 0
		return cmp.Or(cmp.Compare(ka.String(), kb.String()), cmp.Compare(sa.First, sb.First), cmp.Compare(sa.Last, sb.Last))
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return cmp.Compare(a, b)
}
