package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
)

// Issue 14, point 6: every JSON the explorer writes gives a quantity one shape, kg as JSON
// integers and credits as exact decimal strings, and never a JSON number with a fraction or an
// exponent, which consumers read through a float64 (9007199378468.366 would become …468.365).

// jsonFloats returns the paths of the JSON numbers in v that are not integers, and of "credits"
// members that are not strings.
func jsonFloats(v any, path string) []string {
	var bad []string
	switch v := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			bad = append(bad, path+" = "+string(v))
		}
	case map[string]any:
		for k, x := range v {
			if _, isString := x.(string); (k == "credits" || strings.HasSuffix(k, "_credits")) && !isString && x != nil {
				bad = append(bad, path+"."+k+" is not a string")
			}
			bad = append(bad, jsonFloats(x, path+"."+k)...)
		}
	case []any:
		for i, x := range v {
			bad = append(bad, jsonFloats(x, path+"["+strconv.Itoa(i)+"]")...)
		}
	}
	return bad
}

func TestEveryJSONRouteWritesQuantitiesWithoutFloats(t *testing.T) {
	journal := openJournal(t)
	a := newApp(t, appOptions{history: journal})
	big, _ := a.reg.Batch(a.fx.BigKgRoot) // over 2^53 kg: a float on the way loses units
	half, _ := a.reg.Batch(big.LeftChildID)
	// The tree walked and recorded first, so that its history has events with kg to write.
	a.get(t, "/api/v1/batches/"+a.fx.BigKgRoot+"/lineage")
	flushJournal(t, journal)
	values := map[string]string{
		"/api/v1/batches/:id/lineage": "/api/v1/batches/" + a.fx.BigKgRoot + "/lineage",
		"/api/v1/batches/:id/history": "/api/v1/batches/" + a.fx.BigKgRoot + "/history",
		"/api/v1/serial/:serial":      "/api/v1/serial/" + half.SerialNumber,
		"/api/v1/issuances/:id":       "/api/v1/issuances/" + big.IssuanceID,
		"/api/v1/retirements/:id":     "/api/v1/retirements/" + a.fx.Retirement,
		"/api/v1/projects/:id":        "/api/v1/projects/" + big.ProjectID,
		"/api/v1/organisations/:id":   "/api/v1/organisations/" + big.Owner.ID,
		"/api/v1/claims/:id":          "/api/v1/claims/" + claimsResultID(t, a, big),
	}
	// Routes that need more than this app has are tried by the test named, with jsonFloats.
	triedElsewhere := map[string]string{"/api/v1/watches": "TestWatchesJSONWritesQuantitiesWithoutFloats: it needs the watch poller"}
	// Every route of the application, as server.go registers them: each one under /api/ must
	// be tried here, so that a JSON route added later is covered or fails this test.
	routes := (&server{explorer: a.explorer}).routes().Routes()
	tried := 0
	for _, rt := range routes {
		if rt.Method != http.MethodGet || !strings.HasPrefix(rt.Path, apiPrefix+"/") {
			continue
		}
		if _, ok := triedElsewhere[rt.Path]; ok {
			continue
		}
		path, ok := values[rt.Path]
		if !ok {
			t.Errorf("JSON route %s is not tried by this test: add a value for it", rt.Path)
			continue
		}
		tried++
		// The answer itself, then its error answers (malformed and unknown ids).
		for _, p := range []string{path, strings.Replace(path, strings.Split(strings.TrimPrefix(path, apiPrefix+"/"), "/")[1], "bad", 1)} {
			r := a.get(t, p)
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("GET %s: %d %s", p, r.status, r.header.Get("Content-Type"))
				continue
			}
			if p == path && r.status != http.StatusOK {
				t.Errorf("GET %s: %d %s", p, r.status, head(r.body, 300))
			}
			dec := json.NewDecoder(bytes.NewReader([]byte(r.body)))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
			for _, b := range jsonFloats(v, "") {
				t.Errorf("GET %s: %s", p, b)
			}
		}
	}
	if tried != len(values) {
		t.Errorf("tried %d JSON routes, expected %d", tried, len(values))
	}
	// The size over 2^53 is there, exact, in both shapes.
	r := a.get(t, "/api/v1/issuances/"+big.IssuanceID)
	kg := strconv.FormatInt(big.Size.CreditKgs, 10)
	if !strings.Contains(r.body, `"credit_kgs": `+kg) || !strings.Contains(r.body, `"credits": "`+kg[:len(kg)-3]+"."+kg[len(kg)-3:]) {
		t.Errorf("the issuance JSON does not carry %s kg exactly, kg as an integer and credits as a string", kg)
	}
}

// claimsResultID checks a one-row list claiming big (kg past 2^53) and returns its result's id.
func claimsResultID(t *testing.T, a *testApp, big registry.CreditBatch) string {
	t.Helper()
	body := fmt.Sprintf(`[{"batch": %q, "kg": %d}]`, big.ID, big.Size.CreditKgs)
	r := a.post(t, "/api/v1/claims", "application/json", []byte(body), nil)
	var ans struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.body), &ans); err != nil || r.status != http.StatusOK || ans.ID == "" {
		t.Fatalf("POST /api/v1/claims: %d %v %.200s", r.status, err, r.body)
	}
	return ans.ID
}
