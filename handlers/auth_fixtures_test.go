package handlers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The tests of issue 13: inputs an attacker or a common identity provider sends that got the
// wrong answer. Each goes through the real router over real HTTP.

var loopbackProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// getWith GETs path with exactly the header lines given, repeated ones included.
func (a *testApp) getWith(t testing.TB, path string, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// keyIDP stands in for an SSO proxy's key endpoint: it publishes the keys named, signs
// assertions with any key, and counts the fetches of its JWKS.
type keyIDP struct {
	issuer  string
	srv     *httptest.Server
	fetches atomic.Int64

	mu        sync.Mutex
	keys      map[string]*ecdsa.PrivateKey
	published []string
}

func newKeyIDP(t testing.TB) *keyIDP {
	t.Helper()
	p := &keyIDP{issuer: "https://sso.corp.example", keys: map[string]*ecdsa.PrivateKey{}}
	p.publish(t, "k1")
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		var set jose.JSONWebKeySet
		for _, kid := range p.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &p.keys[kid].PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *keyIDP) key(t testing.TB, kid string) *ecdsa.PrivateKey {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.keys[kid]; ok {
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.keys[kid] = k
	return k
}

// publish replaces the published keys with those named (a key rotation).
func (p *keyIDP) publish(t testing.TB, kids ...string) {
	for _, kid := range kids {
		p.key(t, kid)
	}
	p.mu.Lock()
	p.published = kids
	p.mu.Unlock()
}

// claims are those of a good assertion issued at iat.
func (p *keyIDP) claims(iat time.Time) jwt.Claims {
	return jwt.Claims{Issuer: p.issuer, Audience: jwt.Audience{"lineage-explorer"}, Subject: "u-42",
		IssuedAt: jwt.NewNumericDate(iat), Expiry: jwt.NewNumericDate(iat.Add(5 * time.Minute))}
}

// assertion signs claims and extra with the key kid (published or not) and names kid.
func (p *keyIDP) assertion(t testing.TB, kid string, claims jwt.Claims, extra map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key(t, kid)}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Claims(extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (p *keyIDP) config() AuthConfig {
	return AuthConfig{Mode: AuthJWT, JWKSURL: p.srv.URL, Issuer: p.issuer, Audience: "lineage-explorer"}
}

func pomerium(raw string) http.Header { return http.Header{"X-Pomerium-Jwt-Assertion": {raw}} }

// pageText is the text of an HTML page, for failure messages.
func pageText(body string) string {
	var b strings.Builder
	in := false
	for _, r := range body {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// testClock is a clock the test moves, so that cooldowns pass without waiting.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Unix(time.Now().Unix(), 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// metricValue is the value of an unlabelled metric on the app's /metrics.
func metricValue(t testing.TB, a *testApp, name string) float64 {
	t.Helper()
	body := a.get(t, "/metrics").body
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
