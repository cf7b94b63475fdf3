// Package webhook sends the explorer's notifications: a JSON body POSTed to a URL a user gave,
// signed with HMAC-SHA256, retried with backoff, each delivery reported as a Delivery for the
// caller to record. It knows nothing of watch lists, handlers or HTML.
//
// A webhook is a request the server makes on a user's word, so every destination passes the
// operator's policy (WEBHOOK_ALLOW, read by ParseAllow) twice: when the user enters the URL
// (Policy.CheckURL, which needs no DNS) and on the address actually dialled, at every attempt.
//
// The rule, in full:
//
//   - WEBHOOK_ALLOW lists host names (exact, or "*.example.com" for the names under
//     example.com, not example.com itself) and CIDRs or single addresses (IPv4 or IPv6). Empty
//     allows nothing: webhooks are off.
//   - A URL is accepted when its scheme is https, it carries no user name or password, and its
//     host is a listed name, a name under a listed wildcard, or an IP literal inside a listed
//     CIDR. http is accepted only for a host listed exactly (a name listed as itself, or an IP
//     literal inside a listed CIDR), never through a wildcard.
//   - At each attempt the host is resolved once, and every address it resolves to must pass;
//     the connection is then made to those addresses only, and the address being dialled is
//     checked again in net.Dialer.ControlContext, so a second answer from DNS (rebinding)
//     never reaches a socket.
//   - An address passes when it lies inside a listed CIDR, or when it is a public unicast
//     address. Loopback, link-local (169.254.169.254, the cloud metadata address, among them),
//     private (RFC 1918, fc00::/7), unspecified, multicast, shared (100.64.0.0/10), reserved
//     and documentation ranges, and the IPv6 ranges that hand an IPv4 address to a gateway
//     (IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are
//     refused. An IPv4-mapped address (::ffff:127.0.0.1) is judged as the IPv4 address it
//     carries, both against these classes and against the CIDRs. A listed host name does not
//     by itself allow a private address it resolves to: only a CIDR that contains the address
//     does.
//   - Redirects are not followed: a 3xx is a failed delivery, recorded as such. Proxies from
//     the environment are not used. Each attempt has a short timeout, and the whole delivery
//     a bound; at most a few KB of a response are read.
//
// Secrets never appear in a Delivery's error: neither the signing secret nor the URL's path
// and query, which often hold a token; the URL is shown cut after its host ("https://host/…"),
// and anything of them a receiver echoes is written "[redacted]".
package webhook
