package webhook

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testBody = []byte(`{"watch_list":"wl_1","changes":[{"batch":"cb_1","change":"retired"}]}`)

// fakeResolver answers from a table and counts its lookups, so that a test can make a name
// resolve to loopback, and see that each attempt resolves once.
type fakeResolver struct {
	table   map[string][]netip.Addr
	lookups atomic.Int32
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	if a, ok := r.table[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func resolverFor(host string, addrs ...string) *fakeResolver {
	r := &fakeResolver{table: map[string][]netip.Addr{}}
	for _, a := range addrs {
		r.table[host] = append(r.table[host], netip.MustParseAddr(a))
	}
	return r
}

// waits records the sender's waits between attempts and returns at once, so that retries take
// no time and the schedule can be read.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// receiver is an httptest server that answers each request with the next of its statuses (the
// last one repeated) and keeps what it was sent.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	header   func(n int, h http.Header)
	requests []*http.Request
	bodies   [][]byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.requests)
		r.requests = append(r.requests, req)
		r.bodies = append(r.bodies, body)
		status := r.statuses[min(n, len(r.statuses)-1)]
		r.mu.Unlock()
		if r.header != nil {
			r.header(n, w.Header())
		}
		w.WriteHeader(status)
		io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

// got is the i-th request the receiver was sent, and its body.
func (r *receiver) got(i int) (*http.Request, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[i], r.bodies[i]
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// loopbackPolicy is the policy every test that reaches an httptest server needs: loopback is
// refused by default, so it is allowed here by CIDR, explicitly.
const loopbackPolicy = "127.0.0.0/8"

func TestDeliverySignedAndVerifiable(t *testing.T) {
	rc := newReceiver(t, http.StatusNoContent)
	s := NewSender(mustPolicy(t, loopbackPolicy))
	d := s.Deliver(context.Background(), rc.URL+"/hook", testSecret, testBody)
	if !d.OK || d.Attempts != 1 || d.Status != http.StatusNoContent || d.Err != "" || d.ID == "" {
		t.Fatalf("Deliver = %+v, want one successful attempt", d)
	}
	if d.Finished.Before(d.Started) {
		t.Errorf("Finished %v before Started %v", d.Finished, d.Started)
	}
	req, body := rc.got(0)
	if req.Method != http.MethodPost || req.URL.Path != "/hook" || string(body) != string(testBody) {
		t.Fatalf("receiver got %s %s %q", req.Method, req.URL.Path, body)
	}
	if err := Verify(testSecret, req.Header.Get(HeaderSignature), req.Header.Get(HeaderTimestamp), body, time.Now(), time.Minute); err != nil {
		t.Errorf("the receiver cannot verify the delivery: %v", err)
	}
	if err := Verify(testSecret, req.Header.Get(HeaderSignature), req.Header.Get(HeaderTimestamp), append(body, ' '), time.Now(), time.Minute); err == nil {
		t.Errorf("a changed body verifies")
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if ua := req.Header.Get("User-Agent"); !strings.Contains(ua, "lineage explorer") {
		t.Errorf("User-Agent = %q does not name the explorer", ua)
	}
	if id := req.Header.Get(HeaderDelivery); id != d.ID {
		t.Errorf("%s = %q, Delivery.ID = %q", HeaderDelivery, id, d.ID)
	}
	if auth := req.Header.Get("Authorization"); auth != "" {
		t.Errorf("Authorization sent: %q", auth)
	}
}

func TestRetryThenSuccessCountsAttempts(t *testing.T) {
	rc := newReceiver(t, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusOK)
	w := &waits{}
	var tick atomic.Int64
	clock := func() time.Time { return time.Unix(1_790_000_000+60*tick.Add(1), 0) }
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(w.sleep), WithClock(clock),
		WithBackoff(100*time.Millisecond, 10*time.Second, 0))
	d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
	if !d.OK || d.Attempts != 3 || d.Status != http.StatusOK || d.Err != "" {
		t.Fatalf("Deliver = %+v, want OK on the 3rd attempt", d)
	}
	if rc.count() != 3 {
		t.Fatalf("receiver got %d requests, want 3", rc.count())
	}
	// Exponential with jitter: about 100 ms, then about 200 ms (half fixed, half random).
	got := w.all()
	if len(got) != 2 || got[0] < 50*time.Millisecond || got[0] > 100*time.Millisecond ||
		got[1] < 100*time.Millisecond || got[1] > 200*time.Millisecond {
		t.Errorf("waits = %v, want one in [50ms,100ms] then one in [100ms,200ms]", got)
	}
	// One delivery id for every attempt, and each attempt signed at its own time, so that a
	// late retry is not refused as a replay.
	var stamps []string
	for i := range 3 {
		req, body := rc.got(i)
		if req.Header.Get(HeaderDelivery) != d.ID {
			t.Errorf("attempt %d: delivery id %q, want %q", i+1, req.Header.Get(HeaderDelivery), d.ID)
		}
		ts := req.Header.Get(HeaderTimestamp)
		stamps = append(stamps, ts)
		if err := Verify(testSecret, req.Header.Get(HeaderSignature), ts, body, clock(), 5*time.Minute); err != nil {
			t.Errorf("attempt %d does not verify at its own time: %v", i+1, err)
		}
	}
	if stamps[0] == stamps[1] || stamps[1] == stamps[2] {
		t.Errorf("attempts signed with the same timestamp: %v", stamps)
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	rc := newReceiver(t, http.StatusInternalServerError)
	w := &waits{}
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(w.sleep), WithMaxAttempts(4))
	d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
	if d.OK || d.Attempts != 4 || d.Status != http.StatusInternalServerError || rc.count() != 4 {
		t.Fatalf("Deliver = %+v after %d requests, want 4 failed attempts", d, rc.count())
	}
	if !strings.Contains(d.Err, "500") || !strings.Contains(d.Err, "gave up after 4 attempts") {
		t.Errorf("Err = %q", d.Err)
	}
	if got := w.all(); len(got) != 3 {
		t.Errorf("waits = %v, want 3", got)
	}
}

// A receiver that is not there is a network error: retried like a 5xx.
func TestNetworkErrorRetried(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	u := gone.URL
	gone.Close()
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep((&waits{}).sleep), WithMaxAttempts(3))
	d := s.Deliver(context.Background(), u, testSecret, testBody)
	if d.OK || d.Attempts != 3 || d.Status != 0 || !strings.Contains(d.Err, "refused") {
		t.Fatalf("Deliver = %+v, want 3 attempts refused by the closed port", d)
	}
}

func TestClientErrorNotRetried(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity} {
		rc := newReceiver(t, status, http.StatusOK)
		w := &waits{}
		s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(w.sleep))
		d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
		if d.OK || d.Attempts != 1 || d.Status != status || rc.count() != 1 || len(w.all()) != 0 {
			t.Errorf("%d: Deliver = %+v after %d requests, want one attempt", status, d, rc.count())
		}
		if !strings.Contains(d.Err, http.StatusText(status)) {
			t.Errorf("%d: Err = %q does not quote the receiver", status, d.Err)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	rc := newReceiver(t, http.StatusTooManyRequests, http.StatusOK)
	rc.header = func(n int, h http.Header) {
		if n == 0 {
			h.Set("Retry-After", "7")
		}
	}
	w := &waits{}
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(w.sleep), WithBackoff(time.Millisecond, time.Second, 10*time.Second))
	d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
	if !d.OK || d.Attempts != 2 {
		t.Fatalf("Deliver = %+v, want OK on the 2nd attempt", d)
	}
	if got := w.all(); len(got) != 1 || got[0] != 7*time.Second {
		t.Errorf("waits = %v, want the 7s the receiver asked for", got)
	}
}

// A receiver asking to wait longer than the sender's cap is not tried again in this delivery:
// retrying sooner than asked would only be refused again.
func TestRetryAfterBeyondCapStops(t *testing.T) {
	rc := newReceiver(t, http.StatusTooManyRequests, http.StatusOK)
	rc.header = func(_ int, h http.Header) { h.Set("Retry-After", "3600") }
	w := &waits{}
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(w.sleep), WithBackoff(0, 0, time.Minute))
	d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
	if d.OK || d.Attempts != 1 || d.Status != http.StatusTooManyRequests || len(w.all()) != 0 {
		t.Fatalf("Deliver = %+v, waits %v: want one attempt and no wait", d, w.all())
	}
	if !strings.Contains(d.Err, "asked to wait 1h0m0s") {
		t.Errorf("Err = %q", d.Err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, http.StatusOK)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		rc := newReceiver(t, status)
		rc.header = func(_ int, h http.Header) { h.Set("Location", target.URL+"/elsewhere") }
		w := &waits{}
		s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(w.sleep))
		d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
		if d.OK || d.Attempts != 1 || d.Status != status || len(w.all()) != 0 {
			t.Errorf("%d: Deliver = %+v, want one failed attempt", status, d)
		}
		if !strings.Contains(d.Err, "redirect") {
			t.Errorf("%d: Err = %q does not say redirect", status, d.Err)
		}
	}
	if target.count() != 0 {
		t.Errorf("the redirect's target got %d requests", target.count())
	}
}

// A receiver that never answers costs one attempt's timeout per attempt, not the sender's
// patience.
func TestAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep((&waits{}).sleep), WithMaxAttempts(2),
		WithTimeouts(200*time.Millisecond, 0))
	d := s.Deliver(context.Background(), srv.URL, testSecret, testBody)
	if d.OK || d.Attempts != 2 || d.Status != 0 || hits.Load() != 2 {
		t.Fatalf("Deliver = %+v after %d requests, want 2 attempts without an answer", d, hits.Load())
	}
	if !strings.Contains(d.Err, "timeout") {
		t.Errorf("Err = %q does not say timeout", d.Err)
	}
}

// The total bound is kept before a wait, not after it: a wait that would end past it is not
// started.
func TestTotalTimeoutBoundsTheRetries(t *testing.T) {
	rc := newReceiver(t, http.StatusServiceUnavailable)
	s := NewSender(mustPolicy(t, loopbackPolicy), WithTimeouts(0, time.Second), WithBackoff(time.Hour, time.Hour, 0))
	d := s.Deliver(context.Background(), rc.URL, testSecret, testBody)
	if d.OK || d.Attempts != 1 || !strings.Contains(d.Err, "no time left") {
		t.Fatalf("Deliver = %+v, want one attempt and no wait past the total bound", d)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	rc := newReceiver(t, http.StatusServiceUnavailable)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleep := func(ctx context.Context, d time.Duration) error {
		cancel() // the watch list was deleted, or the explorer is stopping
		<-ctx.Done()
		return ctx.Err()
	}
	s := NewSender(mustPolicy(t, loopbackPolicy), WithSleep(sleep))
	d := s.Deliver(ctx, rc.URL, testSecret, testBody)
	if d.OK || d.Attempts != 1 || rc.count() != 1 || !strings.Contains(d.Err, "cancelled") {
		t.Fatalf("Deliver = %+v after %d requests, want it stopped after the 1st attempt", d, rc.count())
	}
	// A context already ended makes no attempt at all.
	d = s.Deliver(ctx, rc.URL, testSecret, testBody)
	if d.OK || d.Attempts != 0 || rc.count() != 1 {
		t.Fatalf("Deliver with an ended context = %+v after %d requests", d, rc.count())
	}
}

func TestDeliveryRefusedBeforeAnyAttempt(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := NewSender(mustPolicy(t, loopbackPolicy))
	for name, c := range map[string]struct {
		url          string
		secret, body []byte
	}{
		"short secret":     {rc.URL, []byte("short"), testBody},
		"no secret":        {rc.URL, nil, testBody},
		"body not JSON":    {rc.URL, testSecret, []byte("retired cb_1")},
		"host not allowed": {"https://hooks.example.com/x", testSecret, testBody},
	} {
		d := s.Deliver(context.Background(), c.url, c.secret, c.body)
		if d.OK || d.Attempts != 0 || d.Err == "" {
			t.Errorf("%s: Deliver = %+v, want refused with no attempt", name, d)
		}
	}
	if rc.count() != 0 {
		t.Errorf("receiver got %d requests", rc.count())
	}
}

// Only the first few KB of an answer are read: a receiver streaming a large error page gets
// its first words quoted, and no more.
func TestLargeAnswerReadInPart(t *testing.T) {
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		chunk := []byte(strings.Repeat("invalid payload ", 64))
		for range 64 << 10 { // 64 MiB if all were read
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	s := NewSender(mustPolicy(t, loopbackPolicy))
	d := s.Deliver(context.Background(), srv.URL, testSecret, testBody)
	if d.OK || d.Attempts != 1 || !strings.Contains(d.Err, "invalid payload") || len(d.Err) > 500 {
		t.Fatalf("Deliver = %+v", d)
	}
	srv.Close() // waits for the handler, which stops when the connection is gone
	if w := written.Load(); w >= 64<<20 {
		t.Errorf("the whole %d-byte answer was read", w)
	}
}

// A URL's query often holds the receiver's token: it is not in the Delivery's error, even when
// the receiver echoes the request back.
func TestDeliveryErrorRedactsQueryAndSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "bad request to "+r.URL.String()+" token "+r.URL.Query().Get("token")+" secret "+string(testSecret))
	}))
	defer srv.Close()
	s := NewSender(mustPolicy(t, loopbackPolicy))
	const token = "tok_9f8e7d6c5b4a"
	d := s.Deliver(context.Background(), srv.URL+"/hooks/T0KENPATH?token="+url.QueryEscape(token)+"&team=ops", testSecret, testBody)
	if d.OK || d.Status != http.StatusForbidden {
		t.Fatalf("Deliver = %+v", d)
	}
	for _, leak := range []string{token, string(testSecret), "team=ops", "T0KENPATH"} {
		if strings.Contains(d.Err, leak) {
			t.Errorf("Err holds %q: %s", leak, d.Err)
		}
	}
	if !strings.Contains(d.Err, strings.TrimPrefix(srv.URL, "http://")+"/…") {
		t.Errorf("Err = %q, want the URL cut after its host", d.Err)
	}
}
