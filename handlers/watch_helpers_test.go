package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// watchApp is the explorer with watch lists, as main.go wires it: the demo registry over HTTP
// (whose batch parent is sent unsplit until split is set), the real client, the journal, the
// poller and the handlers over HTTP.
type watchApp struct {
	*testApp
	journal *history.Journal
	poller  *watch.Poller
	parent  string       // a split batch of the demo, sent as active and unsplit until split is set
	split   *atomic.Bool // set: parent is sent as the demo has it
	hooks   *recordingNotifier
}

type watchOptions struct {
	auth   *AuthConfig
	poller watch.Config
}

func newWatchApp(t testing.TB, o watchOptions) *watchApp {
	t.Helper()
	reg := demo.New(demo.Options{})
	fx := reg.Fixtures()
	child, _ := reg.Batch(fx.HostileOrgBatch)
	parent := child.ParentID
	split := new(atomic.Bool)
	h := demo.EditRecords(http.StripPrefix(demo.BasePath, reg), func(rec map[string]any) {
		if id, _ := rec["id"].(string); id == parent && !split.Load() {
			rec["status"], rec["left_child_id"], rec["right_child_id"] = "active", nil, nil
		}
	})
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	client, err := isometric.NewClient(isometric.ClientConfig{BaseURL: up.URL + demo.BasePath, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	journal := openJournal(t)
	ex := lineage.NewExplorer(client, lineage.ExplorerConfig{Cache: cache.Config{OnStore: journal.Observe}})
	hooks := &recordingNotifier{}
	if o.poller.Notifier == nil {
		o.poller.Notifier = hooks
	}
	poller := watch.New(ex, journal, o.poller)
	cfg := Config{Explorer: ex, Demo: true, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), ProgressWait: time.Minute,
		History: journal, Watch: poller, Metrics: NewMetrics()}
	cfg.Metrics.Attach(ex)
	if o.auth != nil {
		a, err := NewAuthenticator(context.Background(), *o.auth)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Auth, cfg.TrustedProxies = a, o.auth.TrustedProxies
	}
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	a := &testApp{reg: reg, fx: fx, explorer: ex, client: client, url: srv.URL,
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return &watchApp{testApp: a, journal: journal, poller: poller, parent: parent, split: split, hooks: hooks}
}

// poll is one poll of the watched trees, as the ticker makes it.
func (w *watchApp) poll(t testing.TB) {
	t.Helper()
	if err := w.poller.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// send makes one request with the header lines h (user, origin) and reads the answer.
func (w *watchApp) send(t testing.TB, method, path, contentType, body string, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// as is the header of a user signed in through the proxy (header mode).
func as(user string) http.Header { return http.Header{"X-Forwarded-Email": {user}} }

// recordingNotifier accepts every delivery and keeps its body (or, while fail is set, fails it
// after three attempts); it allows only https URLs.
type recordingNotifier struct {
	mu     sync.Mutex
	bodies []string
	fail   atomic.Bool
}

func (n *recordingNotifier) CheckURL(raw string) error {
	if !strings.HasPrefix(raw, "https://") {
		return errNotHTTPS
	}
	return nil
}

var errNotHTTPS = errors.New("only https URLs are allowed here")

func (n *recordingNotifier) Deliver(_ context.Context, _ string, _ []byte, body []byte) watch.Delivery {
	n.mu.Lock()
	n.bodies = append(n.bodies, string(body))
	n.mu.Unlock()
	now := time.Now()
	if n.fail.Load() {
		return watch.Delivery{Attempts: 3, Status: http.StatusServiceUnavailable, Err: "the webhook answered 503 Service Unavailable", Started: now, Finished: now}
	}
	return watch.Delivery{Attempts: 1, Status: http.StatusNoContent, Started: now, Finished: now, OK: true}
}

func (n *recordingNotifier) delivered() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.bodies...)
}

// nextMillisecond returns once the clock has passed the millisecond it was called in: the
// journal keeps times in milliseconds.
func nextMillisecond() {
	for start := time.Now().UnixMilli(); time.Now().UnixMilli() == start; {
		runtime.Gosched()
	}
}
