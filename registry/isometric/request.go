package isometric

// The request machinery under every endpoint method of client.go: one GET with retries,
// backoff (Retry-After honoured), the shared concurrency bound, decoding, the typed errors, and
// the redaction that keeps the credentials out of whatever the upstream sends back.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// get sends GET base+path?query with retries and decodes a 200 JSON answer into out. endpoint
// is the route template used in errors and metrics so that ids never become label values.
func (c *Client) get(ctx context.Context, endpoint, path string, query url.Values, out any) error {
	u := *c.base
	u.Path = c.base.Path + path
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var lastErr *registry.APIError
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		if attempt > 1 {
			wait := c.backoff(attempt-1, lastErr)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		retryAfter, err := c.attempt(ctx, endpoint, u.String(), attempt > 1, out)
		if err == nil {
			return nil
		}
		var apiErr *registry.APIError
		if !errors.As(err, &apiErr) {
			return err // the caller's context ended
		}
		apiErr.Path = path // ids are ours, validated, or the registry's own: never a secret
		apiErr.Attempts = attempt
		lastErr = apiErr
		lastErr.RetryAfter = retryAfter
		if !retryable(apiErr) {
			return apiErr
		}
	}
	return lastErr
}

func retryable(e *registry.APIError) bool {
	switch e.Status {
	case 0, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return e.Kind == registry.ErrThrottled || e.Kind == registry.ErrUnavailable
	}
	return false
}

// backoff is exponential with full jitter, except that a Retry-After the upstream asked for is
// waited at least (both capped by MaxBackoff).
func (c *Client) backoff(retry int, last *registry.APIError) time.Duration {
	ceiling := c.baseBackoff << min(retry-1, 20)
	if ceiling > c.maxBackoff || ceiling <= 0 {
		ceiling = c.maxBackoff
	}
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
	if last != nil && last.RetryAfter > wait {
		wait = last.RetryAfter
	}
	return min(wait, c.maxBackoff)
}

// attempt sends one request. It returns the Retry-After the answer asked for (0 if none).
func (c *Client) attempt(ctx context.Context, endpoint, rawURL string, retry bool, out any) (time.Duration, error) {
	if err := c.sem.Acquire(ctx, 1); err != nil {
		return 0, err
	}
	defer c.sem.Release(1)
	c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	c.requests.Add(1)
	if retry {
		c.retries.Add(1)
	}
	start := time.Now()
	status := 0
	defer func() {
		if fn := c.observer.Load(); fn != nil {
			(*fn)(registry.RequestEvent{Endpoint: endpoint, Status: status, Duration: time.Since(start), Retry: retry})
		}
	}()

	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, &registry.APIError{Kind: registry.ErrInvalid, Endpoint: endpoint, Message: "could not build the request"}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("x-client-secret", c.secret)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		msg := transportSummary(err)
		return 0, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: endpoint, Message: msg, Timeout: msg == msgTimedOut}
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: endpoint, Status: status, Message: "the answer was cut off: " + transportSummary(err)}
	}
	if len(body) > maxBodyBytes {
		return 0, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: endpoint, Status: status, Message: "the answer is larger than expected"}
	}
	if status == http.StatusOK {
		if !isJSON(resp.Header.Get("Content-Type"), body) {
			return 0, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: endpoint, Status: status, Message: "the answer is not JSON (a proxy's page?)"}
		}
		if err := json.Unmarshal(body, out); err != nil {
			return 0, &registry.APIError{Kind: registry.ErrUnavailable, Endpoint: endpoint, Status: status, Message: "the answer could not be decoded: " + decodeSummary(err)}
		}
		return 0, nil
	}
	e := &registry.APIError{Endpoint: endpoint, Status: status, Message: registry.TruncateForError(c.redact(upstreamDetail(body)))}
	switch {
	case status == http.StatusNotFound:
		e.Kind = registry.ErrNotFound
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = registry.ErrCredentials
	case status == http.StatusTooManyRequests:
		e.Kind = registry.ErrThrottled
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		e.Kind = registry.ErrInvalid
	default:
		e.Kind = registry.ErrUnavailable
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), e
}

// redact removes the credentials from upstream text: an upstream (or a proxy) that echoes what
// it was sent must not carry them into our errors, logs or pages. Each is replaced as a whole
// value, the longer first so that one holding the other is not left half shown; NewClient
// refuses credentials short enough to match fragments of ordinary words.
func (c *Client) redact(s string) string {
	secrets := []string{c.token, c.secret}
	if len(secrets[1]) > len(secrets[0]) {
		secrets[0], secrets[1] = secrets[1], secrets[0]
	}
	for _, secret := range secrets {
		if len(secret) >= MinSecretLength {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func isJSON(contentType string, body []byte) bool {
	if ct := strings.ToLower(contentType); ct != "" && !strings.Contains(ct, "json") {
		return false
	}
	return json.Valid(body)
}

// parseRetryAfter reads delay-seconds or an HTTP-date; anything else is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// upstreamDetail extracts the upstream's explanation from a JSON {"detail": ...} body: a string,
// or the msg of each validation error of a 422. A non-JSON body (a proxy's HTML) yields "".
// It is upstream text: the caller redacts and shortens it, and it is only ever shown escaped.
func upstreamDetail(body []byte) string {
	var v struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Detail) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.Detail, &s) == nil {
		return s
	}
	var list []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(v.Detail, &list) == nil {
		var parts []string
		for _, e := range list {
			loc := make([]string, 0, len(e.Loc))
			for _, l := range e.Loc {
				loc = append(loc, fmt.Sprint(l))
			}
			parts = append(parts, strings.Join(loc, ".")+": "+e.Msg)
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// transportSummary names the kind of transport failure without the URL (which is ours, but
// keeping errors short and free of request details is what keeps secrets out of them).
const msgTimedOut = "timed out"

func transportSummary(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return msgTimedOut
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed early"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "network error (" + op.Op + ")"
	}
	return "transport error"
}

func decodeSummary(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	}
	return "unexpected shape"
}
