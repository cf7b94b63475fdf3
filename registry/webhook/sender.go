package webhook

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// UserAgent names the explorer to receivers.
const UserAgent = "lineage-explorer-webhook/1 (credit-batch lineage explorer)"

// The sender's defaults; each has an Option.
const (
	// DefaultMaxAttempts is how many times one delivery is tried at most.
	DefaultMaxAttempts = 5
	// DefaultAttemptTimeout bounds one attempt: resolving, connecting, TLS, sending, and
	// reading the answer.
	DefaultAttemptTimeout = 5 * time.Second
	// DefaultTotalTimeout bounds a whole delivery, its waits between attempts included.
	DefaultTotalTimeout = 2 * time.Minute
	// DefaultBaseBackoff is the wait before the second attempt, doubled before each next one.
	DefaultBaseBackoff = time.Second
	// DefaultMaxBackoff caps the wait between two attempts.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After a receiver's 429 or 503 is honoured for;
	// a receiver asking for longer is not tried again in this delivery.
	DefaultMaxRetryAfter = time.Minute
)

// maxResponseRead is how much of a receiver's answer is read: its first bytes are kept for the
// error, and the rest is no concern of the sender's.
const maxResponseRead = 4 << 10

// maxErrorBody is how much of a receiver's answer a Delivery's error quotes.
const maxErrorBody = 200

// Resolver looks host names up; *net.Resolver is one, and tests give their own to make a name
// resolve to a chosen address.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Delivery is what became of one Deliver call, for the caller to record and show.
type Delivery struct {
	// ID is the delivery's id, sent in HeaderDelivery at every attempt; empty when no attempt
	// was made.
	ID string
	// Attempts is how many requests were tried, each counted whether or not it reached the
	// receiver; 0 when the URL, the secret or the body was refused before any.
	Attempts int
	// Status is the HTTP status of the last answer, 0 when no answer came.
	Status int
	// Err says why the delivery failed, "" when it succeeded: a sentence without the secret
	// or the URL's query string, with the receiver's own words (if any) as untrusted text.
	Err string
	// Started and Finished bound the delivery by the sender's clock.
	Started, Finished time.Time
	// OK is true when the receiver answered 2xx.
	OK bool
}

// Sender delivers webhooks within a Policy. It is safe for concurrent use.
type Sender struct {
	policy         Policy
	maxAttempts    int
	attemptTimeout time.Duration
	totalTimeout   time.Duration
	baseBackoff    time.Duration
	maxBackoff     time.Duration
	maxRetryAfter  time.Duration
	now            func() time.Time
	sleep          func(ctx context.Context, d time.Duration) error
	resolver       Resolver
	tlsConfig      *tls.Config
	client         *http.Client
}

// Option changes one of a Sender's defaults.
type Option func(*Sender)

// WithMaxAttempts sets how many times one delivery is tried at most (at least 1).
func WithMaxAttempts(n int) Option {
	return func(s *Sender) { s.maxAttempts = max(n, 1) }
}

// WithTimeouts sets the bound of one attempt and of a whole delivery; a value <= 0 keeps the
// default.
func WithTimeouts(attempt, total time.Duration) Option {
	return func(s *Sender) {
		if attempt > 0 {
			s.attemptTimeout = attempt
		}
		if total > 0 {
			s.totalTimeout = total
		}
	}
}

// WithBackoff sets the retry schedule: the wait before the second attempt is about base, and
// doubles before each next one up to maxWait, with jitter; a receiver's Retry-After is honoured
// up to maxRetryAfter. A value <= 0 keeps the default.
func WithBackoff(base, maxWait, maxRetryAfter time.Duration) Option {
	return func(s *Sender) {
		if base > 0 {
			s.baseBackoff = base
		}
		if maxWait > 0 {
			s.maxBackoff = maxWait
		}
		if maxRetryAfter > 0 {
			s.maxRetryAfter = maxRetryAfter
		}
	}
}

// WithClock sets where the sender reads the time: the timestamps it signs, a Retry-After date,
// and Delivery's Started and Finished.
func WithClock(now func() time.Time) Option {
	return func(s *Sender) { s.now = now }
}

// WithSleep sets how the sender waits between attempts; the function returns ctx's error when
// ctx ends first. Tests give one that records the waits and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Sender) { s.sleep = sleep }
}

// WithResolver sets how host names are looked up (net.DefaultResolver by default).
func WithResolver(r Resolver) Option {
	return func(s *Sender) { s.resolver = r }
}

// WithTLSConfig sets the TLS client configuration, for a receiver signed by a private CA (and
// for tests against httptest's TLS server). The server name is always the URL's host.
func WithTLSConfig(c *tls.Config) Option {
	return func(s *Sender) { s.tlsConfig = c.Clone() }
}

// NewSender makes a Sender that delivers only where p allows.
func NewSender(p Policy, opts ...Option) *Sender {
	s := &Sender{
		policy:         p,
		maxAttempts:    DefaultMaxAttempts,
		attemptTimeout: DefaultAttemptTimeout,
		totalTimeout:   DefaultTotalTimeout,
		baseBackoff:    DefaultBaseBackoff,
		maxBackoff:     DefaultMaxBackoff,
		maxRetryAfter:  DefaultMaxRetryAfter,
		now:            time.Now,
		sleep:          sleepCtx,
		resolver:       net.DefaultResolver,
	}
	for _, o := range opts {
		o(s)
	}
	s.client = &http.Client{
		Transport: &http.Transport{
			Proxy:       nil, // never the environment's proxy: it would dial for us, unchecked
			DialContext: s.dial,
			// One connection per attempt, so that every attempt resolves and checks afresh
			// and no connection outlives the policy it was checked under.
			DisableKeepAlives:      true,
			TLSClientConfig:        s.tlsConfig,
			TLSHandshakeTimeout:    s.attemptTimeout,
			ResponseHeaderTimeout:  s.attemptTimeout,
			MaxResponseHeaderBytes: 16 << 10,
		},
		// A receiver's redirect is answered as a failure, never followed: following it would
		// go where the policy was not asked.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Deliver POSTs body (JSON) to rawURL, signed with secret (HeaderTimestamp, HeaderSignature,
// re-signed at each attempt), and retries with exponential backoff and jitter on network
// errors, 5xx and 429 (Retry-After honoured up to the cap), up to the attempt limit and the
// total timeout; other answers (3xx, other 4xx) and refusals by the policy end it at once, as
// does ctx ending. The URL is checked against the policy again, for a policy may have changed
// since the user entered it. The Delivery reports every attempt; its error never holds the
// secret or the URL's query.
func (s *Sender) Deliver(ctx context.Context, rawURL string, secret []byte, body []byte) Delivery {
	d := Delivery{Started: s.now()}
	finish := func(err error) Delivery {
		if err != nil {
			d.Err = redact(err.Error(), rawURL, secret)
		}
		d.Finished = s.now()
		return d
	}
	u, err := s.policy.checkURL(rawURL)
	if err != nil {
		return finish(err)
	}
	if len(secret) < MinSecretLen {
		return finish(fmt.Errorf("the webhook's signing secret is shorter than %d bytes", MinSecretLen))
	}
	if !json.Valid(body) {
		return finish(errors.New("the webhook body is not JSON"))
	}
	d.ID = newID()
	ctx, cancel := context.WithTimeout(ctx, s.totalTimeout)
	defer cancel()
	shown := redactedURL(u)
	for {
		if ctx.Err() != nil {
			return finish(fmt.Errorf("delivery to %s stopped before attempt %d: %s", shown, d.Attempts+1, ctxReason(ctx)))
		}
		d.Attempts++
		status, retryAfter, err := s.attempt(ctx, u, d.ID, secret, body)
		d.Status = status
		if err == nil {
			d.OK = true
			return finish(nil)
		}
		err = fmt.Errorf("attempt %d of %d to %s: %w", d.Attempts, s.maxAttempts, shown, err)
		if ctx.Err() != nil {
			return finish(fmt.Errorf("%w; delivery stopped: %s", err, ctxReason(ctx)))
		}
		if !retryable(status, err) {
			return finish(err)
		}
		if d.Attempts >= s.maxAttempts {
			return finish(fmt.Errorf("%w; gave up after %d attempts", err, d.Attempts))
		}
		if retryAfter > s.maxRetryAfter {
			return finish(fmt.Errorf("%w; the receiver asked to wait %s, longer than the %s this sender waits", err, retryAfter, s.maxRetryAfter))
		}
		wait := max(s.backoff(d.Attempts), retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return finish(fmt.Errorf("%w; no time left for another attempt within %s", err, s.totalTimeout))
		}
		if err := s.sleep(ctx, wait); err != nil {
			return finish(fmt.Errorf("%w; delivery stopped: %s", err, ctxReason(ctx)))
		}
	}
}

func ctxReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "out of time"
	}
	return "cancelled"
}

// retryable: a receiver that is down, overloaded or throttling may answer later; one that
// refused the request (4xx), redirected it (3xx), shows a certificate that does not verify, or
// that the policy refuses will not.
func retryable(status int, err error) bool {
	if errors.Is(err, ErrNotAllowed) || errors.Is(err, errRedirect) || errors.Is(err, errCertificate) {
		return false
	}
	switch {
	case status == 0:
		return true
	case status == http.StatusTooManyRequests, status >= 500:
		return true
	}
	return false
}

// backoff is the wait after the given failed attempt (1-based): exponential, with "equal
// jitter" (half the step fixed, half random) so that waits grow yet senders that failed
// together do not retry together.
func (s *Sender) backoff(failed int) time.Duration {
	step := s.baseBackoff << min(failed-1, 30)
	if step > s.maxBackoff || step <= 0 {
		step = s.maxBackoff
	}
	half := step / 2
	return half + rand.N(step-half+1)
}

var (
	errRedirect    = errors.New("redirect not followed")
	errCertificate = errors.New("the receiver's certificate does not verify")
)

// attempt makes one request. It returns the answer's status (0 when none came), a Retry-After
// the receiver asked for, and an error unless the answer was 2xx.
func (s *Sender) attempt(ctx context.Context, u *url.URL, id string, secret, body []byte) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, 0, errors.New("the request could not be made")
	}
	ts := s.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	req.Header.Set(HeaderDelivery, id)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, transportError(ctx, err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return resp.StatusCode, 0, fmt.Errorf("the receiver answered %d, a redirect: %w (a webhook URL must be the receiver's own)", resp.StatusCode, errRedirect)
	}
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	msg := fmt.Sprintf("the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if q := quote(head); q != "" {
		msg += ": " + q
	}
	return resp.StatusCode, retryAfter, errors.New(msg)
}

// transportError words a failed request without *url.Error's copy of the whole URL (query and
// all): the policy's refusal as it is, a timeout as a timeout, anything else by its cause.
func transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, ErrNotAllowed):
		var pe *policyDialError
		if errors.As(err, &pe) {
			return pe.err
		}
		return err
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return errors.New("no answer within the attempt's timeout")
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return fmt.Errorf("%w: %v", errCertificate, certErr.Err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return fmt.Errorf("the host %s was not found", dnsErr.Name)
		}
		return fmt.Errorf("the host %s could not be looked up", dnsErr.Name)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return errors.New("the connection was refused")
		}
		if opErr.Timeout() {
			return errors.New("no answer within the attempt's timeout")
		}
		return fmt.Errorf("the connection failed: %v", opErr.Err)
	}
	return fmt.Errorf("the request failed: %v", err)
}

// policyDialError carries a refusal out of the dialler through net/http unchanged.
type policyDialError struct{ err error }

func (e *policyDialError) Error() string { return e.err.Error() }
func (e *policyDialError) Unwrap() error { return e.err }

// dial is the transport's only way out: it resolves the host once, refuses the attempt when any
// address it resolves to is refused by the policy (a host with one private answer among public
// ones is not a host to trust with the others), then connects to those addresses only, in
// order, with every address checked again where the socket is about to connect.
func (s *Sender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	// The URL was checked before the request; checking the name again here keeps the dialler
	// safe on its own, should anything but Deliver ever use this transport.
	if _, err := s.policy.hostAllowed(host); err != nil {
		return nil, &policyDialError{err}
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = s.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	for _, a := range addrs {
		if err := s.policy.checkAddr(host, a); err != nil {
			return nil, &policyDialError{err}
		}
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := s.dialChecked(ctx, host, network, a, port)
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil || errors.Is(err, ErrNotAllowed) {
			break
		}
	}
	return nil, firstErr
}

// dialChecked connects to one address, which the policy judges once more in ControlContext,
// just before the socket connects: whatever led to this address, it is the one checked.
func (s *Sender) dialChecked(ctx context.Context, host, network string, a netip.Addr, port string) (net.Conn, error) {
	d := net.Dialer{
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &policyDialError{fmt.Errorf("%s: an address that cannot be checked is not dialled: %w", host, ErrNotAllowed)}
			}
			if err := s.policy.checkAddr(host, ap.Addr()); err != nil {
				return &policyDialError{err}
			}
			return nil
		},
	}
	return d.DialContext(ctx, network, net.JoinHostPort(a.WithZone("").String(), port))
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// quote is the start of a receiver's answer, fit to put in an error: printable characters only,
// white space folded, at most maxErrorBody bytes.
func quote(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorBody {
		cut := maxErrorBody
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// redactedURL is the URL as errors show it: cut after its host, as /watch shows it, since
// receivers keep their token in the path (Slack-style hooks) as often as in the query.
func redactedURL(u *url.URL) string {
	shown := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery {
		shown += "/…"
	}
	return shown
}

// redact removes from an error what must never be in one, should a receiver or a library have
// echoed it: the secret, the URL's query string and each of its values.
func redact(msg, rawURL string, secret []byte) string {
	var secrets []string
	if len(secret) >= 4 {
		secrets = append(secrets, string(secret), hex.EncodeToString(secret))
	}
	if u, err := url.Parse(strings.TrimSpace(rawURL)); err == nil {
		if u.RawQuery != "" {
			secrets = append(secrets, u.RawQuery)
		}
		if len(u.Path) >= 4 {
			secrets = append(secrets, u.EscapedPath(), u.Path)
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= 4 {
					secrets = append(secrets, v, url.QueryEscape(v))
				}
			}
		}
		if u.User != nil {
			secrets = append(secrets, u.User.String())
			if pw, ok := u.User.Password(); ok && len(pw) >= 4 {
				secrets = append(secrets, pw)
			}
		}
	}
	for _, x := range secrets {
		msg = strings.ReplaceAll(msg, x, "[redacted]")
	}
	return msg
}

func newID() string {
	b := make([]byte, 16)
	_, _ = cryptorand.Read(b)
	return hex.EncodeToString(b)
}
