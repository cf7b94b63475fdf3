package registry_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
)

// Issue 14, points 4, 5 and 12: a record is decoded field by field. A value the explorer cannot
// read is kept as sent and marked; it never fails the record or the list it came in.

// publishedWith returns the published sample records with edit applied to the one with index i.
func publishedWith(t *testing.T, i int, edit func(map[string]any)) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/credit-batches.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&recs); err != nil {
		t.Fatal(err)
	}
	edit(recs[i])
	return recs
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnUnreadableValueIsKeptAsSentNotAnError(t *testing.T) {
	// Each kind of wrongly typed member, one at a time, in the sample's retired child.
	for _, c := range []struct {
		field string
		value any
	}{
		{"delivered_at", "not a date"},
		{"retired_at", "2024-13-45T99:00:00Z"},
		{"issued_at", 1712000000},
		{"sequestered_on", "20/01/2026"},
		{"status", 3},
		{"serial_number", []any{"ISO"}},
		{"parent_id", 12},
		{"ccp_approved", "yes"},
		{"size", "1500"},
		{"owner", "Nordic Sinks"},
		{"beneficiary", 7},
		{"carbon_removal_data", "n/a"},
	} {
		t.Run(c.field, func(t *testing.T) {
			recs := publishedWith(t, 1, func(m map[string]any) { m[c.field] = c.value })
			var b registry.CreditBatch
			if err := json.Unmarshal([]byte(mustJSON(t, recs[1])), &b); err != nil {
				t.Fatalf("one unreadable %s failed the record: %v", c.field, err)
			}
			if b.ID != "ctb_1JXEJPGK9SDN3W5A" || (c.field != "size" && b.Size.CreditKgs == 0) || (c.field != "owner" && b.Owner.Name == "") {
				t.Errorf("the rest of the record was not read: %+v", b)
			}
			// Re-encoded (shared cache, JSON for tools), the registry's value is written back as sent.
			out := mustJSON(t, &b)
			var back map[string]any
			if err := json.Unmarshal([]byte(out), &back); err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(t, back[c.field]), mustJSON(t, c.value); got != want {
				t.Errorf("re-encoded %s = %s, want it as sent: %s", c.field, got, want)
			}
		})
	}
}

func TestADateIsTheDayAsWritten(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"sequestered_at":"2026-01-20T00:30:00+02:00"}`, "2026-01-20"},
		{`{"sequestered_on":"2026-01-20T23:30:00-05:00"}`, "2026-01-20"},
		{`{"sequestered_on":"2026-01-20"}`, "2026-01-20"},
		{`{"sequestered_on":"2026-01-20T12:00:00"}`, "2026-01-20"},
	} {
		var b registry.CreditBatch
		if err := json.Unmarshal([]byte(c.body), &b); err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if got := b.SequesteredOn.String(); got != c.want {
			t.Errorf("%s: date %q, want %q", c.body, got, c.want)
		}
	}
	var iss registry.Issuance
	if err := json.Unmarshal([]byte(`{"reporting_period_start_at":"2025-07-01T00:00:00+10:00","reporting_period_end_at":"2025-09-30T23:59:59-07:00"}`), &iss); err != nil {
		t.Fatal(err)
	}
	if s, e := iss.ReportingPeriodStartAt.String(), iss.ReportingPeriodEndAt.String(); s != "2025-07-01" || e != "2025-09-30" {
		t.Errorf("reporting period %s to %s, want 2025-07-01 to 2025-09-30", s, e)
	}
	// A time-stamp stays an instant: the same moment, in UTC.
	var b registry.CreditBatch
	if err := json.Unmarshal([]byte(`{"issued_at":"2026-01-20T00:30:00+02:00"}`), &b); err != nil {
		t.Fatal(err)
	}
	if got := b.IssuedAt.UTC().Format("2006-01-02 15:04"); got != "2026-01-19 22:30" {
		t.Errorf("issued_at %s", got)
	}
}

func TestQuantitiesAreWrittenAsIntegerKgAndStringCredits(t *testing.T) {
	var iss registry.Issuance
	if err := json.Unmarshal([]byte(`{"id":"iss_1H3KECHHHF65HKP3","credit_batch_size_total":{"credit_kgs":9007199378468366,"credits":9007199378468.366}}`), &iss); err != nil {
		t.Fatal(err)
	}
	out := mustJSON(t, iss)
	if !strings.Contains(out, `"credit_batch_size_total":{"credit_kgs":9007199378468366,"credits":"9007199378468.366"}`) {
		t.Errorf("quantity written as %s", out)
	}
}

func TestOneUnreadableRecordDoesNotFailItsList(t *testing.T) {
	bad := publishedWith(t, 3, func(m map[string]any) { m["delivered_at"] = "not a date" })
	body := `{"issuance_id":"iss_1H3KECHHHF65HKP3","supplier_credit_batches":` + mustJSON(t, bad) +
		`,"buffer_pool_credit_batches":["not a record",null],"credit_batch_size_total":{"credit_kgs":1,"credits":"0.001"}}`
	// As GET /issuances/{id}/credit_batches answers it: the client decodes it with encoding/json.
	var icb registry.IssuanceCreditBatches
	if err := json.Unmarshal([]byte(body), &icb); err != nil {
		t.Fatalf("one bad root failed the issuance's list: %v", err)
	}
	if len(icb.SupplierCreditBatches) != 4 || icb.SupplierCreditBatches[0].ID != "ctb_152C7CFK97D5F14R" {
		t.Errorf("supplier roots: %+v", icb.SupplierCreditBatches)
	}
	if len(icb.BufferPoolCreditBatches) != 2 || icb.BufferPoolCreditBatches[0].ID != "" {
		t.Errorf("an element that is not a record should be there, empty: %+v", icb.BufferPoolCreditBatches)
	}
}
