package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/lineage-explorer/explorer/views"
)

// The identity modes of AUTH_MODE.
const (
	AuthNone   = "none"   // no identity; anyone who reaches the app may use it
	AuthHeader = "header" // the SSO proxy names the user in a header (oauth2-proxy, Authelia)
	AuthJWT    = "jwt"    // the SSO proxy sends a signed assertion (Pomerium, Cloudflare Access, IAP)
)

// DefaultJWTHeaders are where the common SSO proxies put their signed assertion, tried in order
// when AuthConfig.JWTHeader is empty.
var DefaultJWTHeaders = []string{"X-Pomerium-Jwt-Assertion", "Cf-Access-Jwt-Assertion", "X-Goog-Iap-Jwt-Assertion"}

// DefaultPublic are the paths reachable without identity when AuthConfig.Public is nil: probes,
// metrics scrapes and the stylesheet of the sign-in error page.
var DefaultPublic = []string{"/healthz", "/readyz", "/metrics", "/static/"}

// AuthConfig says who may use the explorer and how it learns who they are.
type AuthConfig struct {
	// Mode is AuthNone (default), AuthHeader or AuthJWT.
	Mode string
	// Header names the header carrying the user's identity in AuthHeader mode
	// (default X-Forwarded-Email, as oauth2-proxy sends; Authelia sends Remote-User).
	Header string
	// GroupsHeader names the header carrying the user's groups in AuthHeader mode (default
	// X-Forwarded-Groups; Authelia sends Remote-Groups).
	GroupsHeader string
	// GroupsSeparator separates the groups in GroupsHeader and in AUTH_ALLOW_GROUPS (default
	// ","). LDAP-backed providers may send groups as DNs, which hold commas themselves: split
	// on commas, "cn=interns,ou=groups,dc=corp,dc=example" would be four groups, and an
	// allow-listed DN's "ou=groups" would admit every group under it. Those deployments set
	// the separator their proxy joins DNs with (often ";"); NewAuthenticator refuses DN pieces
	// in AllowGroups while it is ",".
	GroupsSeparator string
	// TrustedProxies are the networks the SSO proxy connects from (TRUSTED_PROXIES). In header
	// mode an identity header is believed only from a direct peer inside them.
	TrustedProxies []netip.Prefix
	// JWTHeader is the header carrying the proxy's signed assertion in AuthJWT mode; empty
	// tries DefaultJWTHeaders.
	JWTHeader string
	// JWKSURL, Issuer and Audience are what an assertion is verified against in AuthJWT mode.
	JWKSURL, Issuer, Audience string
	// JWKSCooldown is the least time between two fetches of JWKSURL (default
	// DefaultJWKSCooldown). An assertion naming a key id the explorer lacks has it fetch the
	// keys again, so that a rotated key works; within the cooldown of the last fetch such
	// assertions are refused at once, so that made-up key ids cannot cost the proxy a fetch
	// each.
	JWKSCooldown time.Duration
	// AllowEmails, AllowDomains and AllowGroups restrict access when any is non-empty: a user
	// is let in when their email, its domain or one of their groups is listed (case-insensitive,
	// groups whole). In jwt mode an email the provider says it has not verified counts for
	// neither list.
	AllowEmails, AllowDomains, AllowGroups []string
	// Public are path prefixes reachable without identity (health, readiness, metrics, assets),
	// so that probes and the error page's stylesheet keep working. They are matched against
	// the path without BASE_PATH, so the same list holds under any base path.
	Public []string
	// Logger is told what only the operator can mend (a proxy that appends identity headers,
	// clocks that disagree); nil is slog.Default(). It is not a setting of the environment.
	Logger *slog.Logger

	// now is the clock assertions are checked against; nil is time.Now. Tests set it, so that
	// time passes without waiting.
	now func() time.Time
}

// ClockLeeway is how far the explorer's clock may disagree with the sign-in proxy's on an
// assertion's exp and nbf. Proxies issue short-lived assertions and renew them as the user
// goes on, so a few seconds of drift would otherwise refuse the one in flight; more than this
// is an assertion that is really out of date (or a clock to fix), and the user reloads.
const ClockLeeway = 30 * time.Second

// Identity is the signed-in user as the SSO proxy vouched for them.
type Identity struct {
	User   string   // email or user name; "" in AuthNone mode
	Groups []string // as the proxy sent them
	// unverified says the provider did not verify the user's address: User is then the
	// subject, and the address and domain allow-lists do not apply, since anyone can claim
	// an address they cannot receive mail at.
	unverified bool
}

type identityKey struct{}

// IdentityFrom returns the identity the auth middleware attached to ctx, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// errForbidden is answered 403: the request came through the wrong path, the assertion is not
// the proxy's, or the user is not allowed; errUnauthenticated 401: no identity arrived that
// can be believed now (none, a header sent twice, an expired assertion), where the user or the
// proxy can try again.
var (
	errForbidden       = errors.New("forbidden")
	errUnauthenticated = errors.New("unauthenticated")
)

// authError carries what the 401/403 page tells the user; it never repeats a token.
type authError struct {
	kind   error
	reason string
}

func (e *authError) Error() string { return e.reason }
func (e *authError) Unwrap() error { return e.kind }

// Authenticator checks every request against an AuthConfig (see NewAuthenticator).
type Authenticator struct {
	cfg      AuthConfig
	verifier *oidc.IDTokenVerifier
	keys     *keySet
	log      *slog.Logger
	now      func() time.Time
}

// NewAuthenticator checks cfg and prepares the JWT verifier (github.com/coreos/go-oidc: the
// well-kept verifier oauth2-proxy and others use; it checks the signature, issuer and
// audience, against keys the explorer fetches itself, see keySet). Fetches of the keys keep
// ctx's values but not its cancellation. It returns an error naming the setting at fault.
func NewAuthenticator(ctx context.Context, cfg AuthConfig) (*Authenticator, error) {
	a := &Authenticator{cfg: cfg, log: cfg.Logger, now: cfg.now}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.cfg.Header == "" {
		a.cfg.Header = "X-Forwarded-Email"
	}
	if a.cfg.GroupsHeader == "" {
		a.cfg.GroupsHeader = "X-Forwarded-Groups"
	}
	if a.cfg.Public == nil {
		a.cfg.Public = DefaultPublic
	}
	if a.cfg.GroupsSeparator == "" {
		a.cfg.GroupsSeparator = DefaultGroupsSeparator
	}
	if err := checkAllowGroups(a.cfg.AllowGroups, a.cfg.GroupsSeparator); err != nil {
		return nil, err
	}
	switch cfg.Mode {
	case "", AuthNone:
		a.cfg.Mode = AuthNone
		// Without sign-in nobody is identified, so an allow-list could keep nobody out: refuse
		// it rather than let whoever set it believe access is restricted.
		if len(cfg.AllowEmails)+len(cfg.AllowDomains)+len(cfg.AllowGroups) > 0 {
			return nil, errors.New("AUTH_ALLOW_EMAILS, AUTH_ALLOW_DOMAINS, AUTH_ALLOW_GROUPS: allow-lists need AUTH_MODE=header or jwt; with AUTH_MODE=none nobody is identified, so they would let everyone in")
		}
	case AuthHeader:
		if len(cfg.TrustedProxies) == 0 {
			return nil, errors.New("TRUSTED_PROXIES: header mode needs the networks the SSO proxy connects from")
		}
	case AuthJWT:
		if cfg.JWKSURL == "" || cfg.Issuer == "" || cfg.Audience == "" {
			return nil, errors.New("AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE: all three are needed in jwt mode")
		}
		algs := []string{oidc.RS256, oidc.ES256, oidc.PS256, oidc.EdDSA}
		a.keys = &keySet{url: cfg.JWKSURL, base: context.WithoutCancel(ctx), client: &http.Client{Timeout: 10 * time.Second},
			cooldown: cfg.JWKSCooldown, now: a.now, log: a.log}
		if a.keys.cooldown <= 0 {
			a.keys.cooldown = DefaultJWKSCooldown
		}
		for _, alg := range algs {
			a.keys.algs = append(a.keys.algs, jose.SignatureAlgorithm(alg))
		}
		// go-oidc checks exp with no leeway and nbf with five minutes, and words its refusal
		// for developers: the explorer checks both itself (checkTimes).
		a.verifier = oidc.NewVerifier(cfg.Issuer, a.keys, &oidc.Config{ClientID: cfg.Audience, SkipExpiryCheck: true,
			SupportedSigningAlgs: algs})
	default:
		return nil, fmt.Errorf("AUTH_MODE: must be none, header or jwt, got %q", cfg.Mode)
	}
	return a, nil
}

// middleware attaches the caller's Identity to the request, or stops it with 401/403. Public
// paths are matched without the base path, so that they stay public under any BASE_PATH.
func (a *Authenticator) middleware(base string, fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		path := appPath(base, c.Request.URL.Path)
		for _, p := range a.cfg.Public {
			if strings.HasPrefix(path, p) {
				c.Next()
				return
			}
		}
		id, err := a.identify(c.Request)
		if err == nil {
			err = a.allowed(id)
		}
		c.Set(userKey, id.User) // logged whether or not the user is let in
		if err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		ctx := context.WithValue(c.Request.Context(), identityKey{}, id)
		c.Request = c.Request.WithContext(views.WithUser(ctx, id.User))
		c.Next()
	}
}

// userKey is where the middleware leaves the user for the access log.
const userKey = "user"

func (a *Authenticator) identify(r *http.Request) (Identity, error) {
	switch a.cfg.Mode {
	case AuthHeader:
		if !a.fromTrustedProxy(r) {
			return Identity{}, &authError{errForbidden, "requests must come through the sign-in proxy"}
		}
		user, err := a.single(r.Header, a.cfg.Header)
		if err != nil {
			return Identity{}, err
		}
		groups, err := a.single(r.Header, a.cfg.GroupsHeader)
		if err != nil {
			return Identity{}, err
		}
		user = strings.TrimSpace(user)
		if user == "" || !Printable(user) || !utf8.ValidString(user) || len(user) > maxUserLen {
			return Identity{}, &authError{errUnauthenticated, "the sign-in proxy did not say who you are"}
		}
		// One user per request: a list is what a proxy that appends to the client's header
		// makes when it joins the copies, and picking one of them would pick the client's.
		if strings.Contains(user, ",") {
			return Identity{}, a.repeated(a.cfg.Header, "holding a list")
		}
		return Identity{User: user, Groups: SplitOn(groups, a.cfg.GroupsSeparator)}, nil
	case AuthJWT:
		raw, err := a.assertion(r.Header)
		if err != nil {
			return Identity{}, err
		}
		if kid, ok := a.keys.kidOf(raw); ok {
			switch err := a.keys.ensure(r.Context(), kid); {
			case errors.Is(err, errKeyUnknown):
				return Identity{}, &authError{errUnauthenticated, "the sign-in assertion names a key the sign-in proxy does not publish: if the proxy has just changed its keys, reload the page in a minute"}
			case errors.Is(err, errKeysUnavailable):
				return Identity{}, &authError{errUnauthenticated, "the sign-in proxy's keys could not be fetched, so the assertion cannot be checked: reload the page in a minute"}
			case err != nil:
				return Identity{}, &authError{errUnauthenticated, "the sign-in assertion could not be checked"}
			}
		}
		tok, err := a.verifier.Verify(r.Context(), raw)
		if err != nil {
			// go-oidc's message says what failed (issuer, audience, signature) without the token.
			return Identity{}, &authError{errForbidden, "the sign-in assertion was not accepted: " + err.Error()}
		}
		if err := a.checkTimes(tok); err != nil {
			return Identity{}, err
		}
		var claims struct {
			Email         string          `json:"email"`
			Groups        []string        `json:"groups"`
			EmailVerified json.RawMessage `json:"email_verified"`
		}
		_ = tok.Claims(&claims) // absent claims leave the subject as the user
		id := Identity{User: claims.Email, Groups: claims.Groups}
		switch {
		case id.User == "":
			id.User = tok.Subject
		case !emailVerified(claims.EmailVerified):
			// The address is the user's claim, not the provider's: it neither admits them nor
			// names them in pages and logs, where it would impersonate its owner.
			id.unverified = true
			if tok.Subject != "" {
				id.User = tok.Subject
			}
		}
		return id, nil
	}
	return Identity{}, nil
}

// checkTimes holds a verified assertion to its exp and nbf, give or take ClockLeeway. Beyond
// that the user is asked to reload, which has the proxy issue a fresh assertion, and the log
// says by how much the times disagreed, which tells a stale tab from a clock to fix.
func (a *Authenticator) checkTimes(tok *oidc.IDToken) error {
	now := a.now()
	if tok.Expiry.IsZero() {
		return &authError{errForbidden, "the sign-in assertion was not accepted: it has no expiry"}
	}
	if skew := now.Sub(tok.Expiry); skew > ClockLeeway {
		a.log.Info("sign-in assertion expired", "skew", skew.Round(time.Second).String(), "leeway", ClockLeeway.String())
		return &authError{errUnauthenticated, "your sign-in has expired: reload the page, and the sign-in proxy will vouch for you afresh"}
	}
	var claims struct {
		NotBefore *json.Number `json:"nbf"`
	}
	if err := tok.Claims(&claims); err != nil {
		return &authError{errForbidden, "the sign-in assertion was not accepted: its nbf is not a time"}
	}
	if claims.NotBefore == nil {
		return nil
	}
	secs, err := claims.NotBefore.Float64()
	if err != nil {
		return &authError{errForbidden, "the sign-in assertion was not accepted: its nbf is not a time"}
	}
	nbf := time.Unix(int64(secs), 0)
	if skew := nbf.Sub(now); skew > ClockLeeway {
		a.log.Warn("sign-in assertion not valid yet: the clocks of the explorer and the sign-in proxy disagree",
			"skew", skew.Round(time.Second).String(), "leeway", ClockLeeway.String())
		return &authError{errUnauthenticated, "your sign-in is not valid yet by this server's clock: reload the page in a moment; if this keeps happening, the clocks of the explorer and the sign-in proxy disagree"}
	}
	return nil
}

func (a *Authenticator) jwtHeaders() []string {
	if a.cfg.JWTHeader != "" {
		return []string{a.cfg.JWTHeader}
	}
	return DefaultJWTHeaders
}

// maxUserLen is the longest user accepted: the longest e-mail address SMTP allows.
const maxUserLen = 320

// single is the one value of header name ("" when absent). A header sent more than once is
// refused, never resolved: a proxy that appends rather than replaces puts the client's own
// copy next to its own, and which comes first differs between proxies.
func (a *Authenticator) single(h http.Header, name string) (string, error) {
	switch vs := h.Values(name); len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", a.repeated(name, fmt.Sprintf("%d times", len(vs)))
	}
}

// assertion is the one signed assertion of the request. With DefaultJWTHeaders, an assertion
// in more than one of them is refused like a repeated header: one proxy sends one of them, so
// the other came from the client.
func (a *Authenticator) assertion(h http.Header) (string, error) {
	raw, from := "", ""
	for _, name := range a.jwtHeaders() {
		v, err := a.single(h, name)
		if err != nil {
			return "", err
		}
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if from != "" {
			a.log.Warn("sign-in assertion in two headers; set AUTH_JWT_HEADER to the one the proxy sends, and have it replace any a client sends",
				"headers", from+", "+name)
			return "", &authError{errUnauthenticated, fmt.Sprintf("the request carries an assertion in both %s and %s: the sign-in proxy must replace the assertion headers a client sends, and AUTH_JWT_HEADER name the one it uses", from, name)}
		}
		raw, from = v, name
	}
	if raw == "" {
		return "", &authError{errUnauthenticated, "the sign-in proxy sent no signed assertion"}
	}
	return raw, nil
}

// repeated is the refusal of an identity header that holds more than one value (how, such as
// "2 times"). It names the header, never its values: they are claims nobody vouched for, and
// an assertion is a credential.
func (a *Authenticator) repeated(name, how string) error {
	a.log.Warn("sign-in header with more than one value; the proxy must replace the header a client sends, not add to it",
		"header", name, "sent", how)
	return &authError{errUnauthenticated, fmt.Sprintf("the sign-in proxy sent %s %s: it must replace the header a client sends, not add to it", name, how)}
}

// fromTrustedProxy looks at the direct peer only: a forwarded-for header is what a client
// could forge.
func (a *Authenticator) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return slices.ContainsFunc(a.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(ip) })
}

func (a *Authenticator) allowed(id Identity) error {
	cfg := a.cfg
	if cfg.Mode == AuthNone || len(cfg.AllowEmails)+len(cfg.AllowDomains)+len(cfg.AllowGroups) == 0 {
		return nil
	}
	user := strings.ToLower(id.User)
	if !id.unverified && containsFold(cfg.AllowEmails, user) {
		return nil
	}
	if _, domain, ok := strings.Cut(user, "@"); ok && !id.unverified && containsFold(cfg.AllowDomains, domain) {
		return nil
	}
	for _, g := range id.Groups {
		if containsFold(cfg.AllowGroups, g) {
			return nil
		}
	}
	if id.unverified && len(cfg.AllowEmails)+len(cfg.AllowDomains) > 0 {
		return &authError{errForbidden, "your e-mail address is unverified by the sign-in provider, so it does not count for this explorer's allow-list: verify it with the provider, then sign in again"}
	}
	return &authError{errForbidden, "your account is not on this explorer's allow-list"}
}

// emailVerified reads the email_verified claim. Absent, the provider says nothing either way
// (Cloudflare Access and IAP send none), and the address is used as it always was. Present,
// only true counts: false, null or anything else does not. The string "true" counts too, as
// some providers send their booleans as strings.
func emailVerified(raw json.RawMessage) bool {
	if raw == nil {
		return true
	}
	v := strings.TrimSpace(string(raw))
	return v == "true" || strings.EqualFold(v, `"true"`)
}

// DefaultGroupsSeparator is what oauth2-proxy and Authelia join groups with.
const DefaultGroupsSeparator = ","

// dnPiece matches the start of an LDAP DN's component ("ou=groups", "2.5.4.11=groups"): with
// the comma separator, an allow-listed DN falls apart into such pieces.
var dnPiece = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)\s*=`)

// checkAllowGroups refuses allow-list entries that could only ever be matched in part: those
// holding the separator (a header split on it never yields them whole) and, with the comma
// separator, pieces of a DN, each of which would admit every group that shares it.
func checkAllowGroups(groups []string, sep string) error {
	for _, g := range groups {
		if strings.Contains(g, sep) {
			return fmt.Errorf("AUTH_ALLOW_GROUPS: %q contains the groups separator %q, so no group the proxy sends could match it whole; set AUTH_GROUPS_SEPARATOR to what the proxy separates groups with", g, sep)
		}
		if sep == "," && dnPiece.MatchString(g) {
			return fmt.Errorf("AUTH_ALLOW_GROUPS: %q looks like a piece of an LDAP DN cut at its commas, and would admit every group that shares it; if the proxy sends groups as DNs, set AUTH_GROUPS_SEPARATOR to what it separates them with (such as \";\") and write AUTH_ALLOW_GROUPS with it", g)
		}
	}
	return nil
}
