package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// shared is one registry for the tests that do not change its options: building is cheap, but
// there is no need to do it per test.
var shared = sync.OnceValue(func() *demo.Registry { return demo.New(demo.Options{}) })

// specChecker sends real HTTP requests to a demo server and validates the answers against the
// upstream's OpenAPI description.
type specChecker struct {
	base   string
	router routers.Router
}

func newSpecChecker(t *testing.T, base string) *specChecker {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/isometric-registry-openapi.json")
	if err != nil {
		t.Fatalf("loading the OpenAPI description: %v", err)
	}
	// Quirk: the description's decimal patterns (on Stripe schemas the demo does not serve) use
	// a lookahead, "(?!", which Go's regexp cannot compile; patterns are not checked here.
	if err := doc.Validate(loader.Context, openapi3.DisableSchemaPatternValidation()); err != nil {
		t.Fatalf("the OpenAPI description does not validate: %v", err)
	}
	// The description's servers are the production and sandbox URLs; route against ours.
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc, openapi3.DisableSchemaPatternValidation())
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &specChecker{base: base, router: router}
}

func authed(req *http.Request) *http.Request {
	req.Header.Set("Authorization", "Bearer "+demo.AccessToken)
	req.Header.Set("x-client-secret", demo.ClientSecret)
	return req
}

// get sends GET base+pathQuery with the demo credentials, checks the status and validates the
// request and the response against the description. Statuses the description does not list
// (404) must carry FastAPI's {"detail": "..."} instead.
func (c *specChecker) get(t *testing.T, pathQuery string, wantStatus int) []byte {
	t.Helper()
	return c.check(t, pathQuery, wantStatus, false)
}

// check is get; beyondSpec says that the demo rejects the request (422) on a rule the
// description does not state, as upstream does: an id's prefix and alphabet (the description
// only bounds its length), or a cursor it did not issue (the description says "opaque string").
func (c *specChecker) check(t *testing.T, pathQuery string, wantStatus int, beyondSpec bool) []byte {
	t.Helper()
	req := authed(httptestRequest(t, c.base+pathQuery))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", pathQuery, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d; body %.300s", pathQuery, resp.StatusCode, wantStatus, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", pathQuery, ct)
	}

	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("GET %s: no route in the description: %v", pathQuery, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	// A request the demo rejects with 422 is one the description rejects too, unless the rule
	// is beyond it.
	if err := openapi3filter.ValidateRequest(context.Background(), in); (err != nil) != (wantStatus == http.StatusUnprocessableEntity) &&
		!beyondSpec {
		t.Errorf("GET %s: request validation disagrees with status %d: %v", pathQuery, wantStatus, err)
	}

	documented := wantStatus == http.StatusOK || wantStatus == http.StatusUnprocessableEntity
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: documented, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("GET %s: response does not match the description: %v", pathQuery, err)
	}
	if !documented {
		var d struct {
			Detail *string `json:"detail"`
		}
		if err := json.Unmarshal(body, &d); err != nil || d.Detail == nil {
			t.Errorf("GET %s: %d body %s is not {\"detail\": \"...\"}", pathQuery, wantStatus, body)
		}
	}
	return body
}

func httptestRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestResponsesMatchOpenAPI(t *testing.T) {
	r := shared()
	f := r.Fixtures()
	c := newSpecChecker(t, demo.NewTestServer(t, r))
	root, _ := r.Batch(f.HugeRoot)
	peel, _ := r.Batch(f.DeepChainRoot)
	allFinal, _ := r.Batch(f.AllFinalRoot)
	const unknownBatch = "ctb_1000000000000000"

	cases := []struct {
		name, path string
		status     int
		beyondSpec bool
	}{
		{"split root", "/credit_batches/" + f.DeepChainRoot, 200, false},
		{"retired peel", "/credit_batches/" + peel.LeftChildID, 200, false},
		{"active tip", "/credit_batches/" + f.DeepChainLeaf, 200, false},
		{"delivered child", "/credit_batches/" + root.LeftChildID, 200, false},
		{"all final", "/credit_batches/" + allFinal.LeftChildID, 200, false},
		{"big kg", "/credit_batches/" + f.BigKgRoot, 200, false},
		{"hostile owner", "/credit_batches/" + f.HostileOrgBatch, 200, false},
		{"planted dangling", "/credit_batches/" + f.DanglingChild, 200, false},
		{"planted bad status", "/credit_batches/" + f.BadStatus, 200, false},
		{"unknown batch", "/credit_batches/" + unknownBatch, 404, false},
		{"short id", "/credit_batches/ctb_1ABC", 422, false},
		{"wrong prefix", "/credit_batches/" + strings.Replace(f.DeepChainRoot, "ctb", "iss", 1), 422, true},
		{"long id", "/credit_batches/ctb_" + strings.Repeat("A", 34), 422, false},
		{"punctuation", "/credit_batches/ctb_1DRBTYA8Q1S07CB-", 422, true},

		{"issuances", "/issuances", 200, false},
		{"issuances first=50", "/issuances?first=50", 200, false},
		{"issuances first=51", "/issuances?first=51", 422, false},
		{"issuances first=0", "/issuances?first=0", 422, false},
		{"issuances last", "/issuances?last=5", 200, false},
		{"issuances bad cursor", "/issuances?after=not-a-cursor", 422, true},
		{"issuance", "/issuances/" + f.Issuance, 200, false},
		{"big kg issuance", "/issuances/" + mustIssuance(t, r, f.BigKgRoot), 200, false},
		{"unknown issuance", "/issuances/iss_1000000000000000", 404, false},
		{"malformed issuance", "/issuances/" + f.DeepChainRoot, 422, true},
		{"issuance batches", "/issuances/" + f.Issuance + "/credit_batches", 200, false},
		{"planted issuance batches", "/issuances/" + f.PlantedIssuance + "/credit_batches", 200, false},
		{"unknown issuance batches", "/issuances/iss_1000000000000000/credit_batches", 404, false},
		{"malformed issuance batches", "/issuances/iss_x/credit_batches", 422, false},

		{"retirement", "/retirements/" + f.Retirement, 200, false},
		{"hostile retirement", "/retirements/" + f.HostileRetirement, 200, false},
		{"unknown retirement", "/retirements/ret_1000000000000000", 404, false},
		{"malformed retirement", "/retirements/ret_", 422, false},
		{"retirement batches", "/retirements/" + f.Retirement + "/credit_batches", 200, false},
		{"unknown retirement batches", "/retirements/ret_1000000000000000/credit_batches", 404, false},
		{"malformed retirement batches", "/retirements/ret_x/credit_batches", 422, false},
		{"wrong-prefix retirement batches", "/retirements/" + strings.Replace(f.Retirement, "ret", "dlv", 1) + "/credit_batches", 422, true},

		{"delivery batches", "/deliveries/" + f.Delivery + "/credit_batches", 200, false},
		{"unknown delivery batches", "/deliveries/dlv_1000000000000000/credit_batches", 404, false},
		{"malformed delivery batches", "/deliveries/dlv_x/credit_batches", 422, false},
		{"wrong-prefix delivery batches", "/deliveries/" + strings.Replace(f.Delivery, "dlv", "ret", 1) + "/credit_batches", 422, true},

		{"org batches", "/organisations/" + f.Organisation + "/credit_batches", 200, false},
		{"org batches page", "/organisations/" + f.Organisation + "/credit_batches?first=50&sort_direction=asc&sort_field=issued_at", 200, false},
		{"org batches statuses", "/organisations/" + f.Organisation + "/credit_batches?status=split&status=retired&first=50", 200, false},
		{"org batches filters", "/organisations/" + f.Organisation + "/credit_batches?issued_after=2024-01-01T00:00:00Z&issued_before=2030-01-01T00:00:00Z&retirement_id=" + f.Retirement, 200, false},
		{"org batches issuance", "/organisations/" + f.Organisation + "/credit_batches?issuance_id=" + f.Issuance + "&supplier_id=" + f.Supplier, 200, false},
		{"org batches delivery", "/organisations/" + f.Organisation + "/credit_batches?status=split&delivery_id=" + f.Delivery, 200, false},
		{"org batches bad delivery", "/organisations/" + f.Organisation + "/credit_batches?delivery_id=dlv_x", 422, false},
		{"org batches bad retirement", "/organisations/" + f.Organisation + "/credit_batches?retirement_id=ret_x", 422, false},
		{"org batches bad status", "/organisations/" + f.Organisation + "/credit_batches?status=burnt", 422, false},
		{"org batches bad date", "/organisations/" + f.Organisation + "/credit_batches?issued_after=yesterday", 422, false},
		{"org batches first=100", "/organisations/" + f.Organisation + "/credit_batches?first=100", 422, false},
		{"unknown org", "/organisations/org_1000000000000000/credit_batches", 404, false},
		{"malformed org", "/organisations/" + f.Project + "/credit_batches", 422, true},

		{"organisation", "/organisations/" + f.Organisation, 200, false},
		{"hostile organisation", "/organisations/" + mustOwner(t, r, f.HostileOrgBatch), 200, false},
		{"unknown organisation", "/organisations/org_1000000000000000", 404, false},
		{"malformed organisation", "/organisations/" + f.Project, 422, true},
		{"org balance", "/organisations/" + f.Organisation + "/credit_balance", 200, false},
		{"unbalanced org balance", "/organisations/" + f.UnbalancedOrganisation + "/credit_balance", 200, false},
		{"unknown org balance", "/organisations/org_1000000000000000/credit_balance", 404, false},
		{"supplier issuances", "/suppliers/" + f.Supplier + "/issuances?first=50", 200, false},
		{"supplier issuances page", "/suppliers/" + f.Supplier + "/issuances?first=2", 200, false},
		{"supplier issuances first=51", "/suppliers/" + f.Supplier + "/issuances?first=51", 422, false},
		{"unknown supplier issuances", "/suppliers/spl_1000000000000000/issuances", 404, false},

		{"projects", "/projects?first=50", 200, false},
		{"project", "/projects/" + f.Project, 200, false},
		{"unknown project", "/projects/prj_1000000000000000", 404, false},
		{"supplier", "/suppliers/" + f.Supplier, 200, false},
		{"unknown supplier", "/suppliers/spl_1000000000000000", 404, false},
		{"malformed supplier", "/suppliers/spl_1DRBTYA8Q1S07C%20B", 422, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { c.check(t, tc.path, tc.status, tc.beyondSpec) })
	}

	// Every supplier, project and a page of every list must validate, not just the fixtures.
	t.Run("every project and supplier", func(t *testing.T) {
		var page struct {
			Nodes []struct {
				ID       string `json:"id"`
				Supplier struct {
					ID string `json:"id"`
				} `json:"supplier"`
			} `json:"nodes"`
		}
		if err := json.Unmarshal(c.get(t, "/projects?first=50", 200), &page); err != nil || len(page.Nodes) < 4 {
			t.Fatalf("projects: %v, %d nodes", err, len(page.Nodes))
		}
		for _, p := range page.Nodes {
			c.get(t, "/projects/"+p.ID, 200)
			c.get(t, "/suppliers/"+p.Supplier.ID, 200)
		}
	})
}

func mustIssuance(t *testing.T, r *demo.Registry, batchID string) string {
	t.Helper()
	b, ok := r.Batch(batchID)
	if !ok {
		t.Fatalf("no batch %s", batchID)
	}
	return b.IssuanceID
}

func mustOwner(t *testing.T, r *demo.Registry, batchID string) string {
	t.Helper()
	b, ok := r.Batch(batchID)
	if !ok {
		t.Fatalf("no batch %s", batchID)
	}
	return b.Owner.ID
}
