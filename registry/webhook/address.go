package webhook

import (
	"fmt"
	"net/netip"
)

// special are the ranges, beyond what netip's predicates name, that are no public unicast
// destination: shared, reserved, documentation and benchmarking space, and the IPv6 ranges
// that carry an IPv4 address to a gateway (which could be a private one).
var special = []struct {
	pfx   netip.Prefix
	class string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard"},
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

// metadata is the cloud providers' instance metadata address, named in refusals because it is
// what an attacker is after.
var metadata = netip.MustParseAddr("169.254.169.254")

// addressClass names what kind of non-public address a is ("loopback", "private", ...), or
// returns "" for a public unicast address. An IPv4-mapped IPv6 address is judged as the IPv4
// address it carries, so that ::ffff:127.0.0.1 is loopback.
func addressClass(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a == metadata:
		return "link-local (cloud metadata)"
	case a.IsMulticast():
		return "multicast"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate():
		return "private"
	}
	if a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "broadcast"
	}
	for _, s := range special {
		if s.pfx.Contains(a) {
			return s.class
		}
	}
	if !a.IsGlobalUnicast() {
		return "non-unicast"
	}
	return ""
}

// checkAddr is the policy's judgement of one address a host resolved to or a dial is about to
// reach: inside a listed CIDR, or public. host is what the user wrote, for the message; the
// address itself is left out of it, because an internal DNS answer is not the user's to learn.
func (p Policy) checkAddr(host string, a netip.Addr) error {
	if p.inNets(a) {
		return nil
	}
	class := addressClass(a)
	if class == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return fmt.Errorf("%s is a %s address, where webhooks may not go unless WEBHOOK_ALLOW lists its network: %w", host, class, ErrNotAllowed)
	}
	return fmt.Errorf("%s resolves to a %s address, where webhooks may not go unless WEBHOOK_ALLOW lists its network: %w", host, class, ErrNotAllowed)
}
