package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// hostURL is the receiver's URL with its host replaced by name (port kept), for a test that
// makes name resolve to the receiver's address.
func hostURL(t *testing.T, srvURL, scheme, name string) string {
	t.Helper()
	u, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	return scheme + "://" + name + ":" + u.Port() + "/hook"
}

// A listed host name that resolves to an internal address is refused: only a CIDR allows an
// internal address. The loopback answers would reach the receiver if they were not refused.
func TestHostNameResolvingInternallyRefused(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	for _, c := range []struct{ addr, class string }{
		{"127.0.0.1", "loopback"},
		{"127.5.6.7", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"192.168.1.1", "private"},
		{"fd00:ec2::254", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"169.254.169.254", "cloud metadata"},
		{"::ffff:169.254.169.254", "cloud metadata"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "shared"},
		{"64:ff9b::7f00:1", "NAT64"},
		{"2002:7f00:1::1", "6to4"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"255.255.255.255", "broadcast"},
	} {
		res := resolverFor("hooks.example.com", c.addr)
		s := NewSender(mustPolicy(t, "hooks.example.com"), WithResolver(res), WithSleep((&waits{}).sleep))
		d := s.Deliver(context.Background(), hostURL(t, rc.URL, "http", "hooks.example.com"), testSecret, testBody)
		if d.OK || d.Attempts != 1 || d.Status != 0 {
			t.Errorf("%s: Deliver = %+v, want refused at the first attempt, not retried", c.addr, d)
			continue
		}
		if !strings.Contains(d.Err, c.class) || !strings.Contains(d.Err, "WEBHOOK_ALLOW") {
			t.Errorf("%s: Err = %q, want it to say %s and WEBHOOK_ALLOW", c.addr, d.Err, c.class)
		}
		// The user learns the class, not the internal address their name resolved to.
		if strings.Contains(d.Err, c.addr) {
			t.Errorf("%s: Err repeats the internal address: %q", c.addr, d.Err)
		}
	}
	if rc.count() != 0 {
		t.Errorf("the loopback receiver got %d requests", rc.count())
	}
}

// One internal answer among public ones refuses the host: a name that resolves inside is not
// one to trust with its other answers.
func TestOneInternalAnswerRefusesTheHost(t *testing.T) {
	res := resolverFor("hooks.example.com", "8.8.8.8", "127.0.0.1")
	s := NewSender(mustPolicy(t, "hooks.example.com"), WithResolver(res), WithMaxAttempts(1), WithTimeouts(time.Second, 0))
	d := s.Deliver(context.Background(), "https://hooks.example.com/hook", testSecret, testBody)
	if d.OK || d.Attempts != 1 || !strings.Contains(d.Err, "loopback") {
		t.Fatalf("Deliver = %+v, want refused for its loopback answer", d)
	}
}

// With the default (empty) policy, and with a policy of names only, an internal address
// written in the URL itself is refused before any attempt, in every spelling.
func TestInternalAddressLiteralsRefused(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	port := strings.TrimPrefix(rc.URL, "http://127.0.0.1")
	for _, allow := range []string{"", "hooks.example.com, *.example.com"} {
		s := NewSender(mustPolicy(t, allow))
		for _, u := range []string{
			rc.URL,
			"http://[::ffff:127.0.0.1]" + port,
			"http://[::ffff:7f00:1]" + port,
			"http://[::1]" + port,
			"http://localhost" + port, // a name, and not a listed one
			"https://169.254.169.254/latest/meta-data/",
			"https://[::ffff:169.254.169.254]/latest/meta-data/",
			"https://10.0.0.1/",
			"https://[fd00::1]/",
			"https://[fe80::1]/",
		} {
			d := s.Deliver(context.Background(), u, testSecret, testBody)
			if d.OK || d.Attempts != 0 || !strings.Contains(d.Err, "WEBHOOK_ALLOW") {
				t.Errorf("allow %q: Deliver(%s) = %+v, want refused before any attempt", allow, u, d)
			}
		}
	}
	if rc.count() != 0 {
		t.Errorf("the loopback receiver got %d requests", rc.count())
	}
}

// A CIDR lets an internal receiver through: written as an address, or as a listed name that
// resolves into it. The name is resolved once per attempt.
func TestCIDRAllowsInternalReceiver(t *testing.T) {
	rc := newReceiver(t, http.StatusServiceUnavailable, http.StatusOK)
	res := resolverFor("hooks.internal.example", "127.0.0.1")
	s := NewSender(mustPolicy(t, "hooks.internal.example 127.0.0.0/8"), WithResolver(res), WithSleep((&waits{}).sleep))
	d := s.Deliver(context.Background(), hostURL(t, rc.URL, "http", "hooks.internal.example"), testSecret, testBody)
	if !d.OK || d.Attempts != 2 {
		t.Fatalf("Deliver = %+v, want OK on the 2nd attempt", d)
	}
	if n := res.lookups.Load(); n != 2 {
		t.Errorf("%d lookups for 2 attempts, want one each", n)
	}
	if req, _ := rc.got(0); !strings.HasPrefix(req.Host, "hooks.internal.example:") {
		t.Errorf("Host = %q, want the URL's name", req.Host)
	}

	d = s.Deliver(context.Background(), rc.URL, testSecret, testBody)
	if !d.OK || d.Attempts != 1 {
		t.Fatalf("Deliver(%s) = %+v, want OK", rc.URL, d)
	}
	// A CIDR allows what it holds, and no more.
	s = NewSender(mustPolicy(t, "hooks.internal.example 127.0.0.2/32"), WithResolver(res))
	d = s.Deliver(context.Background(), hostURL(t, rc.URL, "http", "hooks.internal.example"), testSecret, testBody)
	if d.OK || !strings.Contains(d.Err, "loopback") {
		t.Fatalf("Deliver with 127.0.0.2/32 allowed = %+v, want 127.0.0.1 refused", d)
	}
}

// The address actually dialled is checked where the socket connects, not only where the name
// was resolved: a dialler given a loopback address without the resolver's check in front still
// refuses it.
func TestDialledAddressChecked(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := NewSender(mustPolicy(t, "hooks.example.com"))
	_, err := s.dialChecked(context.Background(), "hooks.example.com", "tcp", netip.MustParseAddr("127.0.0.1"), strings.TrimPrefix(rc.URL, "http://127.0.0.1:"))
	if !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("dialChecked(127.0.0.1) = %v, want refused", err)
	}
	s = NewSender(mustPolicy(t, "hooks.example.com 127.0.0.1"))
	conn, err := s.dialChecked(context.Background(), "hooks.example.com", "tcp", netip.MustParseAddr("127.0.0.1"), strings.TrimPrefix(rc.URL, "http://127.0.0.1:"))
	if err != nil {
		t.Fatalf("dialChecked(127.0.0.1) with 127.0.0.1 allowed: %v", err)
	}
	conn.Close()
}

// https to a listed name goes through the checked dialler and still verifies the receiver's
// certificate against the URL's name.
func TestHTTPSToResolvedName(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || r.TLS.ServerName != "example.com" {
			w.WriteHeader(http.StatusMisdirectedRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	res := resolverFor("example.com", "127.0.0.1")
	s := NewSender(mustPolicy(t, "example.com 127.0.0.0/8"), WithResolver(res), WithTLSConfig(&tls.Config{RootCAs: roots}))
	d := s.Deliver(context.Background(), hostURL(t, srv.URL, "https", "example.com"), testSecret, testBody)
	if !d.OK || d.Status != http.StatusAccepted {
		t.Fatalf("Deliver = %+v, want 202", d)
	}
	// httptest's certificate is for example.com, not for other names.
	res = resolverFor("hooks.example.org", "127.0.0.1")
	s = NewSender(mustPolicy(t, "hooks.example.org 127.0.0.0/8"), WithResolver(res), WithTLSConfig(&tls.Config{RootCAs: roots}), WithSleep((&waits{}).sleep))
	d = s.Deliver(context.Background(), hostURL(t, srv.URL, "https", "hooks.example.org"), testSecret, testBody)
	if d.OK || d.Attempts != 1 || !strings.Contains(d.Err, "certificate") {
		t.Fatalf("Deliver to a name the certificate does not hold = %+v, want one attempt and a certificate error", d)
	}
}

// The environment's proxy is not used: it would make the connection for the sender, to an
// address the sender never checked.
func TestEnvironmentProxyNotUsed(t *testing.T) {
	proxy := newReceiver(t, http.StatusOK)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	rc := newReceiver(t, http.StatusOK)
	res := resolverFor("hooks.example.com", "127.0.0.1")
	s := NewSender(mustPolicy(t, "hooks.example.com 127.0.0.0/8"), WithResolver(res))
	d := s.Deliver(context.Background(), hostURL(t, rc.URL, "http", "hooks.example.com"), testSecret, testBody)
	if !d.OK || rc.count() != 1 || proxy.count() != 0 {
		t.Fatalf("Deliver = %+v; receiver got %d, proxy %d", d, rc.count(), proxy.count())
	}
}
