package rediscache

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// urlParams are the query parameters ParseURL accepts. Anything else is an error, so that a
// typo does not silently leave the shared tier talking to the wrong topology.
var urlParams = []string{"addr", "cluster", "master_name", "sentinel_auth"}

// ParseURL reads REDIS_URL into options for go-redis's universal client:
//
//	redis://[[user]:password@]host[:port][/db]      one server (port 6379 and db 0 by default)
//	rediss://…                                      the same over TLS (certificate verified against
//	                                                the system roots, TLS ≥ 1.2; a private CA is
//	                                                added with SSL_CERT_FILE or SSL_CERT_DIR)
//	…?addr=host2:port&addr=host3:port               more seed nodes: a Redis Cluster
//	…?cluster=true                                  a Cluster reached through one seed node
//	…?master_name=mymaster[&addr=…]                 Sentinel: host (and addr) are the sentinels
//
// With Sentinel the URL's credentials authenticate to the master and its replicas; the sentinels
// are contacted without them unless sentinel_auth=true. A Cluster has only db 0. Timeouts and
// pool sizes are not taken from the URL: Open sets them (Config.Timeout).
//
// Errors never contain the password: the URL is shown redacted, and the parser's own message only
// when the URL has no userinfo.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL %s: %s", redactRaw(raw), parseErrorText(raw, err))
	}
	safe := redactURL(u)
	switch u.Scheme {
	case "redis", "rediss":
	default:
		return nil, fmt.Errorf("REDIS_URL %s: scheme must be redis:// or rediss://", safe)
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("REDIS_URL %s: expected redis://host:port/db", safe)
	}
	q := u.Query()
	for k := range q {
		if !slices.Contains(urlParams, k) {
			return nil, fmt.Errorf("REDIS_URL %s: unknown parameter %q (known: %s)", safe, k, strings.Join(urlParams, ", "))
		}
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, fmt.Errorf("REDIS_URL %s: no host", safe)
	}
	if port == "" {
		port = "6379"
	}
	o := &redis.UniversalOptions{Addrs: []string{net.JoinHostPort(host, port)}}
	for _, a := range q["addr"] {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("REDIS_URL %s: addr %q is not host:port", safe, a)
		}
		o.Addrs = append(o.Addrs, a)
	}
	if u.User != nil {
		o.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			o.Password = p
		} else {
			// redis://secret@host: like go-redis's own ParseURL, a lone userinfo is the password
			// of the default user (the form requirepass deployments use).
			o.Username, o.Password = "", u.User.Username()
		}
	}
	switch path := strings.Trim(u.Path, "/"); {
	case path == "":
	case strings.Contains(path, "/"):
		return nil, fmt.Errorf("REDIS_URL %s: path must be /db", safe)
	default:
		if o.DB, err = strconv.Atoi(path); err != nil || o.DB < 0 {
			return nil, fmt.Errorf("REDIS_URL %s: database %q is not a number", safe, path)
		}
	}
	if o.IsClusterMode, err = boolParam(q, "cluster"); err != nil {
		return nil, fmt.Errorf("REDIS_URL %s: %w", safe, err)
	}
	o.MasterName = q.Get("master_name")
	sentinelAuth, err := boolParam(q, "sentinel_auth")
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL %s: %w", safe, err)
	}
	if sentinelAuth {
		o.SentinelUsername, o.SentinelPassword = o.Username, o.Password
	}
	if o.MasterName == "" && len(o.Addrs) > 1 {
		o.IsClusterMode = true
	}
	if o.IsClusterMode && o.DB != 0 {
		return nil, fmt.Errorf("REDIS_URL %s: a Redis Cluster has only database 0", safe)
	}
	if u.Scheme == "rediss" {
		o.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", name, v)
	}
	return b, nil
}

// redactURL is the URL with its secret replaced by "xxxxx": the password, or a lone userinfo,
// which is the password too (url.URL.Redacted keeps that one).
func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	r := *u
	if _, ok := u.User.Password(); ok {
		r.User = url.UserPassword(u.User.Username(), "xxxxx")
	} else {
		r.User = url.User("xxxxx")
	}
	return r.String()
}

// redactRaw shows a URL that did not parse without its userinfo, which may hold the password.
func redactRaw(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if strings.Contains(raw, "@") {
			return "(redacted)"
		}
		return strconv.Quote(raw)
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "xxxxx@" + rest[i+1:]
	}
	return strconv.Quote(scheme + "://" + rest)
}

// parseErrorText is what to say of a URL that did not parse: the parser's own words quote parts
// of the URL, which may be parts of the password, so they are used only when there is no
// userinfo at all.
func parseErrorText(raw string, err error) string {
	const hint = "malformed URL (percent-encode any of : / ? # @ in the password)"
	var ue *url.Error
	if strings.Contains(raw, "@") || !errors.As(err, &ue) {
		return hint
	}
	return ue.Err.Error()
}
