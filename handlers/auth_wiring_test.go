package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestSignedInUserOnPagesAndInTheAccessLog(t *testing.T) {
	var logs syncBuffer
	a := newApp(t, appOptions{log: &logs, metrics: true, auth: &AuthConfig{Mode: AuthHeader,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}})
	req, _ := http.NewRequest(http.MethodGet, a.url+"/batches/"+a.fx.HostileOrgBatch, nil)
	req.Header.Set("X-Forwarded-Email", `ana<b>@registry.example`)
	req.Header.Set("X-Request-Id", "req-123")
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ana&lt;b&gt;@registry.example") {
		t.Fatalf("status %d; the page does not show the signed-in user escaped", resp.StatusCode)
	}
	if resp.Header.Get("X-Request-Id") != "req-123" {
		t.Errorf("X-Request-Id = %q", resp.Header.Get("X-Request-Id"))
	}
	log := logs.String()
	if !strings.Contains(log, `"user":"ana<b>@registry.example"`) || !strings.Contains(log, `"request_id":"req-123"`) {
		t.Errorf("the access log lacks the user or request id:\n%s", log)
	}
	// Without identity: 401 for pages, while probes and metrics stay reachable.
	for path, want := range map[string]int{"/": 401, "/batches/" + a.fx.WideRoot: 401, "/healthz": 200, "/readyz": 200, "/metrics": 200} {
		resp, err := a.http.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s without identity: %d, want %d", path, resp.StatusCode, want)
		}
		if path == "/metrics" && !strings.Contains(string(b), `lineage_http_requests_total{method="GET",route="/batches/:id",status="200"} 1`) {
			t.Errorf("/metrics does not count the page by route:\n%.2000s", b)
		}
	}
	// A forged id is replaced rather than logged.
	req, _ = http.NewRequest(http.MethodGet, a.url+"/healthz", nil)
	req.Header.Set("X-Request-Id", "x\"}, {\"forged\":1")
	resp, _ = a.http.Do(req)
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, `"{}`) {
		t.Errorf("forged request id came back as %q", got)
	}
}

func TestUntrustedPeerIsRefusedThroughTheRouter(t *testing.T) {
	a := newApp(t, appOptions{auth: &AuthConfig{Mode: AuthHeader, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	req, _ := http.NewRequest(http.MethodGet, a.url+"/", nil)
	req.Header.Set("X-Forwarded-Email", "ana@registry.example")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Requests must come through the sign-in proxy.") {
		t.Errorf("status %d for an untrusted peer claiming an identity", resp.StatusCode)
	}
}

// A tool calling the API through the proxy without a valid identity gets the API's JSON error,
// not the HTML page a browser gets.
func TestRefusedAPICallsAnswerJSON(t *testing.T) {
	a := newApp(t, appOptions{auth: &AuthConfig{Mode: AuthHeader, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	for path, wantJSON := range map[string]bool{"/api/v1/batches/" + a.fx.WideLeafDeep + "/lineage": true, "/batches/" + a.fx.WideLeafDeep: false} {
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("X-Forwarded-Email", "ana@registry.example")
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status int
			Code   string
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		isJSON := err == nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
		if resp.StatusCode != http.StatusForbidden || isJSON != wantJSON || (wantJSON && body.Status != http.StatusForbidden) {
			t.Errorf("%s from an untrusted peer: %d, %s, JSON %v (want %v) %+v", path, resp.StatusCode, resp.Header.Get("Content-Type"), isJSON, wantJSON, body)
		}
	}
}
