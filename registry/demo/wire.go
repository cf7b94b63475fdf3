package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Wire types: the upstream's JSON shapes, written out here rather than borrowed from the
// registry package so that the demo answers what the upstream answers (every required field,
// nulls as null) whatever the client's decoding does. Field order follows the published records.

type wireQuantity struct {
	CreditKgs int64 `json:"credit_kgs"`
	// Credits is rendered from the integer so that sizes above 2^53 stay exact.
	Credits json.RawMessage `json:"credits"`
}

func quantity(kg int64) wireQuantity {
	return wireQuantity{CreditKgs: kg, Credits: json.RawMessage(formatCredits(kg))}
}

type wireOrg struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Domain *string `json:"domain"`
}

type wireCRD struct {
	GrossCarbonRemovedKg int64 `json:"gross_carbon_removed_kg"`
	NetCarbonRemovedKg   int64 `json:"net_carbon_removed_kg"`
	EmissionsKg          int64 `json:"emissions_kg"`
	CounterfactualsKg    int64 `json:"counterfactuals_kg"`
	LossesKg             int64 `json:"losses_kg"`
}

type wireBatch struct {
	ID                string       `json:"id"`
	SerialNumber      string       `json:"serial_number"`
	Status            string       `json:"status"`
	IssuedAt          string       `json:"issued_at"`
	RetiredAt         *string      `json:"retired_at"`
	DeliveredAt       *string      `json:"delivered_at"`
	SequesteredOn     string       `json:"sequestered_on"`
	CountryOfIssue    string       `json:"country_of_issue"`
	SupplierID        string       `json:"supplier_id"`
	ParentID          *string      `json:"parent_id"`
	LeftChildID       *string      `json:"left_child_id"`
	RightChildID      *string      `json:"right_child_id"`
	IssuanceID        string       `json:"issuance_id"`
	DeliveryID        *string      `json:"delivery_id"`
	RetirementID      *string      `json:"retirement_id"`
	RemovalID         string       `json:"removal_id"`
	ProjectID         string       `json:"project_id"`
	CCPApproved       bool         `json:"ccp_approved"`
	Size              wireQuantity `json:"size"`
	Beneficiary       *wireOrg     `json:"beneficiary"`
	Owner             wireOrg      `json:"owner"`
	CarbonRemovalData *wireCRD     `json:"carbon_removal_data"`
}

type wireLocation struct {
	CountryCode string  `json:"country_code"`
	CountryName string  `json:"country_name"`
	Description *string `json:"description"`
	Latitude    float64 `json:"latitude"`
	Longitude   float64 `json:"longitude"`
}

type wireSupplier struct {
	ID               string        `json:"id"`
	Organisation     wireOrg       `json:"organisation"`
	ShortDescription *string       `json:"short_description"`
	LongDescription  *string       `json:"long_description"`
	Location         *wireLocation `json:"location"`
}

type wireIssuance struct {
	ID                             string       `json:"id"`
	IssuedAt                       string       `json:"issued_at"`
	Supplier                       wireSupplier `json:"supplier"`
	ProjectID                      string       `json:"project_id"`
	ReportingPeriodStartAt         string       `json:"reporting_period_start_at"`
	ReportingPeriodEndAt           string       `json:"reporting_period_end_at"`
	SupplierCreditBatchSizeTotal   wireQuantity `json:"supplier_credit_batch_size_total"`
	BufferPoolCreditBatchSizeTotal wireQuantity `json:"buffer_pool_credit_batch_size_total"`
	CreditBatchSizeTotal           wireQuantity `json:"credit_batch_size_total"`
}

type wireIssuanceCreditBatches struct {
	IssuanceID                     string       `json:"issuance_id"`
	SupplierCreditBatches          []wireBatch  `json:"supplier_credit_batches"`
	SupplierCreditBatchSizeTotal   wireQuantity `json:"supplier_credit_batch_size_total"`
	BufferPoolCreditBatches        []wireBatch  `json:"buffer_pool_credit_batches"`
	BufferPoolCreditBatchSizeTotal wireQuantity `json:"buffer_pool_credit_batch_size_total"`
	CreditBatchSizeTotal           wireQuantity `json:"credit_batch_size_total"`
}

type wireRetirement struct {
	ID                   string       `json:"id"`
	RetiredAt            string       `json:"retired_at"`
	Purposes             []string     `json:"purposes"`
	Beneficiary          wireOrg      `json:"beneficiary"`
	Owner                wireOrg      `json:"owner"`
	CreditBatchSizeTotal wireQuantity `json:"credit_batch_size_total"`
	URL                  string       `json:"url"`
	Notes                *string      `json:"notes"`
}

type wireProject struct {
	ID                            string        `json:"id"`
	Name                          string        `json:"name"`
	Supplier                      wireSupplier  `json:"supplier"`
	Status                        string        `json:"status"`
	ShortCode                     string        `json:"short_code"`
	URL                           string        `json:"url"`
	ProcessKey                    string        `json:"process_key"`
	Pathway                       string        `json:"pathway"`
	ProtocolSlug                  string        `json:"protocol_slug"`
	CountryCode                   string        `json:"country_code"`
	ValidatorName                 *string       `json:"validator_name"`
	CurrentVerifierName           *string       `json:"current_verifier_name"`
	CreditingPeriodStart          *string       `json:"crediting_period_start"`
	CreditingPeriodEnd            *string       `json:"crediting_period_end"`
	IssuedCreditsTotal            wireQuantity  `json:"issued_credits_total"`
	RetiredCreditsTotal           wireQuantity  `json:"retired_credits_total"`
	IssuedBufferPoolCreditsTotal  wireQuantity  `json:"issued_buffer_pool_credits_total"`
	RetiredBufferPoolCreditsTotal wireQuantity  `json:"retired_buffer_pool_credits_total"`
	Location                      *wireLocation `json:"location"`
}

type wirePageInfo struct {
	HasPreviousPage bool    `json:"has_previous_page"`
	StartCursor     *string `json:"start_cursor"`
	HasNextPage     bool    `json:"has_next_page"`
	EndCursor       *string `json:"end_cursor"`
}

type wirePage[T any] struct {
	Nodes      []T          `json:"nodes"`
	PageInfo   wirePageInfo `json:"page_info"`
	TotalCount int          `json:"total_count"`
}

type wireList[T any] struct {
	Nodes      []T `json:"nodes"`
	TotalCount int `json:"total_count"`
}

type detail struct {
	Detail string `json:"detail"`
}

// validationError is one entry of FastAPI's 422 answer.
type validationError struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

type validationDetail struct {
	Detail []validationError `json:"detail"`
}

func (d *dataset) wireOrg(i int16) wireOrg {
	o := &d.orgs[i]
	return wireOrg{ID: o.id, Name: o.name, Domain: o.domain}
}

func wireLoc(l *location) *wireLocation {
	if l == nil {
		return nil
	}
	return &wireLocation{CountryCode: l.countryCode, CountryName: l.countryName, Description: l.description,
		Latitude: l.lat, Longitude: l.lon}
}

func (d *dataset) wireSupplier(i int8) wireSupplier {
	s := &d.suppliers[i]
	return wireSupplier{ID: s.id, Organisation: d.wireOrg(s.org), ShortDescription: s.shortDescription,
		LongDescription: s.longDescription, Location: wireLoc(s.location)}
}

func (d *dataset) wireBatch(i int32) wireBatch {
	b := &d.batches[i]
	tr := &d.trees[b.tree]
	tp := &d.projects[tr.project]
	w := wireBatch{
		ID: d.ids[i],
		SerialNumber: fmt.Sprintf("ISO-1-%s-%s-%s-%s-%d-%d", tp.pathwayCode, tp.country, tp.shortCode,
			formatDate(tr.sequesteredOn)[:4], b.first, b.first+b.kg),
		Status:         b.status.String(),
		IssuedAt:       formatTime(d.issuedAt(i)),
		SequesteredOn:  formatDate(tr.sequesteredOn),
		CountryOfIssue: tp.country,
		SupplierID:     d.suppliers[tp.supplier].id,
		ParentID:       d.refID(b.parent),
		LeftChildID:    d.refID(b.left),
		RightChildID:   d.refID(b.right),
		IssuanceID:     d.issuances[b.issuance].id,
		RemovalID:      tr.removal,
		ProjectID:      d.batchProject(b).id,
		CCPApproved:    tp.ccp,
		Size:           quantity(b.kg),
		Owner:          d.wireOrg(b.owner),
	}
	if b.deliveredAt != 0 {
		w.DeliveredAt = new(formatTime(b.deliveredAt))
	}
	if b.delivery >= 0 {
		w.DeliveryID = &d.deliveries[b.delivery]
	}
	if b.retirement >= 0 {
		r := &d.retirements[b.retirement]
		w.RetirementID = &r.id
		w.RetiredAt = new(formatTime(r.retiredAt))
		w.Beneficiary = new(d.wireOrg(r.beneficiary))
	}
	if b.crd {
		// The published records report net = credit_kgs and gross = net + emissions.
		pct := int64(8 + splitmix(uint64(i))%15)
		emissions := b.kg/100*pct + (b.kg%100)*pct/100
		w.CarbonRemovalData = &wireCRD{GrossCarbonRemovedKg: b.kg + emissions, NetCarbonRemovedKg: b.kg, EmissionsKg: emissions}
	}
	return w
}

func (d *dataset) wireBatches(list []int32) []wireBatch {
	out := make([]wireBatch, len(list))
	for k, i := range list {
		out[k] = d.wireBatch(i)
	}
	return out
}

func (d *dataset) wireIssuance(i int16) wireIssuance {
	iss := &d.issuances[i]
	p := &d.projects[iss.project]
	return wireIssuance{
		ID:                             iss.id,
		IssuedAt:                       formatTime(iss.issuedAt),
		Supplier:                       d.wireSupplier(p.supplier),
		ProjectID:                      p.id,
		ReportingPeriodStartAt:         formatDate(iss.periodStart),
		ReportingPeriodEndAt:           formatDate(iss.periodEnd),
		SupplierCreditBatchSizeTotal:   quantity(iss.supplierKg),
		BufferPoolCreditBatchSizeTotal: quantity(iss.bufferKg),
		CreditBatchSizeTotal:           quantity(iss.supplierKg + iss.bufferKg),
	}
}

func (d *dataset) wireIssuanceCreditBatches(i int16) wireIssuanceCreditBatches {
	iss := &d.issuances[i]
	return wireIssuanceCreditBatches{
		IssuanceID:                     iss.id,
		SupplierCreditBatches:          d.wireBatches(iss.supplierRoots),
		SupplierCreditBatchSizeTotal:   quantity(iss.supplierKg),
		BufferPoolCreditBatches:        d.wireBatches(iss.bufferRoots),
		BufferPoolCreditBatchSizeTotal: quantity(iss.bufferKg),
		CreditBatchSizeTotal:           quantity(iss.supplierKg + iss.bufferKg),
	}
}

func (d *dataset) wireRetirement(i int32) wireRetirement {
	r := &d.retirements[i]
	return wireRetirement{
		ID:                   r.id,
		RetiredAt:            formatTime(r.retiredAt),
		Purposes:             r.purposes,
		Beneficiary:          d.wireOrg(r.beneficiary),
		Owner:                d.wireOrg(r.owner),
		CreditBatchSizeTotal: quantity(r.kg),
		URL:                  "https://registry.isometric.com/retirement/" + r.id,
		Notes:                r.notes,
	}
}

func (d *dataset) wireProject(i int8) wireProject {
	p := &d.projects[i]
	return wireProject{
		ID:                            p.id,
		Name:                          p.name,
		Supplier:                      d.wireSupplier(p.supplier),
		Status:                        p.status,
		ShortCode:                     p.shortCode,
		URL:                           "https://registry.isometric.com/project/" + p.id,
		ProcessKey:                    p.process,
		Pathway:                       p.pathway,
		ProtocolSlug:                  p.protocolSlug,
		CountryCode:                   p.country,
		ValidatorName:                 p.validator,
		CurrentVerifierName:           p.verifier,
		CreditingPeriodStart:          p.creditStart,
		CreditingPeriodEnd:            p.creditEnd,
		IssuedCreditsTotal:            quantity(p.issuedKg),
		RetiredCreditsTotal:           quantity(p.retiredKg),
		IssuedBufferPoolCreditsTotal:  quantity(p.issuedBufferKg),
		RetiredBufferPoolCreditsTotal: quantity(p.retiredBufferKg),
		Location:                      wireLoc(p.location),
	}
}

// marshal does not escape <, > and &: the upstream does not either, so names with markup reach
// the client as they are and escaping stays the client's job.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func jsonRoundTrip(v, into any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}
