package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func mustPolicy(t testing.TB, s string) Policy {
	t.Helper()
	p, err := ParseAllow(s)
	if err != nil {
		t.Fatalf("ParseAllow(%q): %v", s, err)
	}
	return p
}

// An empty WEBHOOK_ALLOW is the default, and it turns webhooks off: every URL is refused, with
// a sentence that says why rather than naming the host.
func TestEmptyAllowListTurnsWebhooksOff(t *testing.T) {
	for _, s := range []string{"", "  ", ", ,\n"} {
		p := mustPolicy(t, s)
		if p.Enabled() {
			t.Errorf("ParseAllow(%q).Enabled() = true", s)
		}
		err := p.CheckURL("https://hooks.example.com/x")
		if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "turned off") {
			t.Errorf("ParseAllow(%q).CheckURL = %v, want webhooks turned off", s, err)
		}
	}
}

func TestAllowListBadEntryIsNamed(t *testing.T) {
	for _, entry := range []string{
		"https://hooks.example.com/x", // a URL, not a host
		"hooks.example.com:443",       // a port
		"10.0.0.0/33",                 // not a CIDR
		"0.0.0.0/0",                   // everything
		"::/0",
		"*",     // a bare wildcard
		"*.com", // a whole TLD
		"a.*.example.com",
		"hooks_1.example.com", // not a host name
		"-bad.example.com",
		"bücher.example", // not in its xn-- form
		"127.1",          // a resolver's IPv4 shorthand
		"2130706433",     // likewise
		"fe80::1%eth0",   // a zone
		"user@hooks.example.com",
	} {
		_, err := ParseAllow("hooks.example.com, " + entry + " 192.0.2.0/24")
		if err == nil {
			t.Errorf("ParseAllow accepted %q", entry)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(entry)) || !strings.HasPrefix(err.Error(), "WEBHOOK_ALLOW: ") {
			t.Errorf("ParseAllow error for %q does not name it: %v", entry, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	p := mustPolicy(t, "hooks.example.com, *.receivers.example.net  10.20.0.0/16 2001:db8:1::/48 198.51.100.7")
	cases := []struct {
		url  string
		want error // nil: accepted
	}{
		{"https://hooks.example.com/lineage", nil},
		{"https://HOOKS.Example.com./lineage?token=abc", nil},
		{"http://hooks.example.com:8080/lineage", nil}, // listed exactly: http too
		{"https://a.receivers.example.net/x", nil},
		{"https://a.b.receivers.example.net/x", nil},
		{"http://a.receivers.example.net/x", ErrNotAllowed}, // a wildcard allows https only
		{"https://receivers.example.net/x", ErrNotAllowed},  // the wildcard's base is not under it
		{"https://evilreceivers.example.net/x", ErrNotAllowed},
		{"https://hooks.example.com.evil.test/x", ErrNotAllowed},
		{"https://10.20.3.4/x", nil},
		{"http://10.20.3.4:9000/x", nil},
		{"https://10.21.3.4/x", ErrNotAllowed},
		{"https://[2001:db8:1::5]/x", nil},
		{"https://[::ffff:10.20.3.4]/x", nil}, // the same address, IPv4-mapped
		{"https://198.51.100.7/x", nil},
		{"https://198.51.100.8/x", ErrNotAllowed},
		{"https://127.0.0.1/x", ErrNotAllowed},
		{"https://[::ffff:127.0.0.1]/x", ErrNotAllowed},
		{"https://169.254.169.254/latest/meta-data", ErrNotAllowed},
		{"https://other.example.com/x", ErrNotAllowed},
		{"ftp://hooks.example.com/x", ErrBadURL},
		{"hooks.example.com/x", ErrBadURL},
		{"//hooks.example.com/x", ErrBadURL},
		{"https:hooks.example.com", ErrBadURL},
		{"https://user:pw@hooks.example.com/x", ErrBadURL},
		{"https://user@hooks.example.com/x", ErrBadURL},
		{"https:///x", ErrBadURL},
		{"https://hooks.example.com:0/x", ErrBadURL},
		{"https://hooks.example.com:99999/x", ErrBadURL},
		{"https://[fe80::1%25eth0]/x", ErrBadURL},
		{"https://0x7f.0.0.1/x", ErrBadURL},
		{"https://2130706433/x", ErrBadURL},
		{"https://hooks.example.com/" + strings.Repeat("a", 3000), ErrBadURL},
		{"", ErrBadURL},
	}
	for _, c := range cases {
		err := p.CheckURL(c.url)
		if c.want == nil && err != nil {
			t.Errorf("CheckURL(%.60q) = %v, want accepted", c.url, err)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("CheckURL(%.60q) = %v, want %v", c.url, err, c.want)
		}
	}
}

// A form shows CheckURL's error back to the user: it must not repeat the query string, where a
// receiver's token often is.
func TestCheckURLErrorLeavesOutTheQuery(t *testing.T) {
	p := mustPolicy(t, "hooks.example.com")
	for _, u := range []string{
		"https://other.example.com/x?token=s3cr3t-t0ken",
		"http://user:s3cr3t-t0ken@hooks.example.com/x",
		"ftp://hooks.example.com/x?token=s3cr3t-t0ken",
	} {
		err := p.CheckURL(u)
		if err == nil {
			t.Fatalf("CheckURL(%q) accepted", u)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("CheckURL(%q) error repeats the token: %v", u, err)
		}
	}
}

// FuzzParseAllow: any WEBHOOK_ALLOW either names its bad entry or gives a policy that String
// writes back to the same policy, and no URL check on it panics.
func FuzzParseAllow(f *testing.F) {
	for _, s := range []string{
		"", "hooks.example.com", "*.example.com, 10.0.0.0/8", "127.0.0.1 ::1 fd00::/8",
		"[::1]", "0.0.0.0/0", "HOOKS.EXAMPLE.COM.", "a,,b\tc\nd", "*.", "1.2.3.4/32/1",
		"::ffff:127.0.0.1", "fe80::1%eth0", "xn--bcher-kva.example", "*.*.example.com",
	} {
		f.Add(s)
	}
	urls := []string{
		"https://hooks.example.com/x", "http://127.0.0.1:8080/", "https://[::ffff:127.0.0.1]/",
		"https://a.example.com/x?q=1", "http://[fd00::1]:1/",
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseAllow(s)
		if err != nil {
			named := false
			for _, e := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(", \t\n\r", r) }) {
				if strings.Contains(err.Error(), strconv.Quote(e)) {
					named = true
					break
				}
			}
			if !named {
				t.Fatalf("ParseAllow(%q) error names no entry: %v", s, err)
			}
			return
		}
		again, err := ParseAllow(p.String())
		if err != nil {
			t.Fatalf("ParseAllow(%q).String() = %q does not parse: %v", s, p.String(), err)
		}
		if again.String() != p.String() {
			t.Fatalf("round trip of %q: %q then %q", s, p.String(), again.String())
		}
		if p.Enabled() != (strings.TrimSpace(strings.ReplaceAll(s, ",", "")) != "") {
			t.Fatalf("ParseAllow(%q).Enabled() = %v", s, p.Enabled())
		}
		for _, u := range urls {
			_ = p.CheckURL(u)
		}
	})
}
