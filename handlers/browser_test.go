package handlers

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/lineage-explorer/explorer/views"
)

// chromiumPath finds the browser the browser tests drive: Debian's chromium (CI installs it),
// or another Chrome on the PATH.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless chromium for one test and collects what the pages write to the
// console as errors (a blocked inline script, a failed fetch, an exception).
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CHROMIUM_REQUIRED") != "" {
			t.Fatal("CHROMIUM_REQUIRED is set but chromium is not on PATH")
		}
		t.Skip("chromium not found on PATH: browser tests skipped (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(cancelCtx)
	// A bound on the whole test, so that a browser that hangs fails the test instead of CI.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	b := &browser{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// settle waits until sel is visible on a page that is no longer replaced by a progress
// page's reload: a query racing the reload fails with "No node with given id", and is retried
// on the new document.
func (b *browser) settle(t *testing.T, sel string) {
	t.Helper()
	// A long walk's progress page shows the partial tree with the same rows, and reloads
	// itself: settled is a loaded document without the reload, holding sel. Between two
	// documents a wait can lose its node or its context; then it waits again.
	settled := `document.readyState === "complete" && !document.querySelector('meta[http-equiv="refresh"]') && !!document.querySelector(` + strconv.Quote(sel) + `)`
	var err error
	for range 10 {
		if err = chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS(sel)),
			chromedp.Poll[chromedp.Void](settled, chromedp.WithPollingInterval(50*time.Millisecond))); err == nil ||
			!strings.Contains(err.Error(), "No node with given id") && !strings.Contains(err.Error(), "context") && !strings.Contains(err.Error(), "navigated") {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

func run[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	a := newApp(t, appOptions{progressWait: 300 * time.Millisecond})

	t.Run("open a lineage page", func(t *testing.T) {
		id := a.fx.WideLeafDeep
		b.do(t, chromedp.Navigate(a.url+"/batches/"+id))
		b.settle(t, "ul.tree li.target")
		if got := run(t, b, chromedp.Text(chromedp.CSS("ul.tree li.target"))); !strings.Contains(got, id) {
			t.Errorf("highlighted row %q does not name %s", got, id)
		}
		if got := run(t, b, chromedp.Title()); !strings.Contains(got, id) {
			t.Errorf("title %q", got)
		}
		// The script ran: it reveals the tools that need it.
		b.do(t, chromedp.WaitVisible(chromedp.CSS(".tree-tools button")))
	})

	t.Run("expand a collapsed subtree", func(t *testing.T) {
		// The huge tree's first visit walks 30,000 batches: the progress page reloads itself
		// until the tree is there.
		b.do(t, chromedp.Navigate(a.url+"/batches/"+a.fx.HugeRoot))
		b.settle(t, "ul.tree details.lazy")
		id := run(t, b, chromedp.Evaluate[string](`document.querySelector("ul.tree details.lazy").parentElement.id`))
		if !strings.HasPrefix(id, "n-ctb_") {
			t.Fatalf("collapsed row id %q", id)
		}
		sel := "li#" + id + " > details.lazy"
		// With the keyboard, as a user without a mouse would: focus the row and press Enter.
		b.do(t, chromedp.Focus(chromedp.CSS(sel+" > summary")), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(sel+"[data-state=loaded] > .lazy-body li")))
		rows := run(t, b, chromedp.Nodes(chromedp.CSSAll(sel+" > .lazy-body > ul > li")))
		if len(rows) == 0 {
			t.Fatal("the opened branch shows no rows")
		}
	})

	t.Run("follow a node's link", func(t *testing.T) {
		b.do(t, chromedp.Navigate(a.url+"/batches/"+a.fx.WideLeafDeep), chromedp.WaitVisible(chromedp.CSS("ul.tree li.target")))
		root := a.fx.WideRoot
		b.do(t, chromedp.Click(chromedp.CSS("li#"+views.NodeAnchor(root)+" > details > summary > a")),
			chromedp.WaitVisible(chromedp.CSS("ul.tree li.target#"+views.NodeAnchor(root))))
		loc := run(t, b, chromedp.Location())
		if u, err := url.Parse(loc); err != nil || u.Path != "/batches/"+root {
			t.Errorf("followed the link to %q, want /batches/%s", loc, root)
		}
		if got := run(t, b, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(got, root) {
			t.Errorf("heading %q", got)
		}
	})

	t.Run("follow a bar of the chart", func(t *testing.T) {
		b.do(t, chromedp.Navigate(a.url+"/batches/"+a.fx.WideLeafDeep), chromedp.WaitVisible(chromedp.CSS("[data-testid=icicle] svg")))
		// The bars take their colours from the stylesheet (the CSP allows no inline style): an
		// unstyled SVG rect would be filled black.
		if fill := run(t, b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("[data-testid=icicle] svg rect")).fill`)); fill == "" || fill == "rgb(0, 0, 0)" {
			t.Errorf("the chart's bars are not styled: fill %q", fill)
		}
		root := a.fx.WideRoot
		b.do(t, chromedp.Click(chromedp.CSS(`[data-testid=icicle] svg a[href="`+views.BatchURL(root)+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("ul.tree li.target#"+views.NodeAnchor(root))))
		loc := run(t, b, chromedp.Location())
		if u, err := url.Parse(loc); err != nil || u.Path != "/batches/"+root {
			t.Errorf("the root's bar led to %q, want /batches/%s", loc, root)
		}
		// On the root's page, the root's own bar is the one outlined.
		if got := run(t, b, chromedp.Evaluate[string](`document.querySelector("[data-testid=icicle] svg a.cur").getAttribute("href")`)); got != views.BatchURL(root) {
			t.Errorf("outlined bar links to %q", got)
		}
	})

	t.Run("search by id", func(t *testing.T) {
		id := a.fx.AllFinalRoot
		b.do(t, chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.SendKeys(chromedp.ID("q"), "  "+id+" "+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("ul.tree li.target#"+views.NodeAnchor(id))))
		loc := run(t, b, chromedp.Location())
		if u, err := url.Parse(loc); err != nil || u.Path != "/batches/"+id {
			t.Errorf("search landed on %q", loc)
		}
	})

	t.Run("under a base path", func(t *testing.T) {
		// app.js fetches a branch from the data-src the server rendered, so the fragment
		// request carries BASE_PATH; the search form posts to it too.
		a := newApp(t, appOptions{progressWait: 300 * time.Millisecond, basePath: "/lineage"})
		b.do(t, chromedp.Navigate(a.url+"/lineage/batches/"+a.fx.HugeRoot))
		b.settle(t, "ul.tree details.lazy")
		id := run(t, b, chromedp.Evaluate[string](`document.querySelector("ul.tree details.lazy").parentElement.id`))
		sel := "li#" + id + " > details.lazy"
		b.do(t, chromedp.Click(chromedp.CSS(sel+" > summary")),
			chromedp.WaitVisible(chromedp.CSS(sel+"[data-state=loaded] > .lazy-body li")))
		href := run(t, b, chromedp.Evaluate[string](`document.querySelector("`+sel+` > .lazy-body li a").getAttribute("href")`))
		if !strings.HasPrefix(href, "/lineage/batches/") {
			t.Errorf("a loaded row links to %q, outside /lineage", href)
		}

		target := a.fx.AllFinalRoot
		b.do(t, chromedp.Navigate(a.url+"/lineage/"), chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.SendKeys(chromedp.ID("q"), target+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("ul.tree li.target#"+views.NodeAnchor(target))))
		loc := run(t, b, chromedp.Location())
		if u, err := url.Parse(loc); err != nil || u.Path != "/lineage/batches/"+target {
			t.Errorf("search under /lineage landed on %q", loc)
		}
	})

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestNarrowViewportDoesNotScrollSideways opens the main pages at a phone's width (390 px): the
// page itself must not scroll sideways (long ids, serial numbers and URLs wrap); wide tables,
// the chart and the tree scroll inside their own boxes instead.
func TestNarrowViewportDoesNotScrollSideways(t *testing.T) {
	b := newBrowser(t)
	a := newApp(t, appOptions{progressWait: 300 * time.Millisecond})
	b.do(t, chromedp.EmulateViewport(390, 900))
	serial, _ := a.reg.Batch(a.fx.WideLeafDeep)
	pages := []struct{ path, ready string }{
		{"/", "form[role=search]"},
		{"/batches/" + a.fx.WideLeafDeep, "ul.tree li.target"},
		{"/batches/" + a.fx.DeepChainLeaf, "ul.tree li.target"},
		{"/batches/" + a.fx.HostileOrgBatch, "ul.tree li.target"},
		{"/issuances/" + a.fx.Issuance, "[data-testid=holders]"},
		{"/retirements/" + a.fx.Retirement, "[data-testid=batches]"},
		{"/retirements/" + a.fx.HostileRetirement, "[data-testid=batches]"},
		{"/serial/" + serial.SerialNumber, "ul.tree li.target"},
		{"/search?q=nothing", "dl.hints"},
	}
	// What sticks out past the right edge, for the failure message: the innermost elements
	// only, since their ancestors stick out with them, and none inside a box that scrolls or
	// clips (those are meant to be wider).
	const offenders = `(() => {
		const w = document.documentElement.clientWidth, out = [];
		const clipped = el => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
			if (getComputedStyle(a).overflowX !== "visible") return true; } return false; };
		for (const el of document.body.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.right > w + 0.5 && !clipped(el) && ![...el.children].some(c => c.getBoundingClientRect().right > w + 0.5)) {
				out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\s+/g, ".") : "") +
					" (" + Math.round(r.right) + "px): " + (el.textContent || "").trim().slice(0, 60));
			}
			if (out.length === 8) break;
		}
		return out.join("\n");
	})()`
	for _, p := range pages {
		b.do(t, chromedp.Navigate(a.url+p.path))
		b.settle(t, p.ready)
		scroll := run(t, b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		client := run(t, b, chromedp.Evaluate[int64](`document.documentElement.clientWidth`))
		if scroll > client {
			t.Errorf("%s scrolls sideways at 390 px: %d px wide in %d; sticking out:\n%s", p.path, scroll, client,
				run(t, b, chromedp.Evaluate[string](offenders)))
		}
	}
}
