package handlers

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// 2. A proxy that appends to a header rather than replacing it passes the client's own copy
// along: the explorer must not pick one of them.
func TestAuthRepeatedIdentityHeadersAreRefused(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg := AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies, AllowEmails: []string{"admin@corp.example"}, Logger: logger}
	a := newApp(t, appOptions{auth: &cfg})
	authelia := newApp(t, appOptions{auth: &AuthConfig{Mode: AuthHeader, Header: "Remote-User", GroupsHeader: "Remote-Groups", TrustedProxies: loopbackProxies, Logger: logger}})
	for _, tc := range []struct {
		name string
		app  *testApp
		h    http.Header
		want string
	}{
		{"the client's copy first", a, http.Header{"X-Forwarded-Email": {"admin@corp.example", "mallory@evil.example"}}, "X-Forwarded-Email"},
		{"the proxy's copy first", a, http.Header{"X-Forwarded-Email": {"mallory@evil.example", "admin@corp.example"}}, "X-Forwarded-Email"},
		{"the same twice", a, http.Header{"X-Forwarded-Email": {"admin@corp.example", "admin@corp.example"}}, "X-Forwarded-Email"},
		{"an empty copy", a, http.Header{"X-Forwarded-Email": {"", "admin@corp.example"}}, "X-Forwarded-Email"},
		{"a list in one line", a, http.Header{"X-Forwarded-Email": {"admin@corp.example, mallory@evil.example"}}, "X-Forwarded-Email"},
		{"groups twice", a, http.Header{"X-Forwarded-Email": {"admin@corp.example"}, "X-Forwarded-Groups": {"analysts", "admins"}}, "X-Forwarded-Groups"},
		{"Authelia's user twice", authelia, http.Header{"Remote-User": {"admin", "mallory"}}, "Remote-User"},
		{"Authelia's user as a list", authelia, http.Header{"Remote-User": {"admin,mallory"}}, "Remote-User"},
	} {
		r := tc.app.getWith(t, "/", tc.h)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, "must replace") {
			t.Errorf("%s: status %d, want 401 naming %s and saying the proxy must replace it; body %.400s", tc.name, r.status, tc.want, pageText(r.body))
		}
		if strings.Contains(r.body, "mallory") {
			t.Errorf("%s: the page repeats a claimed identity", tc.name)
		}
		// The operator learns which header their proxy must replace, from the log too.
		if log := logs.take(); !strings.Contains(log, `"header":"`+tc.want+`"`) || strings.Contains(log, "mallory") {
			t.Errorf("%s: the log does not name %s, or repeats a claimed identity:\n%s", tc.name, tc.want, log)
		}
	}
	// The API answers the same refusal in JSON.
	r := a.getWith(t, "/api/v1/batches/"+a.fx.WideRoot+"/lineage", http.Header{"X-Forwarded-Email": {"admin@corp.example", "mallory@evil.example"}})
	if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("API with a repeated identity header: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// One copy still signs in.
	if r := a.getWith(t, "/", http.Header{"X-Forwarded-Email": {"admin@corp.example"}}); r.status != 200 {
		t.Errorf("a single identity header: status %d", r.status)
	}

	// In jwt mode, the assertion header twice (even the same assertion), or two proxies' headers.
	p := newKeyIDP(t)
	jcfg := p.config()
	jcfg.Logger = logger
	j := newApp(t, appOptions{auth: &jcfg})
	good := p.assertion(t, "k1", p.claims(time.Now()), map[string]any{"email": "ana@corp.example"})
	for name, h := range map[string]http.Header{
		"assertion twice":     {"X-Pomerium-Jwt-Assertion": {good, good}},
		"two proxies' header": {"X-Pomerium-Jwt-Assertion": {good}, "Cf-Access-Jwt-Assertion": {good}},
	} {
		r := j.getWith(t, "/", h)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "must replace") {
			t.Errorf("jwt mode, %s: status %d, want 401 saying the proxy must replace it; body %.400s", name, r.status, pageText(r.body))
		}
		if strings.Contains(r.body, good) || strings.Contains(logs.String(), good) {
			t.Errorf("jwt mode, %s: the page or the log repeats the assertion", name)
		}
	}
	if r := j.getWith(t, "/", pomerium(good)); r.status != 200 {
		t.Errorf("jwt mode, one assertion: status %d", r.status)
	}
}
