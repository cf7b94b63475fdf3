package handlers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"weak"

	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// metric reads one unlabelled sample from the app's /metrics.
func (a *testApp) metric(t *testing.T, name string) float64 {
	t.Helper()
	r := a.get(t, "/metrics")
	sc := bufio.NewScanner(strings.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

func TestConcurrentRequestsShareOneRender(t *testing.T) {
	a := newApp(t, appOptions{metrics: true})
	paths := []string{
		views.BatchURL(a.fx.WideLeafDeep),
		"/api/v1/batches/" + a.fx.WideLeafDeep + "/lineage",
		views.LineageCSVURL(a.fx.WideLeafDeep),
	}
	bodies := make([][]string, len(paths))
	var wg sync.WaitGroup
	const users = 12
	for i, p := range paths {
		bodies[i] = make([]string, users)
		for u := range users {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, a.url+p, nil)
				req.Header.Set("Accept-Encoding", "identity")
				resp, err := a.http.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: status %d", p, resp.StatusCode)
				}
				bodies[i][u] = string(b)
			})
		}
	}
	wg.Wait()
	for i, p := range paths {
		for u := 1; u < users; u++ {
			if bodies[i][u] != bodies[i][0] || len(bodies[i][0]) < 10_000 {
				t.Fatalf("%s: user %d got %d bytes, user 0 %d", p, u, len(bodies[i][u]), len(bodies[i][0]))
			}
		}
	}
	if n := a.metric(t, "lineage_render_cache_renders_total"); n != float64(len(paths)) {
		t.Errorf("%d concurrent requests each for %d answers rendered %v times, want once each", users, len(paths), n)
	}
	a.get(t, paths[0])
	if hits := a.metric(t, "lineage_render_cache_hits_total"); hits < 1 {
		t.Errorf("a later request was not served from the render cache (hits %v)", hits)
	}
	if b := a.metric(t, "lineage_render_cache_bytes"); b < float64(len(bodies[1][0])) {
		t.Errorf("render cache holds %v bytes, less than the JSON export alone (%d)", b, len(bodies[1][0]))
	}
}

func TestReloadOfAnUnchangedTreeIsNotModified(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, p := range []string{views.BatchURL(a.fx.WideLeafDeep), views.LineageCSVURL(a.fx.WideLeafDeep)} {
		for _, enc := range []string{"identity", "gzip"} {
			get := func(inm string) *http.Response {
				req, _ := http.NewRequest(http.MethodGet, a.url+p, nil)
				req.Header.Set("Accept-Encoding", enc)
				if inm != "" {
					req.Header.Set("If-None-Match", inm)
				}
				resp, err := a.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			first := get("")
			_, _ = io.Copy(io.Discard, first.Body)
			first.Body.Close()
			etag := first.Header.Get("ETag")
			if first.StatusCode != http.StatusOK || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("%s (%s): status %d, ETag %q", p, enc, first.StatusCode, etag)
			}
			if cc := first.Header.Get("Cache-Control"); !strings.Contains(cc, "private") || !strings.Contains(cc, "no-cache") {
				t.Errorf("%s: Cache-Control %q lets a shared cache keep a page that names its user", p, cc)
			}
			again := get(`W/"other", ` + etag)
			body, _ := io.ReadAll(again.Body)
			again.Body.Close()
			if again.StatusCode != http.StatusNotModified || len(body) != 0 || again.Header.Get("ETag") != etag {
				t.Errorf("%s (%s): revalidation got %d with %d bytes", p, enc, again.StatusCode, len(body))
			}
			stale := get(`"not-this-one"`)
			_, _ = io.Copy(io.Discard, stale.Body)
			stale.Body.Close()
			if stale.StatusCode != http.StatusOK {
				t.Errorf("%s (%s): a stale validator got %d", p, enc, stale.StatusCode)
			}
		}
	}
	// The two encodings are two representations: one's validator must not match the other.
	id, gz := etagOf(t, a, "identity"), etagOf(t, a, "gzip")
	if id == gz {
		t.Errorf("plain and gzip answers share the ETag %s", id)
	}
}

func etagOf(t *testing.T, a *testApp, enc string) string {
	req, _ := http.NewRequest(http.MethodHead, a.url+views.BatchURL(a.fx.WideLeafDeep), nil)
	req.Header.Set("Accept-Encoding", enc)
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("ETag")
}

func TestCachedPagesNameTheirOwnUser(t *testing.T) {
	a := newApp(t, appOptions{auth: &AuthConfig{Mode: AuthHeader, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	path := views.BatchURL(a.fx.WideLeafDeep)
	shown := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace
	users := []string{"ana@registry.example", "<b>ben</b>@registry.example"}
	for i := range 4 { // ana, ben, ana, ben: the later ones are served from the cache
		user, other := users[i%2], users[(i+1)%2]
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("X-Forwarded-Email", user)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Signed in as <strong>"+shown(user)+"</strong>") {
			t.Fatalf("%s: status %d, the page does not name them", user, resp.StatusCode)
		}
		if strings.Contains(page, shown(other)) || strings.Contains(page, "<b>ben") {
			t.Errorf("%s was shown a page naming %s, or unescaped", user, other)
		}
	}
}

func TestARetryRendersTheNewWalk(t *testing.T) {
	a := newApp(t, appOptions{metrics: true})
	path := views.BatchURL(a.fx.AllFinalRoot)
	a.page(t, path, http.StatusOK)
	a.page(t, path, http.StatusOK)
	if n := a.metric(t, "lineage_render_cache_renders_total"); n != 1 {
		t.Fatalf("two requests rendered %v times", n)
	}
	if r := a.get(t, views.RetryURL(a.fx.AllFinalRoot)); r.status != http.StatusSeeOther {
		t.Fatalf("retry: status %d", r.status)
	}
	a.page(t, path, http.StatusOK)
	if n := a.metric(t, "lineage_render_cache_renders_total"); n != 2 {
		t.Errorf("the page after a retry was not rendered from the new walk (renders %v)", n)
	}
}

func TestRenderCacheStaysWithinItsBudget(t *testing.T) {
	const budget = 64 << 10
	rc := newRenderCache(budget)
	ctx := context.Background()
	write := func(n int) func(context.Context, io.Writer) error {
		return func(_ context.Context, w io.Writer) error {
			_, err := fmt.Fprint(w, strings.Repeat("x", n))
			return err
		}
	}
	trees := make([]*lineage.Tree, 40)
	for i := range trees {
		trees[i] = &lineage.Tree{}
		r, err := rc.get(ctx, newRenderKey(trees[i], "page", "", ""), htmlType, write(5_000+i))
		if err != nil || len(r.body) != 5_000+i {
			t.Fatalf("entry %d: %v, %d bytes", i, err, len(r.body))
		}
		if s := rc.stats(); s.Bytes > budget {
			t.Fatalf("after %d entries the cache holds %d bytes, over its %d", i+1, s.Bytes, budget)
		}
	}
	s := rc.stats()
	if s.Evictions == 0 || s.Entries == 0 || s.Entries >= len(trees) {
		t.Errorf("stats %+v: expected evictions and some entries kept", s)
	}
	// The newest is kept, the oldest went first.
	if _, ok := rc.lookup(newRenderKey(trees[len(trees)-1], "page", "", "")); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := rc.lookup(newRenderKey(trees[0], "page", "", "")); ok {
		t.Error("the oldest entry survived")
	}
	// An answer larger than a quarter of the budget is served but not kept.
	big := newRenderKey(&lineage.Tree{}, "json", "", "")
	if r, err := rc.get(ctx, big, "application/json", write(budget/2)); err != nil || len(r.body) != budget/2 {
		t.Fatalf("big answer: %v", err)
	}
	if _, ok := rc.lookup(big); ok {
		t.Error("an answer over a quarter of the budget was kept")
	}
	// A failed build is not kept: the next request tries again.
	fails := newRenderKey(&lineage.Tree{}, "csv", "", "")
	if _, err := rc.get(ctx, fails, "text/csv", func(context.Context, io.Writer) error { return io.ErrUnexpectedEOF }); err != io.ErrUnexpectedEOF {
		t.Fatalf("build error: %v", err)
	}
	if _, ok := rc.lookup(fails); ok {
		t.Error("a failed render was kept")
	}
}

// A kept answer must not keep its tree alive, and once the tree is gone its answers go too.
func TestRenderCacheLetsGoOfCollectedTrees(t *testing.T) {
	rc := newRenderCache(1 << 20)
	keep := func() weak.Pointer[lineage.Tree] {
		tree := &lineage.Tree{Nodes: map[string]*lineage.Node{"ctb_x": {}}}
		if _, err := rc.get(context.Background(), newRenderKey(tree, "page", "", ""), htmlType, func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, "page")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return weak.Make(tree)
	}
	gone := keep()
	runtime.GC()
	if gone.Value() != nil {
		t.Fatal("the render cache keeps a tree alive")
	}
	live := &lineage.Tree{}
	if _, err := rc.get(context.Background(), newRenderKey(live, "page", "", ""), htmlType, func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "other page")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if s := rc.stats(); s.Entries != 1 || s.Evictions != 1 {
		t.Errorf("after the first tree was collected: %+v, want only the live tree's answer", s)
	}
	runtime.KeepAlive(live)
}

func TestETagMatches(t *testing.T) {
	for _, c := range []struct {
		header string
		want   bool
	}{
		{"", false}, {`"a"`, true}, {`W/"a"`, true}, {`"b", "a"`, true}, {`"b"`, false}, {"*", true}, {`"a-gz"`, false},
	} {
		if got := etagMatches(c.header, `"a"`); got != c.want {
			t.Errorf("etagMatches(%q) = %v", c.header, got)
		}
	}
}
