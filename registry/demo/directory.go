package demo

import (
	"net/http"
	"slices"
)

// The directory routes: an organisation, its balance, a supplier's issuances.

type wireCreditBalance struct {
	ActiveCreditsTotal  wireQuantity `json:"active_credits_total"`
	RetiredCreditsTotal wireQuantity `json:"retired_credits_total"`
}

type wireSupplierBalance struct {
	SupplierID string            `json:"supplier_id"`
	Total      wireCreditBalance `json:"total"`
}

type wireProjectBalance struct {
	ProjectID string            `json:"project_id"`
	Total     wireCreditBalance `json:"total"`
}

type wireOrgBalance struct {
	Total            wireCreditBalance     `json:"total"`
	SupplierBalances []wireSupplierBalance `json:"supplier_balances"`
	ProjectBalances  []wireProjectBalance  `json:"project_balances"`
	OrderBalances    []struct{}            `json:"order_balances"` // the demo has no orders
}

func (r *Registry) organisation(w http.ResponseWriter, req *http.Request, p []string) {
	i, ok := lookup(w, "org", p[0], r.d.orgIndex)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, r.d.wireOrg(i))
}

// organisationCreditBalance sums the batches the organisation owns: active ones as held,
// retired ones as retired (by it, whoever the beneficiary). Batches it is only the beneficiary
// of are someone else's retirements and are not counted.
func (r *Registry) organisationCreditBalance(w http.ResponseWriter, req *http.Request, p []string) {
	oi, ok := lookup(w, "org", p[0], r.d.orgIndex)
	if !ok {
		return
	}
	d := r.d
	type sums struct{ active, retired int64 }
	var total sums
	bySupplier, byProject := map[string]*sums{}, map[string]*sums{}
	for _, i := range d.orgBatches[oi] {
		b := &d.batches[i]
		if b.owner != oi || b.status == statusSplit {
			continue
		}
		spl := d.suppliers[d.treeProject(b).supplier].id
		prj := d.batchProject(b).id
		for _, s := range []*sums{&total, at(bySupplier, spl), at(byProject, prj)} {
			if b.status == statusActive {
				s.active += b.kg
			} else {
				s.retired += b.kg
			}
		}
	}
	if p[0] == d.fixtures.UnbalancedOrganisation {
		total.active += d.fixtures.UnbalancedOrganisationKg
	}
	bal := func(s sums) wireCreditBalance {
		return wireCreditBalance{ActiveCreditsTotal: quantity(s.active), RetiredCreditsTotal: quantity(s.retired)}
	}
	out := wireOrgBalance{Total: bal(total), SupplierBalances: []wireSupplierBalance{}, ProjectBalances: []wireProjectBalance{}, OrderBalances: []struct{}{}}
	for _, id := range sortedKeys(bySupplier) {
		out.SupplierBalances = append(out.SupplierBalances, wireSupplierBalance{SupplierID: id, Total: bal(*bySupplier[id])})
	}
	for _, id := range sortedKeys(byProject) {
		out.ProjectBalances = append(out.ProjectBalances, wireProjectBalance{ProjectID: id, Total: bal(*byProject[id])})
	}
	writeJSON(w, http.StatusOK, out)
}

func at[T any](m map[string]*T, k string) *T {
	if m[k] == nil {
		m[k] = new(T)
	}
	return m[k]
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// supplierIssuances is GET /suppliers/{id}/issuances: the issuances of every project of the
// supplier, newest first, paged as GET /issuances is.
func (r *Registry) supplierIssuances(w http.ResponseWriter, req *http.Request, p []string) {
	si, ok := lookup(w, "spl", p[0], r.d.splIndex)
	if !ok {
		return
	}
	var list []int16
	for _, i := range r.d.issuancesNewest {
		if r.d.projects[r.d.issuances[i].project].supplier == si {
			list = append(list, i)
		}
	}
	writePage(w, req, r.snapshot().LoopingCursors, list, r.d.wireIssuance)
}
