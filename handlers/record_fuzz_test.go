package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Issue 14: whatever one record holds, as long as it is a JSON object, it goes through
// decoding, the walk, the audit, the page, both exports and the issuance's list without a
// panic or a 5xx. The fuzzer varies a whole record (the left half of a small split), not one
// field; its seeds are the kinds of values real registries and spreadsheets produce, and run
// under plain go test.

const (
	fzRoot     = "ctb_1FZR00TR00TR00T0"
	fzLeft     = "ctb_1FZL0000000000L0"
	fzRight    = "ctb_1FZR1GHT0000RR00"
	fzIssuance = "iss_1FZ1SSUANCE00000"
	fzSerial   = "ISO-1-VAULT-USA-01P4-2026-1000-2000"
)

func fzRecord(id, status, serial, parent, left, right string, kg int64) string {
	null := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + s + `"`
	}
	return `{"id":"` + id + `","serial_number":"` + serial + `","status":"` + status + `",` +
		`"size":{"credit_kgs":` + itoa64(kg) + `,"credits":` + registry.FormatCredits(kg) + `},` +
		`"issued_at":"2026-02-27T15:40:46.883028Z","retired_at":null,"delivered_at":null,"sequestered_on":"2026-01-20",` +
		`"country_of_issue":"USA","supplier_id":"spl_15VFW6T2KDWAS7VQ","parent_id":` + null(parent) +
		`,"left_child_id":` + null(left) + `,"right_child_id":` + null(right) +
		`,"issuance_id":"` + fzIssuance + `","delivery_id":null,"retirement_id":null,"removal_id":null,` +
		`"project_id":"prj_1418ZFQP4KDX2KTD","ccp_approved":true,"beneficiary":null,` +
		`"owner":{"id":"org_1RXRRC6GWJFYYMN6","name":"Deepstore Removals","domain":null},"carbon_removal_data":null}`
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

func FuzzBatchRecord(f *testing.F) {
	left := fzRecord(fzLeft, "active", "ISO-1-VAULT-USA-01P4-2026-1000-1400", fzRoot, "", "", 400)
	f.Add(left)
	for _, edit := range []struct{ from, to string }{
		{`"delivered_at":null`, `"delivered_at":"not a date"`},
		{`"retired_at":null`, `"retired_at":12`},
		{`"sequestered_on":"2026-01-20"`, `"sequestered_at":"2026-01-20T00:30:00+02:00","sequestered_on":null`},
		{`"credit_kgs":400`, `"credit_kgs":"400"`},
		{`"credit_kgs":400`, `"credit_kgs":9223372036854775807`},
		{`"credit_kgs":400`, `"credit_kgs":-400`},
		{`"credit_kgs":400`, `"credit_kgs":1e400`},
		{`"credits":0.400`, `"credits":"fifteen"`},
		{`"status":"active"`, `"status":"=1+2"`},
		{`"status":"active"`, `"status":"split"`},
		{`"status":"active"`, `"status":7`},
		{`"Deepstore Removals"`, `"Nordic Sinks \u202eAB <script>alert(1)</script>"`},
		{`"owner":{`, `"beneficiary":"nobody","owner":[],"x":{`},
		{`"parent_id":"` + fzRoot + `"`, `"parent_id":"` + fzRight + `"`},
		{`"left_child_id":null`, `"left_child_id":"` + fzRoot + `"`},
		{`"left_child_id":null`, `"left_child_id":"` + fzLeft + `"`},
		{`"id":"` + fzLeft + `"`, `"id":"` + fzRight + `"`},
		{`"id":"` + fzLeft + `"`, `"id":42`},
		{`"serial_number":"ISO-1-VAULT-USA-01P4-2026-1000-1400"`, `"serial_number":"ISO-1-VAULT-USA-01P4-2026-999-1400"`},
		{`"serial_number":"ISO-1-VAULT-USA-01P4-2026-1000-1400"`, `"serial_number":null`},
		{`"carbon_removal_data":null`, `"carbon_removal_data":{"gross_carbon_removed_kg":"1"}`},
	} {
		f.Add(strings.Replace(left, edit.from, edit.to, 1))
	}
	f.Add(`{}`)
	f.Add(`{"id":null,"size":null,"owner":null}`)

	var body atomic.Pointer[string]
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		rec := *body.Load()
		root := fzRecord(fzRoot, "split", fzSerial, "", fzLeft, fzRight, 1000)
		switch strings.TrimPrefix(r.URL.Path, "/registry/v0") {
		case "/credit_batches/" + fzRoot:
			io.WriteString(w, root)
		case "/credit_batches/" + fzLeft:
			io.WriteString(w, rec)
		case "/credit_batches/" + fzRight:
			io.WriteString(w, fzRecord(fzRight, "active", "ISO-1-VAULT-USA-01P4-2026-1400-2000", fzRoot, "", "", 600))
		case "/issuances/" + fzIssuance:
			io.WriteString(w, `{"id":"`+fzIssuance+`","issued_at":"2026-02-27T15:40:46Z","supplier":{"id":"spl_15VFW6T2KDWAS7VQ","organisation":{"id":"org_1RXRRC6GWJFYYMN6","name":"Deepstore"}},`+
				`"project_id":"prj_1418ZFQP4KDX2KTD","reporting_period_start_at":"2025-07-01","reporting_period_end_at":"2025-09-30",`+
				`"credit_batch_size_total":{"credit_kgs":1000,"credits":1.0}}`)
		case "/issuances/" + fzIssuance + "/credit_batches":
			io.WriteString(w, `{"issuance_id":"`+fzIssuance+`","supplier_credit_batches":[`+root+`,`+rec+`],"buffer_pool_credit_batches":[],`+
				`"credit_batch_size_total":{"credit_kgs":1000,"credits":1.0}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"detail":"Not found"}`)
		}
	}))
	f.Cleanup(up.Close)
	client, err := isometric.NewClient(isometric.ClientConfig{BaseURL: up.URL + "/registry/v0", AccessToken: "fuzz-token", ClientSecret: "fuzz-secret",
		MaxAttempts: 1, Timeout: 5 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/batches/" + fzRoot, "/batches/" + fzLeft, "/api/v1/batches/" + fzRoot + "/lineage",
		"/api/v1/batches/" + fzLeft + "/lineage", "/batches/" + fzRoot + "/lineage.csv", "/batches/" + fzLeft + "/lineage.csv",
		"/issuances/" + fzIssuance, "/api/v1/issuances/" + fzIssuance, "/serial/" + fzSerial}

	f.Fuzz(func(t *testing.T, record string) {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(record), &obj) != nil || obj == nil {
			return // not a record: the client refuses it as a whole, rightly
		}
		body.Store(&record)
		// A new explorer each time: nothing cached from another record.
		h := New(Config{Explorer: lineage.NewExplorer(client, lineage.ExplorerConfig{}), ProgressWait: time.Minute,
			FragmentWait: time.Minute, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		for _, p := range paths {
			w := httptest.NewRecorder()
			// Only a hang ends here: a walk of three batches takes milliseconds.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil).WithContext(ctx))
			hung := ctx.Err() != nil
			cancel()
			if hung {
				t.Fatalf("GET %s with the record %s never finished", p, record)
			}
			if w.Code >= 500 {
				t.Fatalf("GET %s with the record %s: %d %s", p, record, w.Code, head(w.Body.String(), 400))
			}
			// The root's own record is sound: its page, its exports and the issuance are there.
			if (p == paths[0] || p == paths[2] || p == paths[4] || p == paths[6] || p == paths[7]) && w.Code != http.StatusOK {
				t.Fatalf("GET %s with the record %s: %d, want 200", p, record, w.Code)
			}
			if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && !json.Valid(w.Body.Bytes()) {
				t.Fatalf("GET %s: invalid JSON", p)
			}
		}
	})
}
