package isometric_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

const (
	testToken  = "tok-SECRET-abc123"
	testSecret = "cs-SECRET-xyz789"
)

// upstream starts a real HTTP server that checks the auth headers and then answers with fn.
func upstream(t *testing.T, fn http.HandlerFunc) (*isometric.Client, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+testToken || r.Header.Get("x-client-secret") != testSecret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"detail":"Invalid credentials"}`)
			return
		}
		if r.Method != http.MethodGet {
			t.Errorf("method %s: the client must only read", r.Method)
		}
		fn(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL + "/registry/v0", AccessToken: testToken,
		ClientSecret: testSecret, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, &hits
}

func jsonBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func TestDecodesPublishedRecords(t *testing.T) {
	raw, err := os.ReadFile("../testdata/credit-batches.json")
	if err != nil {
		t.Fatal(err)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(raw, &records); err != nil {
		t.Fatal(err)
	}
	byID := map[string]json.RawMessage{}
	for _, r := range records {
		var v struct{ ID string }
		json.Unmarshal(r, &v)
		byID[v.ID] = r
	}
	c, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/registry/v0/credit_batches/")
		if rec, ok := byID[id]; ok {
			jsonBody(w, 200, string(rec))
			return
		}
		jsonBody(w, 404, `{"detail":"Not found"}`)
	})
	ctx := context.Background()
	parent, err := c.CreditBatch(ctx, "ctb_152C7CFK97D5F14R")
	if err != nil {
		t.Fatal(err)
	}
	if parent.Status != registry.StatusSplit || parent.ParentID != "" || parent.Beneficiary != nil || parent.CarbonRemovalData != nil {
		t.Errorf("split parent decoded wrongly: %+v", parent)
	}
	var sum int64
	for _, id := range parent.Children() {
		child, err := c.CreditBatch(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if child.ParentID != parent.ID {
			t.Errorf("%s parent_id = %q, want %q", id, child.ParentID, parent.ID)
		}
		if child.RetiredAt.IsZero() || child.RetiredAt.Nanosecond()%1000 != 0 || child.RetiredAt.Nanosecond() == 0 {
			t.Errorf("%s retired_at lost its microseconds: %v", id, child.RetiredAt)
		}
		sum += child.Size.CreditKgs
	}
	if sum != parent.Size.CreditKgs {
		t.Errorf("children sum to %d kg, parent is %d kg", sum, parent.Size.CreditKgs)
	}
	if got := parent.SequesteredOn.String(); got != "2026-01-20" {
		t.Errorf("sequestered_on = %q", got)
	}
	if _, err := c.CreditBatch(ctx, "ctb_1AAAAAAAAAAAAAAA"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
}

func TestDecodesTolerantly(t *testing.T) {
	// 2^53 + 1 cannot be represented by float64; a decode through float64 would yield 2^53.
	const big = "9007199254740993"
	body := `{"id":"ctb_1DRBTYA8Q1S07CBY","serial_number":"ISO-1-X","status":"retired",
		"size":{"credit_kgs":` + big + `,"credits":9007199254740.993},
		"issued_at":"2024-01-22T11:56:48.520641Z","retired_at":"2024-02-01T00:00:00",
		"sequestered_at":"2023-12-31T10:00:00Z","brand_new_field":{"nested":[1,2]},
		"parent_id":null,"left_child_id":null,"right_child_id":null,"beneficiary":null,
		"owner":{"id":"org_1GB56M1ST1S0GVNA","name":"<b>Owner</b>","domain":null},"carbon_removal_data":null}`
	c, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 200, body) })
	b, err := c.CreditBatch(context.Background(), "ctb_1DRBTYA8Q1S07CBY")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(b.Size.CreditKgs); got != big {
		t.Errorf("credit_kgs = %s, want %s exactly", got, big)
	}
	if got := registry.FormatCredits(b.Size.CreditKgs); got != "9007199254740.993" {
		t.Errorf("FormatCredits = %s", got)
	}
	if b.SequesteredOn.String() != "2023-12-31" {
		t.Errorf("sequestered_at not accepted: %q", b.SequesteredOn.String())
	}
	if b.RetiredAt.IsZero() {
		t.Error("a date-time without zone was not accepted")
	}
	out, _ := json.Marshal(b)
	if !strings.Contains(string(out), `"credit_kgs":`+big) {
		t.Errorf("re-encoded JSON lost precision: %s", out)
	}
}

func TestErrorsAreTypedAndCarryNoSecret(t *testing.T) {
	cases := []struct {
		name   string
		answer http.HandlerFunc
		want   error
		msg    string
	}{
		{"404", func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 404, `{"detail":"Not found"}`) }, registry.ErrNotFound, "Not found"},
		{"422 list", func(w http.ResponseWriter, r *http.Request) {
			jsonBody(w, 422, `{"detail":[{"loc":["path","id"],"msg":"String should have at least 20 characters","type":"string_too_short"}]}`)
		}, registry.ErrInvalid, "path.id: String should have at least 20 characters"},
		{"401", func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 401, `{"detail":"bad token `+testToken+`"}`) }, registry.ErrCredentials, ""},
		{"403", func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 403, `{"detail":"forbidden"}`) }, registry.ErrCredentials, "forbidden"},
		{"429 always", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			jsonBody(w, 429, `{"detail":"slow down"}`)
		}, registry.ErrThrottled, "slow down"},
		{"503 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			fmt.Fprint(w, "<html><body>Service Unavailable</body></html>")
		}, registry.ErrUnavailable, ""},
		{"200 html from a proxy", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>login</html>")
		}, registry.ErrUnavailable, "not JSON"},
		// A wrongly typed member is kept as sent and marked (issue 14); a body that is no record
		// at all is still an error.
		{"200 wrong shape", func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 200, `[{"size":{"credit_kgs":"many"}}]`) }, registry.ErrUnavailable, "not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := upstream(t, tc.answer)
			_, err := c.CreditBatch(context.Background(), "ctb_1DRBTYA8Q1S07CBY")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q, want it to contain %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error text leaks a credential: %q", err)
			}
		})
	}
}

func TestWrongCredentialsAreRejectedNotLeaked(t *testing.T) {
	c, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 200, `{}`) })
	_ = c
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonBody(w, 401, `{"detail":"Invalid token"}`)
	}))
	defer srv.Close()
	bad, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: "tok-SECRET-wrong", ClientSecret: "cs-SECRET-wrong"})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Ping(context.Background())
	if !errors.Is(err, registry.ErrCredentials) || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("Ping with wrong credentials: %v", err)
	}
	if _, err := isometric.NewClient(isometric.ClientConfig{BaseURL: "https://user:pw-SECRET@example.com", AccessToken: "test-token-a", ClientSecret: "test-secret-b"}); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("URL with user info: err = %v", err)
	}
}

func TestRetriesTransientFailuresThenSucceeds(t *testing.T) {
	var n atomic.Int64
	c, hits := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			jsonBody(w, 429, `{"detail":"Too many requests"}`)
		case 2:
			w.WriteHeader(502)
		case 3:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			fmt.Fprint(w, "<h1>upstream connect error</h1>")
		default:
			jsonBody(w, 200, `{"id":"ctb_1DRBTYA8Q1S07CBY","status":"active","size":{"credit_kgs":5,"credits":0.005}}`)
		}
	})
	b, err := c.CreditBatch(context.Background(), "ctb_1DRBTYA8Q1S07CBY")
	if err != nil {
		t.Fatal(err)
	}
	if b.Size.CreditKgs != 5 || hits.Load() != 4 {
		t.Errorf("got %d kg after %d requests, want 5 kg after 4", b.Size.CreditKgs, hits.Load())
	}
	if s := c.Stats(); s.Retries != 3 || s.Requests != 4 {
		t.Errorf("stats = %+v, want 4 requests of which 3 retries", s)
	}
}

func TestDoesNotRetryFinalAnswers(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 422, 500} {
		c, hits := upstream(t, func(w http.ResponseWriter, r *http.Request) { jsonBody(w, status, `{"detail":"no"}`) })
		c.CreditBatch(context.Background(), "ctb_1DRBTYA8Q1S07CBY")
		if hits.Load() != 1 {
			t.Errorf("HTTP %d was sent %d times, want once", status, hits.Load())
		}
	}
}

func TestMalformedIDIsNeverSent(t *testing.T) {
	c, hits := upstream(t, func(w http.ResponseWriter, r *http.Request) { jsonBody(w, 200, `{}`) })
	for _, id := range []string{"", "ctb_", "ctb_short", "iss_1DRBTYA8Q1S07CBY", "ctb_1DRBTYA8Q1S07CB/../x", "ctb_1DRBTYA8Q1S07CBY\n", strings.Repeat("ctb_A", 10)} {
		if _, err := c.CreditBatch(context.Background(), id); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", id, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests were sent for malformed ids", hits.Load())
	}
}

func TestTimeoutIsUnavailableAndRetried(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c, _ := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: "test-token-a", ClientSecret: "test-secret-b",
		Timeout: 20 * time.Millisecond, MaxAttempts: 2, BaseBackoff: time.Millisecond})
	_, err := c.CreditBatch(context.Background(), "ctb_1DRBTYA8Q1S07CBY")
	var apiErr *registry.APIError
	if !errors.Is(err, registry.ErrUnavailable) || !errors.As(err, &apiErr) || !apiErr.Timeout || n.Load() != 2 {
		t.Fatalf("err = %v (timeout flag %v) after %d requests; want a timed-out ErrUnavailable after 2", err, apiErr != nil && apiErr.Timeout, n.Load())
	}
}

func TestCancellationStopsTheCall(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, _ := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: "test-token-a", ClientSecret: "test-secret-b"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := c.CreditBatch(ctx, "ctb_1DRBTYA8Q1S07CBY")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestConcurrencyIsBoundedForTheWholeClient(t *testing.T) {
	const limit = 3
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		mu.Lock()
		peak.Store(max(peak.Load(), now))
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		jsonBody(w, 200, `{"id":"ctb_1DRBTYA8Q1S07CBY","status":"split","size":{"credit_kgs":1}}`)
	}))
	defer srv.Close()
	c, _ := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: "test-token-a", ClientSecret: "test-secret-b", Concurrency: limit})
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() { c.CreditBatch(context.Background(), "ctb_1DRBTYA8Q1S07CBY") })
	}
	wg.Wait()
	if peak.Load() > limit {
		t.Errorf("peak in flight = %d, want at most %d", peak.Load(), limit)
	}
	if peak.Load() < 2 {
		t.Errorf("peak in flight = %d: requests were not concurrent at all", peak.Load())
	}
}

func TestPagesThroughAllIssuances(t *testing.T) {
	const total = 123
	c, hits := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		first := 0
		fmt.Sscan(r.URL.Query().Get("first"), &first)
		start := 0
		fmt.Sscanf(r.URL.Query().Get("after"), "c%d", &start)
		if first > 50 {
			jsonBody(w, 422, `{"detail":[{"loc":["query","first"],"msg":"too large","type":"x"}]}`)
			return
		}
		var nodes []string
		end := min(start+first, total)
		for i := start; i < end; i++ {
			nodes = append(nodes, fmt.Sprintf(`{"id":"iss_1%015d","project_id":"prj_1CTWZQGKE1S0VAXA","reporting_period_start_at":"2025-01-01","reporting_period_end_at":"2025-03-31","credit_batch_size_total":{"credit_kgs":%d,"credits":0}}`, i, i))
		}
		jsonBody(w, 200, fmt.Sprintf(`{"nodes":[%s],"total_count":%d,"page_info":{"has_previous_page":%v,"start_cursor":null,"has_next_page":%v,"end_cursor":"c%d"}}`,
			strings.Join(nodes, ","), total, start > 0, end < total, end))
	})
	all, err := c.AllIssuances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != total || all[total-1].CreditBatchSizeTotal.CreditKgs != total-1 || hits.Load() != 3 {
		t.Errorf("got %d issuances in %d requests, want %d in 3", len(all), hits.Load(), total)
	}
}
