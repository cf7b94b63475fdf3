package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

func init() { gin.SetMode(gin.TestMode) }

// testApp is the explorer served over real HTTP, in front of the demo registry served over
// real HTTP, as in production but on loopback.
type testApp struct {
	reg      *demo.Registry
	fx       demo.Fixtures
	explorer *lineage.Explorer
	client   *isometric.Client // the explorer's upstream, for tests that ask the registry directly
	url      string
	http     *http.Client // does not follow redirects, so that tests see them
}

type appOptions struct {
	demo         demo.Options
	upstream     func(http.Handler) http.Handler // wraps the demo registry (fault injection)
	baseURL      string                          // an upstream other than the demo
	token        string
	secret       string
	progressWait time.Duration
	lineage      views.LineageOptions
	clientTweak  func(*isometric.ClientConfig)
	maxNodes     int // the walk's node bound; default as in main.go
	auth         *AuthConfig
	metrics      bool
	fragmentWait time.Duration
	shared       *rediscache.Tier
	log          io.Writer     // where the access log goes; default discarded
	basePath     string        // BASE_PATH, such as "/lineage"; "" serves at the root
	retryWait    time.Duration // the walk's first wait before it asks again for what failed; default 1ms
	claims       ClaimsConfig
	claimsSample bool             // fill ClaimsConfig.Sample with the demo's sample list, as main.go does
	history      *history.Journal // the journal every batch stored is recorded in, as main.go wires it
	// observe, when set, is handed each batch stored instead of history.Observe (to lose some).
	observe     func(*registry.CreditBatch)
	cacheTTL    time.Duration // how long an active batch is trusted; default the cache's
	noPlanner   bool          // walk by id only, as a registry that refuses list routes makes it
	demoChanges time.Duration // DEMO_CHANGE_EVERY as the home page says it; the tests step the demo themselves
}

func newApp(t testing.TB, o appOptions) *testApp {
	t.Helper()
	reg := demo.New(o.demo)
	base := o.baseURL
	if base == "" {
		var h http.Handler = http.StripPrefix(demo.BasePath, reg)
		if o.upstream != nil {
			h = o.upstream(h)
		}
		up := httptest.NewServer(h)
		t.Cleanup(up.Close)
		base = up.URL + demo.BasePath
	}
	cc := isometric.ClientConfig{BaseURL: base, AccessToken: or(o.token, demo.AccessToken),
		ClientSecret: or(o.secret, demo.ClientSecret), BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	if o.clientTweak != nil {
		o.clientTweak(&cc)
	}
	client, err := isometric.NewClient(cc)
	if err != nil {
		t.Fatal(err)
	}
	if o.maxNodes == 0 {
		o.maxNodes = 60_000
	}
	if o.retryWait == 0 {
		o.retryWait = time.Millisecond // a batch that keeps failing costs the tests no seconds of waits
	}
	ecfg := lineage.ExplorerConfig{Walker: lineage.WalkerConfig{MaxNodes: o.maxNodes, RetryWait: o.retryWait}, NoPlanner: o.noPlanner}
	if o.shared != nil {
		ecfg.Cache.Shared = o.shared
	}
	ecfg.Cache.TTL = o.cacheTTL
	if o.history != nil {
		ecfg.Cache.OnStore = o.history.Observe
	}
	if o.observe != nil {
		ecfg.Cache.OnStore = o.observe
	}
	ex := lineage.NewExplorer(client, ecfg)
	if o.progressWait == 0 {
		o.progressWait = time.Minute // most tests want the finished page, not the progress page
	}
	logTo := o.log
	if logTo == nil {
		logTo = io.Discard
	}
	cfg := Config{Explorer: ex, Demo: true, Logger: slog.New(slog.NewJSONHandler(logTo, nil)),
		ProgressWait: o.progressWait, FragmentWait: o.fragmentWait, Lineage: o.lineage, Examples: []views.Example{{Label: "Wide", ID: reg.Fixtures().WideRoot}}}
	if o.auth != nil {
		a, err := NewAuthenticator(context.Background(), *o.auth)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Auth, cfg.TrustedProxies = a, o.auth.TrustedProxies
	}
	cfg.BasePath = o.basePath
	cfg.Claims = o.claims
	cfg.History = o.history
	cfg.DemoChangeEvery = o.demoChanges
	if o.claimsSample {
		cfg.Claims.Sample = reg.SampleClaims()
	}
	if o.metrics {
		cfg.Metrics = NewMetrics()
		cfg.Metrics.Attach(ex)
	}
	h := New(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testApp{reg: reg, fx: reg.Fixtures(), explorer: ex, client: client, url: srv.URL,
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// response is one answer of the app, read in full.
type response struct {
	status int
	header http.Header
	body   string
}

func (a *testApp) do(t testing.TB, method, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (a *testApp) get(t testing.TB, path string) response {
	t.Helper()
	return a.do(t, http.MethodGet, path)
}

// page GETs path, checks the status, and parses the HTML.
func (a *testApp) page(t testing.TB, path string, wantStatus int) (*goquery.Document, response) {
	t.Helper()
	r := a.get(t, path)
	if r.status != wantStatus {
		t.Fatalf("GET %s: status %d, want %d; body starts %q", path, r.status, wantStatus, head(r.body, 600))
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

func head(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// text is the trimmed, whitespace-collapsed text of a selection.
func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func optionsWithFaults(rate float64) demo.Options { return demo.Options{FaultRate: rate, Seed: 1} }

func newTestServer(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func srvGet(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// syncBuffer collects the app's log for a test: the server's goroutines write to it while the
// test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// take returns everything written so far and empties the buffer.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}
