package history

import "time"

// EventJSON is one observed change of one batch, as the journal recorded it, in the shape
// the history route (/api/v1/batches/{id}/history), the watch lists' JSON and their webhooks
// share. Kg are JSON integers; times RFC 3339, UTC.
type EventJSON struct {
	BatchID  string `json:"batch_id"`
	Kind     string `json:"kind"` // first_seen, status, owner, beneficiary, retirement, children, kg
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	FromName string `json:"from_name,omitempty"` // the organisation From names
	ToName   string `json:"to_name,omitempty"`   // the organisation To names; for a retirement, the beneficiary
	FromKg   *int64 `json:"from_kg,omitempty"`   // for kind kg
	ToKg     *int64 `json:"to_kg,omitempty"`     // for kind kg
	// CreditKgs is the batch's size when the change was observed.
	CreditKgs  int64  `json:"credit_kgs"`
	ObservedAt string `json:"observed_at"`             // RFC 3339, UTC
	RegistryAt string `json:"registry_time,omitempty"` // the record's own time, RFC 3339
}

// EventsJSON is evs as JSON values.
func EventsJSON(evs []Event) []EventJSON {
	out := make([]EventJSON, 0, len(evs))
	for _, e := range evs {
		j := EventJSON{BatchID: e.BatchID, Kind: e.Kind, From: e.From, To: e.To, FromName: e.FromLabel, ToName: e.ToLabel,
			CreditKgs: e.Kg, ObservedAt: e.ObservedAt.UTC().Format(time.RFC3339)}
		if e.Kind == KindKg {
			from, to := e.FromKg(), e.ToKg()
			j.From, j.To, j.FromKg, j.ToKg = "", "", &from, &to
		}
		if !e.RegistryTime.IsZero() {
			j.RegistryAt = e.RegistryTime.UTC().Format(time.RFC3339)
		}
		out = append(out, j)
	}
	return out
}
