package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is a credit batch's status as the upstream spells it: "active", "split" or "retired".
type Status string

// The statuses of a credit batch. Split and retired are final: such a batch never changes again.
const (
	StatusActive  Status = "active"
	StatusSplit   Status = "split"
	StatusRetired Status = "retired"
)

// Final reports whether a batch in this status can never change again (split or retired), which
// is what makes it safe to cache without expiry.
func (s Status) Final() bool { return s == StatusSplit || s == StatusRetired }

// Quantity is the upstream's CreditQuantity. CreditKgs is the truth (1 kg = 1 unit, may exceed
// 2^53); Credits is the upstream's decimal rendering, kept as the literal text it sent so that no
// float64 ever touches a size. Use CreditKgs for arithmetic and FormatCredits for display.
type Quantity struct {
	CreditKgs int64       `json:"credit_kgs"`
	Credits   json.Number `json:"credits,omitempty"`
}

// FormatCredits renders kg as credits with three decimals (1,000 kg = 1 credit) using integer
// arithmetic only, e.g. 12446 → "12.446", -5 → "-0.005".
func FormatCredits(kg int64) string {
	neg := kg < 0
	u := uint64(kg)
	if neg {
		u = uint64(-(kg + 1)) + 1 // |math.MinInt64| does not fit int64
	}
	s := strconv.FormatUint(u/1000, 10) + "." + fmt.Sprintf("%03d", u%1000)
	if neg {
		s = "-" + s
	}
	return s
}

// Organisation is an owner, beneficiary or supplier organisation. Name is untrusted upstream text
// (it can contain markup) and must only ever be rendered escaped.
type Organisation struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain string `json:"domain,omitempty"`
}

// CarbonRemovalData is the removal accounting attached to some batches, all in kg.
type CarbonRemovalData struct {
	GrossCarbonRemovedKg int64 `json:"gross_carbon_removed_kg"`
	NetCarbonRemovedKg   int64 `json:"net_carbon_removed_kg"`
	EmissionsKg          int64 `json:"emissions_kg"`
	CounterfactualsKg    int64 `json:"counterfactuals_kg"`
	LossesKg             int64 `json:"losses_kg"`
}

// Timestamp is an upstream date-time decoded tolerantly: RFC 3339 with or without fractional
// seconds, a missing zone read as UTC, and null or "" as the zero time.
type Timestamp struct{ time.Time }

var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", time.DateOnly}

// UnmarshalJSON accepts a JSON string in any of the layouts above, or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range timestampLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp: unrecognised date-time %q", TruncateForError(s))
}

// MarshalJSON writes RFC 3339 with the precision the value has, or null for the zero time.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// Date is a calendar date such as sequestered_on ("2026-01-20"). The upstream's older
// sequestered_at carried a date-time; Date keeps only the day of either.
type Date struct{ time.Time }

// UnmarshalJSON accepts "YYYY-MM-DD", a full date-time, null or "".
func (d *Date) UnmarshalJSON(b []byte) error {
	var ts Timestamp
	if err := ts.UnmarshalJSON(b); err != nil {
		return err
	}
	if ts.IsZero() {
		d.Time = time.Time{}
		return nil
	}
	y, m, day := ts.Date()
	d.Time = time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.Format(time.DateOnly))
}

// String is the date as "YYYY-MM-DD", or "" when unknown.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// CreditBatch is one credit batch as GET /credit_batches/{id} (and the list routes) return it.
// Nullable ids decode to "" when null; Beneficiary and CarbonRemovalData are nil when null.
// Unknown fields are ignored.
type CreditBatch struct {
	ID                string             `json:"id"`
	SerialNumber      string             `json:"serial_number"`
	Status            Status             `json:"status"`
	Size              Quantity           `json:"size"`
	IssuedAt          Timestamp          `json:"issued_at"`
	RetiredAt         Timestamp          `json:"retired_at"`
	DeliveredAt       Timestamp          `json:"delivered_at"`
	SequesteredOn     Date               `json:"sequestered_on"`
	CountryOfIssue    string             `json:"country_of_issue"`
	SupplierID        string             `json:"supplier_id"`
	ParentID          string             `json:"parent_id"`
	LeftChildID       string             `json:"left_child_id"`
	RightChildID      string             `json:"right_child_id"`
	IssuanceID        string             `json:"issuance_id"`
	DeliveryID        string             `json:"delivery_id"`
	RetirementID      string             `json:"retirement_id"`
	RemovalID         string             `json:"removal_id"`
	ProjectID         string             `json:"project_id"`
	CCPApproved       bool               `json:"ccp_approved"`
	Beneficiary       *Organisation      `json:"beneficiary"`
	Owner             Organisation       `json:"owner"`
	CarbonRemovalData *CarbonRemovalData `json:"carbon_removal_data"`
}

// UnmarshalJSON decodes tolerantly: sequestered_at (older documentation) is accepted when
// sequestered_on is absent or null.
func (b *CreditBatch) UnmarshalJSON(data []byte) error {
	type plain CreditBatch
	var aux struct {
		plain
		SequesteredAt Date `json:"sequestered_at"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*b = CreditBatch(aux.plain)
	if b.SequesteredOn.IsZero() {
		b.SequesteredOn = aux.SequesteredAt
	}
	return nil
}

// Children returns the ids of the batch's children in order (left, right), skipping null ones.
func (b *CreditBatch) Children() []string {
	var ids []string
	if b.LeftChildID != "" {
		ids = append(ids, b.LeftChildID)
	}
	if b.RightChildID != "" {
		ids = append(ids, b.RightChildID)
	}
	return ids
}

// Holder is who holds the batch's credits now: the beneficiary of a retired batch, else its owner.
func (b *CreditBatch) Holder() Organisation {
	if b.Status == StatusRetired && b.Beneficiary != nil {
		return *b.Beneficiary
	}
	return b.Owner
}

// Supplier is the upstream's Supplier (as embedded in an Issuance).
type Supplier struct {
	ID               string       `json:"id"`
	Organisation     Organisation `json:"organisation"`
	ShortDescription string       `json:"short_description,omitempty"`
	LongDescription  string       `json:"long_description,omitempty"`
}

// Issuance is one issuance as GET /issuances and GET /issuances/{id} return it. All sizes in kg.
type Issuance struct {
	ID                             string    `json:"id"`
	IssuedAt                       Timestamp `json:"issued_at"`
	Supplier                       Supplier  `json:"supplier"`
	ProjectID                      string    `json:"project_id"`
	ReportingPeriodStartAt         Date      `json:"reporting_period_start_at"`
	ReportingPeriodEndAt           Date      `json:"reporting_period_end_at"`
	SupplierCreditBatchSizeTotal   Quantity  `json:"supplier_credit_batch_size_total"`
	BufferPoolCreditBatchSizeTotal Quantity  `json:"buffer_pool_credit_batch_size_total"`
	CreditBatchSizeTotal           Quantity  `json:"credit_batch_size_total"`
}

// IssuanceCreditBatches is GET /issuances/{id}/credit_batches: the root batches the issuance
// created (as they are now, so some may be split), divided between supplier and buffer pool.
type IssuanceCreditBatches struct {
	IssuanceID                     string        `json:"issuance_id"`
	SupplierCreditBatches          []CreditBatch `json:"supplier_credit_batches"`
	SupplierCreditBatchSizeTotal   Quantity      `json:"supplier_credit_batch_size_total"`
	BufferPoolCreditBatches        []CreditBatch `json:"buffer_pool_credit_batches"`
	BufferPoolCreditBatchSizeTotal Quantity      `json:"buffer_pool_credit_batch_size_total"`
	CreditBatchSizeTotal           Quantity      `json:"credit_batch_size_total"`
}

// Retirement is GET /retirements/{id}. Notes is "" when null.
type Retirement struct {
	ID                   string       `json:"id"`
	RetiredAt            Timestamp    `json:"retired_at"`
	Purposes             []string     `json:"purposes"`
	Beneficiary          Organisation `json:"beneficiary"`
	Owner                Organisation `json:"owner"`
	CreditBatchSizeTotal Quantity     `json:"credit_batch_size_total"`
	URL                  string       `json:"url"`
	Notes                string       `json:"notes"`
}

// MaxPageSize is the most items the upstream returns in one page of a Relay list.
const MaxPageSize = 50

// PageInfo is the Relay cursor information of one page of a list.
type PageInfo struct {
	HasPreviousPage bool   `json:"has_previous_page"`
	StartCursor     string `json:"start_cursor"`
	HasNextPage     bool   `json:"has_next_page"`
	EndCursor       string `json:"end_cursor"`
}

// Page is one page of a Relay-paginated list (PaginatedListResource).
type Page[T any] struct {
	Nodes      []T      `json:"nodes"`
	PageInfo   PageInfo `json:"page_info"`
	TotalCount int64    `json:"total_count"`
}

// List is an unpaginated list (ListResource), as GET /retirements/{id}/credit_batches returns.
type List[T any] struct {
	Nodes      []T   `json:"nodes"`
	TotalCount int64 `json:"total_count"`
}

// TruncateForError shortens untrusted text (an id, a serial, an upstream message) to at most
// 160 bytes of valid UTF-8, with an ellipsis when cut, for an error message or a problem's detail.
func TruncateForError(s string) string {
	const limit = 160
	if len(s) > limit {
		return strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}
