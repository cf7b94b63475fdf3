package handlers

// The parsing that the sign-in settings share with the proxy's headers: lists split on a
// separator, printable values, and the trusted proxies' networks.

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}

// SplitList splits a comma-separated setting (AUTH_ALLOW_EMAILS, TRUSTED_PROXIES), trimmed,
// dropping empty pieces.
func SplitList(s string) []string { return SplitOn(s, ",") }

// SplitOn splits s at every sep, trimmed, dropping empty pieces: groups as the proxy sends
// them, or AUTH_ALLOW_GROUPS, split by AUTH_GROUPS_SEPARATOR.
func SplitOn(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Printable reports whether s holds no control character (a header value or a separator
// must not).
func Printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// ParseCIDRs reads TRUSTED_PROXIES: comma-separated CIDRs or single addresses. It returns an
// error naming the entry at fault; "*" or 0.0.0.0/0 are refused, since trusting every peer
// would let any client claim any identity.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range SplitList(s) {
		var p netip.Prefix
		var err error
		if strings.Contains(part, "/") {
			p, err = netip.ParsePrefix(part)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(part); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR or an address", part)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q would trust every peer; name the proxy's networks", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
