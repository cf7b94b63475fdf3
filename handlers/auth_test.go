package handlers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// authProbe serves one protected route and one public one behind the middleware, answering
// with the identity it saw, or the status the failure maps to.
func authProbe(t *testing.T, cfg AuthConfig) *httptest.Server {
	t.Helper()
	a, err := NewAuthenticator(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(a.middleware("", func(c *gin.Context, err error) {
		status := http.StatusForbidden
		if errors.Is(err, errUnauthenticated) {
			status = http.StatusUnauthorized
		}
		c.String(status, err.Error())
	}))
	r.GET("/page", func(c *gin.Context) {
		id, _ := IdentityFrom(c.Request.Context())
		c.String(http.StatusOK, "user=%s groups=%s", id.User, strings.Join(id.Groups, ","))
	})
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return resp.StatusCode, b.String()
}

func TestHeaderModeTrustsOnlyTheProxy(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name    string
		cfg     AuthConfig
		headers map[string]string
		status  int
		body    string
	}{
		{"from the proxy", AuthConfig{Mode: AuthHeader, TrustedProxies: loopback},
			map[string]string{"X-Forwarded-Email": "ana@registry.example", "X-Forwarded-Groups": "analysts, ops"}, 200, "user=ana@registry.example groups=analysts,ops"},
		{"from an untrusted peer", AuthConfig{Mode: AuthHeader, TrustedProxies: elsewhere},
			map[string]string{"X-Forwarded-Email": "ana@registry.example"}, 403, "sign-in proxy"},
		{"forged forwarded-for does not help", AuthConfig{Mode: AuthHeader, TrustedProxies: elsewhere},
			map[string]string{"X-Forwarded-Email": "ana@registry.example", "X-Forwarded-For": "10.1.2.3", "X-Real-Ip": "10.1.2.3"}, 403, ""},
		{"no identity", AuthConfig{Mode: AuthHeader, TrustedProxies: loopback}, nil, 401, "did not say"},
		{"Authelia's header", AuthConfig{Mode: AuthHeader, Header: "Remote-User", GroupsHeader: "Remote-Groups", TrustedProxies: loopback},
			map[string]string{"Remote-User": "bo", "Remote-Groups": "admins"}, 200, "user=bo groups=admins"},
		{"outside the allow-list", AuthConfig{Mode: AuthHeader, TrustedProxies: loopback, AllowDomains: []string{"registry.example"}},
			map[string]string{"X-Forwarded-Email": "eve@elsewhere.example"}, 403, "allow-list"},
		{"inside by domain", AuthConfig{Mode: AuthHeader, TrustedProxies: loopback, AllowDomains: []string{"Registry.Example"}},
			map[string]string{"X-Forwarded-Email": "Ana@registry.example"}, 200, "user=Ana@registry.example"},
		{"inside by group", AuthConfig{Mode: AuthHeader, TrustedProxies: loopback, AllowGroups: []string{"ops"}},
			map[string]string{"X-Forwarded-Email": "eve@elsewhere.example", "X-Forwarded-Groups": "ops"}, 200, "user=eve"},
		{"inside by email", AuthConfig{Mode: AuthHeader, TrustedProxies: loopback, AllowEmails: []string{"eve@elsewhere.example"}},
			map[string]string{"X-Forwarded-Email": "eve@elsewhere.example"}, 200, "user=eve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Public = []string{"/healthz"}
			srv := authProbe(t, tc.cfg)
			status, body := get(t, srv.URL+"/page", tc.headers)
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("got %d %q, want %d containing %q", status, body, tc.status, tc.body)
			}
			if status, _ := get(t, srv.URL+"/healthz", nil); status != 200 {
				t.Errorf("/healthz answered %d to a probe without identity", status)
			}
		})
	}
}

// idp is a stand-in for the SSO proxy's key endpoint: it serves a JWKS and signs assertions.
type idp struct {
	key    *rsa.PrivateKey
	jwks   *httptest.Server
	issuer string
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{key: key, issuer: "https://sso.registry.example"}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	p.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.jwks.Close)
	return p
}

func (p *idp) sign(t *testing.T, key *rsa.PrivateKey, claims jwt.Claims, extra map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Claims(extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestJWTModeVerifiesTheAssertion(t *testing.T) {
	p := newIDP(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	good := jwt.Claims{Issuer: p.issuer, Audience: jwt.Audience{"lineage-explorer"}, Subject: "u1",
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}
	expired, wrongAud, wrongIss := good, good, good
	expired.Expiry = jwt.NewNumericDate(now.Add(-time.Hour))
	expired.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
	wrongAud.Audience = jwt.Audience{"another-app"}
	wrongIss.Issuer = "https://evil.example"
	email := map[string]any{"email": "ana@registry.example", "groups": []string{"analysts"}}

	cfg := AuthConfig{Mode: AuthJWT, JWKSURL: p.jwks.URL, Issuer: p.issuer, Audience: "lineage-explorer", Public: []string{"/healthz"}}
	srv := authProbe(t, cfg)
	cases := []struct {
		name    string
		headers map[string]string
		status  int
		body    string
	}{
		{"valid (Pomerium's header)", map[string]string{"X-Pomerium-Jwt-Assertion": p.sign(t, p.key, good, email)}, 200, "user=ana@registry.example groups=analysts"},
		{"valid (Cloudflare's header), no email", map[string]string{"Cf-Access-Jwt-Assertion": p.sign(t, p.key, good, nil)}, 200, "user=u1"},
		{"expired", map[string]string{"X-Pomerium-Jwt-Assertion": p.sign(t, p.key, expired, email)}, 401, "expired"},
		{"wrong audience", map[string]string{"X-Pomerium-Jwt-Assertion": p.sign(t, p.key, wrongAud, email)}, 403, "audience"},
		{"wrong issuer", map[string]string{"X-Pomerium-Jwt-Assertion": p.sign(t, p.key, wrongIss, email)}, 403, "different provider"},
		{"signed by another key", map[string]string{"X-Pomerium-Jwt-Assertion": p.sign(t, other, good, email)}, 403, "not accepted"},
		{"garbage", map[string]string{"X-Pomerium-Jwt-Assertion": "a.b.c"}, 403, "not accepted"},
		{"none", nil, 401, "no signed assertion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, srv.URL+"/page", tc.headers)
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("got %d %q, want %d containing %q", status, body, tc.status, tc.body)
			}
			for _, v := range tc.headers {
				if len(v) > 20 && strings.Contains(body, v) {
					t.Error("the answer repeats the assertion")
				}
			}
		})
	}
	if status, _ := get(t, srv.URL+"/healthz", nil); status != 200 {
		t.Errorf("/healthz answered %d without identity", status)
	}
}

func TestAuthConfigErrorsNameTheSetting(t *testing.T) {
	for cfg, want := range map[*AuthConfig]string{
		{Mode: "ldap"}:     "AUTH_MODE",
		{Mode: AuthHeader}: "TRUSTED_PROXIES",
		{Mode: AuthJWT}:    "AUTH_JWKS_URL",
		{Mode: AuthNone, AllowDomains: []string{"registry.example"}}: "AUTH_ALLOW_DOMAINS",
		{AllowEmails: []string{"ana@registry.example"}}:              "AUTH_MODE=header or jwt",
	} {
		if _, err := NewAuthenticator(context.Background(), *cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: err = %v, want it to name %s", *cfg, err, want)
		}
	}
	for in, want := range map[string]string{"0.0.0.0/0": "every peer", "::/0": "every peer", "10.0.0.0/8, nonsense": "nonsense"} {
		if _, err := ParseCIDRs(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCIDRs(%q) = %v", in, err)
		}
	}
	got, err := ParseCIDRs("10.0.0.0/8, 192.168.1.7 ,fd00::/8")
	if err != nil || len(got) != 3 || got[1].Bits() != 32 {
		t.Errorf("ParseCIDRs = %v, %v", got, err)
	}
}
