package registry

// Types of the registry's directory routes: projects, organisations and their balances. They
// live apart from types.go (batches, issuances, retirements) because only the project and
// organisation pages read them.

// Project is GET /projects/{id} (also embedded in GET /projects). All totals are in kg
// (Quantity.CreditKgs). Name and the other text fields are untrusted upstream text. Unknown
// fields are ignored; the nullable ones the pages do not use are not decoded.
type Project struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Supplier  Supplier `json:"supplier"`
	Status    string   `json:"status"`
	ShortCode string   `json:"short_code"` // text, leading zeros and all ("01P4")
	URL       string   `json:"url"`
	Pathway   string   `json:"pathway"`
	// CountryCode is ISO 3166-1 alpha-3.
	CountryCode  string `json:"country_code"`
	ProtocolSlug string `json:"protocol_slug"`
	// IssuedCreditsTotal includes the buffer pool's share (IssuedBufferPoolCreditsTotal).
	IssuedCreditsTotal           Quantity `json:"issued_credits_total"`
	IssuedBufferPoolCreditsTotal Quantity `json:"issued_buffer_pool_credits_total"`
	// RetiredCreditsTotal includes the buffer pool's retirements (RetiredBufferPoolCreditsTotal).
	RetiredCreditsTotal           Quantity `json:"retired_credits_total"`
	RetiredBufferPoolCreditsTotal Quantity `json:"retired_buffer_pool_credits_total"`
}

// CreditBalance is the upstream's CreditBalance: what is held active and what was retired, in kg.
type CreditBalance struct {
	ActiveCreditsTotal  Quantity `json:"active_credits_total"`
	RetiredCreditsTotal Quantity `json:"retired_credits_total"`
}

// OrganisationCreditBalance is GET /organisations/{id}/credit_balance: the organisation's
// balance in total and broken down by supplier, project and order.
type OrganisationCreditBalance struct {
	Total            CreditBalance `json:"total"`
	SupplierBalances []struct {
		SupplierID string        `json:"supplier_id"`
		Total      CreditBalance `json:"total"`
	} `json:"supplier_balances"`
	ProjectBalances []struct {
		ProjectID string        `json:"project_id"`
		Total     CreditBalance `json:"total"`
	} `json:"project_balances"`
}
