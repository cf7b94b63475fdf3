package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// ErrNotAllowed is what every refusal by the policy wraps: a URL whose host WEBHOOK_ALLOW does
// not list, and an address a host resolves to that it does not allow. Such a delivery is not
// retried.
var ErrNotAllowed = errors.New("not allowed by WEBHOOK_ALLOW")

// ErrBadURL is what CheckURL's errors about the URL's own shape wrap (scheme, user name,
// host syntax), as opposed to ErrNotAllowed.
var ErrBadURL = errors.New("not a usable webhook URL")

// maxURLLen bounds a webhook URL: a longer one is no receiver's address, and it would be stored
// and shown with the watch list.
const maxURLLen = 2048

// Policy is the operator's allow-list of webhook destinations (WEBHOOK_ALLOW), as ParseAllow
// reads it. The zero Policy allows nothing. A Policy is not changed after ParseAllow, so one
// value may be shared by any number of goroutines.
type Policy struct {
	// names are host names allowed exactly, lower case, without a trailing dot.
	names []string
	// suffixes are the wildcards' bases, "example.com" for "*.example.com".
	suffixes []string
	// nets are the allowed CIDRs, masked; a single address is a /32 or /128.
	nets []netip.Prefix
}

// ParseAllow reads WEBHOOK_ALLOW: entries separated by commas or white space, each a host name
// ("hooks.example.com"), a wildcard for the names under a domain ("*.example.com", which does
// not match example.com itself and needs at least two labels after "*."), a CIDR
// ("10.20.0.0/16", "fd00:1::/64") or a single address ("192.0.2.7"). Names are compared without
// regard to case and to a trailing dot; non-ASCII names are written in their xn-- form. An
// empty string gives the zero Policy: webhooks off. An error names the entry at fault; the
// whole list is refused, so that a typo never widens or silently narrows what is allowed.
func ParseAllow(s string) (Policy, error) {
	var p Policy
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		if err := p.add(entry); err != nil {
			return Policy{}, fmt.Errorf("WEBHOOK_ALLOW: %q: %w", entry, err)
		}
	}
	return p, nil
}

func (p *Policy) add(entry string) error {
	if strings.Contains(entry, "://") || strings.ContainsAny(entry, "?#@") {
		return errors.New("name a host or a CIDR, not a URL")
	}
	if strings.Contains(entry, "/") {
		pfx, err := netip.ParsePrefix(entry)
		if err != nil {
			return errors.New("not a CIDR (such as 10.20.0.0/16 or fd00:1::/64)")
		}
		if pfx.Bits() == 0 {
			return errors.New("would allow every address, loopback and cloud metadata included; name the receivers' networks")
		}
		p.nets = append(p.nets, pfx.Masked())
		return nil
	}
	if a, err := netip.ParseAddr(strings.Trim(entry, "[]")); err == nil {
		if a.Zone() != "" {
			return errors.New("an address with a zone cannot be allowed")
		}
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
		return nil
	}
	if base, ok := strings.CutPrefix(entry, "*."); ok {
		base = canonicalName(base)
		if err := checkName(base); err != nil {
			return err
		}
		if !strings.Contains(base, ".") {
			return errors.New("a wildcard over a whole top-level domain is too wide; name the receivers' domain, such as *.example.com")
		}
		p.suffixes = append(p.suffixes, base)
		return nil
	}
	if strings.Contains(entry, "*") {
		return errors.New(`a wildcard is only "*." before a domain, such as *.example.com`)
	}
	if strings.Contains(entry, ":") {
		return errors.New("name a host without a port")
	}
	name := canonicalName(entry)
	if err := checkName(name); err != nil {
		return err
	}
	p.names = append(p.names, name)
	return nil
}

// canonicalName is how names are compared: DNS is blind to case, and "example.com." is
// example.com.
func canonicalName(s string) string {
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// checkName accepts a DNS host name of ASCII letters, digits and hyphens; its error says what
// is wrong with the name. A name whose last label is all digits is refused: it is no real
// domain, and some resolvers read "127.1" or "2130706433" as an IPv4 address.
func checkName(name string) error {
	if name == "" || len(name) > 253 {
		return errors.New("not a host name: empty or longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("not a host name: a part between dots is empty, longer than 63 characters, or starts or ends with a hyphen")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return errors.New("not a host name: only letters, digits, hyphens and dots (write other names in their xn-- form)")
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return errors.New("not a host name nor an IP address written the usual way")
	}
	return nil
}

// Enabled reports whether the policy allows anything at all; with an empty WEBHOOK_ALLOW the
// explorer offers no webhooks.
func (p Policy) Enabled() bool {
	return len(p.names)+len(p.suffixes)+len(p.nets) > 0
}

// String is the policy written back as a WEBHOOK_ALLOW value, canonical (lower case, CIDRs
// masked), for a start-up log line; ParseAllow reads it back to the same policy.
func (p Policy) String() string {
	parts := make([]string, 0, len(p.names)+len(p.suffixes)+len(p.nets))
	parts = append(parts, p.names...)
	for _, s := range p.suffixes {
		parts = append(parts, "*."+s)
	}
	for _, n := range p.nets {
		parts = append(parts, n.String())
	}
	return strings.Join(parts, ",")
}

// CheckURL checks a webhook URL a user entered, without DNS: https (http only for a host the
// policy lists exactly), no user name or password, and a host the policy allows (see the
// package documentation for the rule). Its errors are sentences fit for a form, wrap ErrBadURL
// or ErrNotAllowed, and never repeat the URL's query string. An accepted URL can still fail at
// delivery, when its host resolves to an address the policy refuses.
func (p Policy) CheckURL(raw string) error {
	_, err := p.checkURL(raw)
	return err
}

// checkURL is CheckURL returning the parsed URL for the sender.
func (p Policy) checkURL(raw string) (*url.URL, error) {
	if !p.Enabled() {
		return nil, fmt.Errorf("webhooks are turned off on this explorer (the operator's WEBHOOK_ALLOW is empty): %w", ErrNotAllowed)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("enter the webhook's URL, such as https://hooks.example.com/lineage: %w", ErrBadURL)
	}
	if len(raw) > maxURLLen {
		return nil, fmt.Errorf("the webhook URL is longer than %d characters: %w", maxURLLen, ErrBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return nil, fmt.Errorf("the webhook URL cannot be read as a URL, such as https://hooks.example.com/lineage: %w", ErrBadURL)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("the webhook URL must start with https://: %w", ErrBadURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("the webhook URL must not carry a user name or password; the body is signed with the watch list's secret instead: %w", ErrBadURL)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("the webhook URL has no host: %w", ErrBadURL)
	}
	if port := u.Port(); port != "" && !validPort(port) {
		return nil, fmt.Errorf("the webhook URL's port is not a number from 1 to 65535: %w", ErrBadURL)
	}
	exact, err := p.hostAllowed(host)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" && !exact {
		return nil, fmt.Errorf("the webhook URL must start with https:// (plain http only to a host WEBHOOK_ALLOW names exactly): %w", ErrNotAllowed)
	}
	return u, nil
}

// hostAllowed says whether the policy allows a URL's host (brackets and port removed), and
// whether it does so exactly (a listed name, or an IP literal inside a listed CIDR) rather than
// through a wildcard.
func (p Policy) hostAllowed(host string) (exact bool, err error) {
	if a, perr := netip.ParseAddr(host); perr == nil {
		if a.Zone() != "" {
			return false, fmt.Errorf("the webhook URL's address carries a zone (%%), which is never allowed: %w", ErrBadURL)
		}
		if p.inNets(a) {
			return true, nil
		}
		return false, fmt.Errorf("webhooks to the address %s are not allowed here (the operator's WEBHOOK_ALLOW lists no network holding it): %w", a, ErrNotAllowed)
	}
	name := canonicalName(host)
	if err := checkName(name); err != nil {
		return false, fmt.Errorf("the webhook URL's host is %v: %w", err, ErrBadURL)
	}
	for _, n := range p.names {
		if name == n {
			return true, nil
		}
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(name, "."+s) {
			return false, nil
		}
	}
	return false, fmt.Errorf("webhooks to %s are not allowed here (the operator's WEBHOOK_ALLOW does not list it): %w", name, ErrNotAllowed)
}

// inNets reports whether a listed CIDR holds the address, in either of its IPv6 and IPv4
// spellings, so that 127.0.0.0/8 allows ::ffff:127.0.0.1 as well.
func (p Policy) inNets(a netip.Addr) bool {
	a = a.WithZone("")
	u := a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) || n.Contains(u) {
			return true
		}
	}
	return false
}

func validPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n >= 1 && n <= 65535
}
