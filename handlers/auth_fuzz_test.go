package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzHeaderIdentity feeds header mode identity and groups headers of every shape: repeated,
// empty, list-valued, oversized, DN-valued, with control characters or broken UTF-8. users and
// groups hold a header's copies separated by "\n"; absent says which header is not sent at all
// (bit 0: the user's, bit 1: the groups'). Under plain go test it runs the seeds.
func FuzzHeaderIdentity(f *testing.F) {
	const admins = "cn=lineage-admins,ou=groups,dc=corp,dc=example"
	const interns = "cn=interns,ou=groups,dc=corp,dc=example"
	long := strings.Repeat("a", maxUserLen-len("@corp.example")+1) + "@corp.example"
	for _, s := range []struct {
		users, groups string
		absent        uint8
	}{
		{"ana@corp.example", "", 2},                               // one identity, no groups
		{"intern@other.example", interns, 0},                      // a DN, not allow-listed
		{"intern@other.example", interns + ";" + admins, 0},       // an allow-listed DN among others
		{"intern@other.example", "ou=groups", 0},                  // a fragment alone
		{"intern@other.example", "cn=lineage-admins", 0},          // a DN's first piece alone
		{"admin@corp.example\nmallory@evil.example", "", 2},       // repeated: the client's copy first
		{"mallory@evil.example\nadmin@corp.example", "", 2},       // repeated: the proxy's copy first
		{"\nadmin@corp.example", "", 2},                           // an empty copy, then one
		{"admin@corp.example\n", "", 2},                           // one, then an empty copy
		{"", "", 2},                                               // present but empty
		{"   ", admins, 0},                                        // blank
		{"", "", 3},                                               // nothing at all
		{"", admins, 1},                                           // groups without a user
		{"admin@corp.example, mallory@evil.example", "", 2},       // a list in one line
		{"admin@corp.example,", "", 2},                            // a list of one
		{"intern@other.example", "analysts\n" + admins, 0},        // groups repeated
		{"intern@other.example", ";;" + admins + ";;", 0},         // empty groups around one
		{"intern@other.example", strings.Repeat("g;", 32<<10), 0}, // 64 KiB of groups
		{long, "", 2},                        // one byte over the longest address
		{long[1:], "", 2},                    // the longest address
		{strings.Repeat("x", 64<<10), "", 2}, // 64 KiB of user
		{"ana@corp.example\r\nX-Forwarded-Email: root", "", 2},                  // CR LF smuggled
		{"ana\x00@corp.example", "", 2},                                         // NUL
		{"ana\xff@corp.example", "", 2},                                         // broken UTF-8
		{"ANA@CORP.EXAMPLE", strings.ToUpper(admins), 0},                        // case
		{"eve@corp.example.evil", "", 2},                                        // a domain that only begins like one
		{"eve@evil.example@corp.example", "", 2},                                // two @
		{"intern@other.example", " " + admins + " ", 0},                         // spaces around a group
		{"intern@other.example", admins + "\n" + admins, 0},                     // the same groups twice
		{"intern@other.example", "cn=interns,ou=groups,dc=corp,dc=example,", 0}, // trailing comma
	} {
		f.Add(s.users, s.groups, s.absent)
	}
	a, err := NewAuthenticator(context.Background(), AuthConfig{Mode: AuthHeader, TrustedProxies: loopbackProxies,
		GroupsSeparator: ";", AllowDomains: []string{"corp.example"}, AllowGroups: []string{admins},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, users, groups string, absent uint8) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		userCopies, groupCopies := copies(users, absent&1 != 0), copies(groups, absent&2 != 0)
		for _, v := range userCopies {
			r.Header.Add("X-Forwarded-Email", v)
		}
		for _, v := range groupCopies {
			r.Header.Add("X-Forwarded-Groups", v)
		}
		id, err := a.identify(r)
		if len(userCopies) > 1 || len(groupCopies) > 1 {
			if !errors.Is(err, errUnauthenticated) || !strings.Contains(err.Error(), "must replace") {
				t.Fatalf("%d user and %d groups copies: identified %+v, err %v; want 401 saying the proxy must replace them", len(userCopies), len(groupCopies), id, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, errUnauthenticated) {
				t.Fatalf("refused with %v, want 401", err)
			}
			return
		}
		user := strings.TrimSpace(userCopies[0])
		if id.User != user || user == "" || len(user) > maxUserLen || !utf8.ValidString(user) || !Printable(user) || strings.Contains(user, ",") {
			t.Fatalf("accepted user %q from %q", id.User, userCopies)
		}
		var want []string
		if len(groupCopies) == 1 {
			for _, g := range strings.Split(groupCopies[0], ";") {
				if g = strings.TrimSpace(g); g != "" {
					want = append(want, g)
				}
			}
		}
		if !slices.Equal(id.Groups, want) {
			t.Fatalf("groups %q from %q, want %q", id.Groups, groupCopies, want)
		}
		// Admitted exactly when the domain or a whole group is on the list: never by a piece.
		_, domain, _ := strings.Cut(user, "@")
		byDomain := strings.EqualFold(domain, "corp.example")
		byGroup := slices.ContainsFunc(id.Groups, func(g string) bool { return strings.EqualFold(g, admins) })
		if allowed := a.allowed(id) == nil; allowed != (byDomain || byGroup) {
			t.Fatalf("user %q groups %q: allowed %v, want %v", user, id.Groups, allowed, byDomain || byGroup)
		}
	})
}

// copies are the values of a header sent as the lines of s, or none when it is absent.
func copies(s string, absent bool) []string {
	if absent {
		return nil
	}
	return strings.Split(s, "\n")
}
