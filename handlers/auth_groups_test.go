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
	// Split on the default comma (as AUTH_ALLOW_GROUPS is when AUTH_GROUPS_SEPARATOR is unset),
	// the DN is four fragments: start-up refuses them rather than let "ou=groups" admit every
	// group under it.
	_, err := NewAuthenticator(context.Background(), AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies,
		AllowGroups: SplitList(admins)})
	if err == nil || !strings.Contains(err.Error(), "AUTH_ALLOW_GROUPS") || !strings.Contains(err.Error(), "AUTH_GROUPS_SEPARATOR") {
		t.Errorf("a DN allow-listed with the comma separator: start-up error %v, want one naming AUTH_ALLOW_GROUPS and AUTH_GROUPS_SEPARATOR", err)
	}

	// Nor can an entry holding the separator ever match whole, or a separator hide in control
	// characters.
	if _, err := NewAuthenticator(context.Background(), AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies,
		GroupsSeparator: ";", AllowGroups: []string{"admins;ops"}}); err == nil || !strings.Contains(err.Error(), "AUTH_ALLOW_GROUPS") {
		t.Errorf("an allow-listed group holding the separator: start-up error %v", err)
	}
	cfg := AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies, GroupsSeparator: ";", AllowGroups: SplitOn(admins, ";")}
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
