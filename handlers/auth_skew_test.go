package handlers

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// 4. The proxy's clock and ours differ by a few seconds: an assertion just past its exp (or
// just before its nbf) by our clock is still good; beyond ClockLeeway the page says to reload
// and the log says by how much.
func TestAuthClockSkewHasABoundedLeeway(t *testing.T) {
	p := newKeyIDP(t)
	now := time.Unix(time.Now().Unix(), 0) // whole seconds, as exp and nbf are
	var logs syncBuffer
	cfg := p.config()
	cfg.now = func() time.Time { return now }
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	a := newApp(t, appOptions{auth: &cfg})
	at := func(exp, nbf time.Duration) string {
		c := p.claims(now.Add(-10 * time.Minute))
		c.Expiry = jwt.NewNumericDate(now.Add(exp))
		if nbf != 0 {
			c.NotBefore = jwt.NewNumericDate(now.Add(nbf))
		}
		return p.assertion(t, "k1", c, map[string]any{"email": "ana@corp.example"})
	}
	for _, tc := range []struct {
		name     string
		exp, nbf time.Duration
		status   int
		page     string
		log      string
	}{
		{"20 s past exp", -20 * time.Second, 0, 200, "ana@corp.example", ""},
		{"30 s past exp", -30 * time.Second, 0, 200, "ana@corp.example", ""},
		{"31 s past exp", -31 * time.Second, 0, 401, "reload", `"skew":"31s"`},
		{"5 min past exp", -5 * time.Minute, 0, 401, "reload", `"skew":"5m0s"`},
		{"nbf 20 s ahead", time.Hour, 20 * time.Second, 200, "ana@corp.example", ""},
		{"nbf 30 s ahead", time.Hour, 30 * time.Second, 200, "ana@corp.example", ""},
		{"nbf 2 min ahead", time.Hour, 2 * time.Minute, 401, "reload", `"skew":"2m0s"`},
		{"nbf 10 min ahead", time.Hour, 10 * time.Minute, 401, "reload", `"skew":"10m0s"`},
	} {
		raw := at(tc.exp, tc.nbf)
		r := a.getWith(t, "/", pomerium(raw))
		if r.status != tc.status || !strings.Contains(r.body, tc.page) {
			t.Errorf("%s: status %d, want %d with %q; page %.400s", tc.name, r.status, tc.status, tc.page, pageText(r.body))
		}
		if strings.Contains(r.body, "oidc:") || strings.Contains(r.body, raw) {
			t.Errorf("%s: the page shows the library's raw text or the assertion", tc.name)
		}
		log := logs.take()
		if tc.log != "" && !strings.Contains(log, tc.log) {
			t.Errorf("%s: the log does not give the skew %s:\n%s", tc.name, tc.log, log)
		}
		if strings.Contains(log, raw) {
			t.Errorf("%s: the log repeats the assertion", tc.name)
		}
	}
	// Without exp, an assertion would be good for ever: still refused, though no time passed.
	c := p.claims(now)
	c.Expiry = nil
	if r := a.getWith(t, "/", pomerium(p.assertion(t, "k1", c, nil))); r.status != 403 || !strings.Contains(r.body, "no expiry") {
		t.Errorf("no exp: status %d, want 403 saying so", r.status)
	}
}
