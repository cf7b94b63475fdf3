package handlers

import (
	"strings"
	"testing"
	"time"
)

// 3. An address the provider says it has not verified is anybody's to claim: it admits
// nobody by e-mail or domain.
func TestAuthUnverifiedEmailAdmitsNobodyByAddress(t *testing.T) {
	p := newKeyIDP(t)
	cfg := p.config()
	cfg.AllowDomains = []string{"corp.example"}
	cfg.AllowEmails = []string{"ceo@corp.example"}
	cfg.AllowGroups = []string{"lineage-admins"}
	a := newApp(t, appOptions{auth: &cfg})
	now := time.Now()
	for _, tc := range []struct {
		name   string
		extra  map[string]any
		status int
		want   string
	}{
		{"unverified, by domain", map[string]any{"email": "mallory@corp.example", "email_verified": false}, 403, "unverified"},
		{"unverified, by address", map[string]any{"email": "ceo@corp.example", "email_verified": false}, 403, "unverified"},
		{"unverified as a string", map[string]any{"email": "mallory@corp.example", "email_verified": "false"}, 403, "unverified"},
		{"unverified as null", map[string]any{"email": "mallory@corp.example", "email_verified": nil}, 403, "unverified"},
		{"unverified, admitted by group", map[string]any{"email": "mallory@corp.example", "email_verified": false, "groups": []string{"lineage-admins"}}, 200, ""},
		{"verified", map[string]any{"email": "ana@corp.example", "email_verified": true}, 200, "ana@corp.example"},
		{"verified as a string", map[string]any{"email": "ana@corp.example", "email_verified": "true"}, 200, "ana@corp.example"},
		{"no claim (Cloudflare Access, IAP)", map[string]any{"email": "ana@corp.example"}, 200, "ana@corp.example"},
	} {
		r := a.getWith(t, "/", pomerium(p.assertion(t, "k1", p.claims(now), tc.extra)))
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: status %d, want %d with %q; page %.400s", tc.name, r.status, tc.status, tc.want, pageText(r.body))
		}
		if tc.extra["email_verified"] != true && tc.extra["email_verified"] != "true" && strings.Contains(r.body, "mallory@corp.example") {
			t.Errorf("%s: the page names the user by an address nobody verified", tc.name)
		}
	}
}
