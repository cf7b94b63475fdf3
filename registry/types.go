package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
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

// MarshalJSON writes the one shape every JSON the explorer writes gives a quantity:
// credit_kgs a JSON integer, credits a JSON string holding the registry's decimal exactly as it
// sent it (absent when it sent none). A JSON number would be read through a float64 by most
// consumers, and 9007199378468.366 credits is not a float64.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CreditKgs int64  `json:"credit_kgs"`
		Credits   string `json:"credits,omitempty"`
	}{q.CreditKgs, string(q.Credits)})
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

// Timestamp is an upstream date-time: an instant, shown in UTC. It is decoded tolerantly: RFC
// 3339 with or without fractional seconds, a missing zone read as UTC, a date alone read as its
// midnight UTC, and null or "" as the zero time. A value that is none of these (a typo, a
// number) never fails the record: Time stays zero and Raw keeps the value as sent.
type Timestamp struct {
	time.Time
	// Raw is the value exactly as sent (JSON text) when it could not be read as a date-time;
	// "" when it was read, null or absent. Untrusted: render it escaped (see Text).
	Raw string
}

var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", time.DateOnly}

// UnmarshalJSON accepts a JSON string in any of the layouts above, or null. It never fails: a
// value it cannot read is kept in Raw.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	v, raw := decodeDateText(b)
	if !v.IsZero() {
		v = v.UTC()
	}
	*t = Timestamp{Time: v, Raw: raw}
	return nil
}

// MarshalJSON writes RFC 3339 in UTC with the precision the value has, the value as sent when
// it could not be read, or null for the zero time.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.Raw != "" {
		return marshalRaw(t.Raw)
	}
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// Unread reports whether the registry sent a value that is not a date-time (kept in Raw).
func (t Timestamp) Unread() bool { return t.Raw != "" }

// Text is the value as sent when it could not be read (a string's own text, cut to a length
// fit for a page), else "". Untrusted.
func (t Timestamp) Text() string {
	if t.Raw == "" {
		return ""
	}
	return rawText(t.Raw)
}

func (t *Timestamp) unreadRaw() (string, string) { return t.Raw, "not a date" }

// Date is a calendar date such as sequestered_on ("2026-01-20"): the day as the registry wrote
// it, never moved by a time zone. The upstream's older sequestered_at carried a date-time; the
// date of "2026-01-20T00:30:00+02:00" is 2026-01-20, as written, not the UTC day (01-19). A
// value that is no date never fails the record: Time stays zero and Raw keeps it as sent.
type Date struct {
	time.Time // midnight UTC of the day, so that Format and comparisons see the written day
	// Raw is the value exactly as sent (JSON text) when it could not be read as a date; "" when
	// it was read, null or absent. Untrusted.
	Raw string
}

// UnmarshalJSON accepts "YYYY-MM-DD", a full date-time (whose written day is kept), null or
// "". It never fails: a value it cannot read is kept in Raw.
func (d *Date) UnmarshalJSON(b []byte) error {
	v, raw := decodeDateText(b)
	*d = Date{Raw: raw}
	if !v.IsZero() {
		y, m, day := v.Date() // in the offset it was written with
		d.Time = time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	}
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", the value as sent when it could not be read, or null for
// the zero date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.Raw != "" {
		return marshalRaw(d.Raw)
	}
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.Format(time.DateOnly))
}

// String is the date as "YYYY-MM-DD", or "" when unknown or unread (see Text).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// Unread reports whether the registry sent a value that is not a date (kept in Raw).
func (d Date) Unread() bool { return d.Raw != "" }

// Text is the value as sent when it could not be read, else "". Untrusted.
func (d Date) Text() string {
	if d.Raw == "" {
		return ""
	}
	return rawText(d.Raw)
}

func (d *Date) unreadRaw() (string, string) { return d.Raw, "not a date" }

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

	unread []UnreadField // members that could not be read (see Unread)
}

// UnmarshalJSON decodes tolerantly and field by field: unknown members are ignored, nulls
// leave fields zero, sequestered_at (older documentation) is read when sequestered_on is absent
// or null, and a member whose value cannot be read as its type is left zero and listed in
// Unread (a date keeps its text in Raw) rather than failing the record, its list or its tree.
// It never returns an error: a record that is not a JSON object decodes to an empty batch whose
// Unread says so (NotAnObject), so that one bad element does not fail a list.
func (b *CreditBatch) UnmarshalJSON(data []byte) error {
	var aux struct {
		plainBatch
		SequesteredAt Date `json:"sequestered_at"`
	}
	unread, ok := decodeRecord(data, reflect.ValueOf(&aux).Elem())
	if !ok {
		*b = CreditBatch{unread: []UnreadField{{Raw: string(data), Why: "not an object"}}}
		return nil
	}
	*b = CreditBatch(aux.plainBatch)
	useAt := b.SequesteredOn.IsZero() && !b.SequesteredOn.Unread()
	if useAt {
		b.SequesteredOn = aux.SequesteredAt
	}
	// sequestered_at counts only where it is the date read.
	b.unread = slices.DeleteFunc(unread, func(u UnreadField) bool { return u.Field == "sequestered_at" && !useAt })
	if len(b.unread) == 0 {
		b.unread = nil
	}
	return nil
}

// plainBatch is CreditBatch without its methods, for its own decoding and encoding.
type plainBatch CreditBatch

// MarshalJSON writes the batch as the registry's record, with every value that could not be
// read written back exactly as it was sent (see Unread), so that re-decoding marks it again.
// Sizes are a Quantity (credit_kgs an integer, credits a decimal string).
func (b CreditBatch) MarshalJSON() ([]byte, error) {
	out, err := json.Marshal(plainBatch(b))
	if err != nil {
		return nil, err
	}
	return spliceUnread(out, b.unread)
}

// Unread lists the members of the record the registry sent with a value that could not be
// read (nil when every one was read). Shared: do not modify.
func (b *CreditBatch) Unread() []UnreadField { return b.unread }

// NotAnObject reports whether the registry's record was not a JSON object at all (nothing in
// it could be read).
func (b *CreditBatch) NotAnObject() bool { return len(b.unread) == 1 && b.unread[0].Field == "" }

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

	unread []UnreadField // members that could not be read (see Unread)
}

type plainIssuance Issuance

// UnmarshalJSON decodes field by field, as CreditBatch does: a member that cannot be read is
// left zero and listed in Unread. It never returns an error: a record that is not a JSON object
// decodes to an empty issuance whose Unread says so, so that one bad element of GET /issuances
// does not fail the page it is on.
func (v *Issuance) UnmarshalJSON(data []byte) error {
	var p plainIssuance
	unread, ok := decodeRecord(data, reflect.ValueOf(&p).Elem())
	if !ok {
		*v = Issuance{unread: []UnreadField{{Raw: string(data), Why: "not an object"}}}
		return nil
	}
	*v = Issuance(p)
	v.unread = unread
	return nil
}

// MarshalJSON writes the record with the values that could not be read as they were sent.
func (v Issuance) MarshalJSON() ([]byte, error) {
	out, err := json.Marshal(plainIssuance(v))
	if err != nil {
		return nil, err
	}
	return spliceUnread(out, v.unread)
}

// Unread lists the members sent with a value that could not be read. Shared: do not modify.
func (v *Issuance) Unread() []UnreadField { return v.unread }

// NotAnObject reports whether the registry's record was not a JSON object at all.
func (v *Issuance) NotAnObject() bool { return len(v.unread) == 1 && v.unread[0].Field == "" }

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

	unread []UnreadField // members that could not be read (see Unread)
}

// MaxPageSize is the most items the upstream returns in one page of a Relay list.
const MaxPageSize = 50

type plainRetirement Retirement

// UnmarshalJSON decodes field by field, as CreditBatch does: a member that cannot be read is
// left zero and listed in Unread. Only a body that is not a JSON object is an error.
func (v *Retirement) UnmarshalJSON(data []byte) error {
	var p plainRetirement
	unread, ok := decodeRecord(data, reflect.ValueOf(&p).Elem())
	if !ok {
		if string(data) == "null" {
			return nil
		}
		return fmt.Errorf("retirement: not a JSON object")
	}
	*v = Retirement(p)
	v.unread = unread
	return nil
}

// MarshalJSON writes the record with the values that could not be read as they were sent.
func (v Retirement) MarshalJSON() ([]byte, error) {
	out, err := json.Marshal(plainRetirement(v))
	if err != nil {
		return nil, err
	}
	return spliceUnread(out, v.unread)
}

// Unread lists the members sent with a value that could not be read. Shared: do not modify.
func (v *Retirement) Unread() []UnreadField { return v.unread }

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

// OrganisationBatchFilter narrows GET /organisations/{id}/credit_batches. Empty fields are not
// sent. Statuses empty means the upstream's default (every status but split).
type OrganisationBatchFilter struct {
	SupplierID, ProjectID, IssuanceID, DeliveryID, OrderID, RetirementID string
	Statuses                                                             []Status
	IssuedAfter, IssuedBefore                                            time.Time
	SortDescending                                                       bool // by issued_at
}
