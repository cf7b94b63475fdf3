package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// 1. LDAP-backed providers send groups as DNs, whose commas are not list separators: an
// allow-listed DN is matched whole or not at all, never by one of its pieces.
func TestAuthGroupsAreNeverMatchedByAFragment(t *testing.T) {
	const admins = "cn=lineage-admins,ou=groups,dc=corp,dc=example"
	const interns = "cn=interns,ou=groups,dc=corp,dc=example"
	env := map[string]string{"AUTH_MODE": "header", "TRUSTED_PROXIES": "127.0.0.0/8, ::1/128", "AUTH_ALLOW_GROUPS": admins}

	// Split on the default comma, the DN is four fragments: start-up refuses them rather than
	// let "ou=groups" admit every group under it.
	cfg, err := AuthConfigFromEnv(envOf(env))
	if err == nil {
		_, err = NewAuthenticator(context.Background(), cfg)
	}
	if err == nil || !strings.Contains(err.Error(), "AUTH_ALLOW_GROUPS") || !strings.Contains(err.Error(), "AUTH_GROUPS_SEPARATOR") {
		t.Errorf("a DN allow-listed with the comma separator: start-up error %v, want one naming AUTH_ALLOW_GROUPS and AUTH_GROUPS_SEPARATOR", err)
	}

	// Nor can an entry holding the separator ever match whole, or a separator hide in control
	// characters.
	if _, err := NewAuthenticator(context.Background(), AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies,
		GroupsSeparator: ";", AllowGroups: []string{"admins;ops"}}); err == nil || !strings.Contains(err.Error(), "AUTH_ALLOW_GROUPS") {
		t.Errorf("an allow-listed group holding the separator: start-up error %v", err)
	}
	if _, err := AuthConfigFromEnv(envOf(map[string]string{"AUTH_GROUPS_SEPARATOR": "\x00"})); err == nil || !strings.Contains(err.Error(), "AUTH_GROUPS_SEPARATOR") {
		t.Errorf("a control character as separator: %v", err)
	}

	env["AUTH_GROUPS_SEPARATOR"] = ";"
	cfg, err = AuthConfigFromEnv(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.AllowGroups) != 1 || cfg.AllowGroups[0] != admins {
		t.Errorf("AUTH_ALLOW_GROUPS read as %q, want the one DN", cfg.AllowGroups)
	}
	a := newApp(t, appOptions{auth: &cfg})
	for _, tc := range []struct {
		name, groups string
		status       int
	}{
		{"an intern", interns, 403},
		{"a fragment alone", "ou=groups", 403},
		{"a DN's tail", "ou=groups,dc=corp,dc=example", 403},
		{"an admin among others", interns + ";" + admins, 200},
		{"an admin, spaced", " " + admins + " ; " + interns, 200},
	} {
		r := a.getWith(t, "/", http.Header{"X-Forwarded-Email": {"intern@other.example"}, "X-Forwarded-Groups": {tc.groups}})
		if r.status != tc.status {
			t.Errorf("%s (%q): status %d, want %d", tc.name, tc.groups, r.status, tc.status)
		}
		if tc.status == 403 && !strings.Contains(r.body, "allow-list") {
			t.Errorf("%s: the refusal does not say why: %.300s", tc.name, r.body)
		}
	}
}
