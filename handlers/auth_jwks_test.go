package handlers

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 5. A made-up key id must not cost the proxy a fetch of its keys per request: the keys are
// fetched again at most once per cooldown, the other such requests are refused at once, and a
// key the proxy has really rotated to works within one cooldown.
func TestAuthUnknownKeyIDsAreFetchedAtMostOncePerCooldown(t *testing.T) {
	p := newKeyIDP(t)
	clock := newTestClock()
	cfg := p.config()
	cfg.now = clock.Now
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a := newApp(t, appOptions{auth: &cfg, metrics: true})
	before := metricValue(t, a, "lineage_auth_key_fetches_total")
	request := func(kid string) response {
		return a.getWith(t, "/", pomerium(p.assertion(t, kid, p.claims(clock.Now()), map[string]any{"email": "ana@corp.example"})))
	}
	wantFetches := func(step string, n int64) {
		t.Helper()
		if got := p.fetches.Load(); got != n {
			t.Fatalf("%s: %d fetches of the JWKS so far, want %d", step, got, n)
		}
	}
	unknown := func(step string, n int) {
		t.Helper()
		for i := range n {
			if r := request(fmt.Sprintf("made-up-%d", i)); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "does not publish") {
				t.Fatalf("%s: made-up key id %d: status %d, want 401 saying the proxy does not publish it", step, i, r.status)
			}
		}
	}

	if r := request("k1"); r.status != 200 {
		t.Fatalf("the first good assertion: status %d", r.status)
	}
	wantFetches("the first assertion", 1)
	unknown("within the cooldown", 100)
	wantFetches("100 made-up key ids within the cooldown", 1)
	clock.Advance(DefaultJWKSCooldown - time.Second)
	unknown("a second before the cooldown ends", 1)
	wantFetches("a second before the cooldown ends", 1)
	clock.Advance(time.Second)
	unknown("after the cooldown", 100)
	wantFetches("100 made-up key ids after the cooldown", 2)

	// Many at once after a cooldown share the one fetch.
	clock.Advance(DefaultJWKSCooldown)
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for i := range 50 {
		raw := p.assertion(t, fmt.Sprintf("at-once-%d", i), p.claims(clock.Now()), nil)
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, a.url+"/", nil)
			req.Header.Set("X-Pomerium-Jwt-Assertion", raw)
			if resp, err := a.http.Do(req); err == nil {
				if resp.StatusCode == 200 {
					admitted.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 0 {
		t.Errorf("%d made-up key ids sent at once were let in", admitted.Load())
	}
	wantFetches("50 made-up key ids at once", 3)

	// The proxy rotates to k2: refused until the cooldown of the last fetch is over, then
	// fetched once and admitted; k1, no longer published, is refused without a fetch.
	p.publish(t, "k2")
	clock.Advance(10 * time.Second)
	if r := request("k2"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "reload") {
		t.Errorf("a rotated key within the cooldown: status %d, want 401 asking to reload", r.status)
	}
	wantFetches("a rotated key within the cooldown", 3)
	clock.Advance(DefaultJWKSCooldown - 10*time.Second)
	for range 3 {
		if r := request("k2"); r.status != 200 {
			t.Errorf("a rotated key after the cooldown: status %d", r.status)
		}
	}
	wantFetches("a rotated key after the cooldown", 4)
	if r := request("k1"); r.status != http.StatusUnauthorized {
		t.Errorf("a key no longer published: status %d", r.status)
	}
	wantFetches("a key no longer published", 4)

	if got := metricValue(t, a, "lineage_auth_key_fetches_total") - before; got != 4 {
		t.Errorf("lineage_auth_key_fetches_total grew by %v, want 4", got)
	}
}

// A key endpoint that fails is asked again no more often than one that answers, and what it
// answered reaches neither the page nor the log.
func TestAuthFailingKeyEndpointIsAskedOncePerCooldown(t *testing.T) {
	var fetches atomic.Int64
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		http.Error(w, "internal detail 7f3a", http.StatusInternalServerError)
	}))
	t.Cleanup(jwks.Close)
	p := newKeyIDP(t)
	clock := newTestClock()
	var logs syncBuffer
	cfg := p.config()
	cfg.JWKSURL, cfg.now, cfg.Logger = jwks.URL, clock.Now, slog.New(slog.NewJSONHandler(&logs, nil))
	cfg.JWKSCooldown = 45 * time.Second
	a := newApp(t, appOptions{auth: &cfg})
	for i := range 10 {
		r := a.getWith(t, "/", pomerium(p.assertion(t, "k1", p.claims(clock.Now()), nil)))
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "could not be fetched") || strings.Contains(r.body, "7f3a") {
			t.Fatalf("request %d with the key endpoint failing: status %d; page %.300s", i, r.status, pageText(r.body))
		}
	}
	if fetches.Load() != 1 {
		t.Errorf("10 requests with the key endpoint failing made %d fetches, want 1", fetches.Load())
	}
	clock.Advance(44 * time.Second)
	a.getWith(t, "/", pomerium(p.assertion(t, "k1", p.claims(clock.Now()), nil)))
	clock.Advance(time.Second)
	a.getWith(t, "/", pomerium(p.assertion(t, "k1", p.claims(clock.Now()), nil)))
	if fetches.Load() != 2 {
		t.Errorf("after a 45 s cooldown: %d fetches, want 2", fetches.Load())
	}
	if log := logs.String(); !strings.Contains(log, "500 Internal Server Error") || strings.Contains(log, "7f3a") {
		t.Errorf("the log should give the status of the failed fetch, not its body:\n%s", log)
	}
}
