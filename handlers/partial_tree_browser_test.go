package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lineage-explorer/explorer/views"
)

// In a browser, the page of a batch whose walk is held shows the partial tree (the held
// branch not yet walked, the root still walking, no audit verdict) and, once released, turns
// by its own reloads into the finished tree.
func TestBrowserShowsThePartialTreeThenTheFinalTree(t *testing.T) {
	b := newBrowser(t)
	w := startHeldWideWalk(t, appOptions{progressWait: time.Millisecond})
	a := w.app
	w.open(t)

	b.do(t, chromedp.Navigate(a.url+"/batches/"+a.fx.WideLeafDeep))
	held := `[data-testid=partial-lineage] li#` + views.NodeAnchor(w.held) + ` [data-testid=walking]`
	root := `[data-testid=partial-lineage] li#` + views.NodeAnchor(w.path[0]) + ` > details > summary > [data-testid=walking]`
	// The page reloads itself every second: a read that races a reload is read again.
	read := func(js string) string {
		t.Helper()
		var v string
		var err error
		for range 50 {
			if v, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](js)); err == nil && v != "" {
				return v
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: %q, %v", js, v, err)
		return ""
	}
	textOf := func(sel string) string {
		return `((document.querySelector(` + jsString(sel) + `) || {}).textContent || "")`
	}
	if m := read(textOf(held)); m != "not yet walked" {
		t.Errorf("held branch marked %q", m)
	}
	if m := read(textOf(root)); m != "still walking" {
		t.Errorf("root marked %q", m)
	}
	if v := read(textOf("[data-testid=partial-lineage] [data-testid=audit]") + ` + "|" + String(document.querySelectorAll("[data-testid=conserved], [data-testid=no-problems]").length)`); !strings.Contains(v, "Pending") || !strings.HasSuffix(v, "|0") {
		t.Errorf("audit while walking: %q", v)
	}

	w.hold.free()
	b.settle(t, "#audit") // the finished page's audit panel: the partial one has no verdict to link to
	if n := read(`String(document.querySelectorAll("ul.tree li#` + views.NodeAnchor(w.held) + `").length)`); n != "1" {
		t.Errorf("the finished tree has %s rows for the batch that was held", n)
	}
	if n := read(`String(document.querySelectorAll("[data-testid=walking], [data-testid=partial-lineage]").length)`); n != "0" {
		t.Errorf("the finished page keeps %s marks of the walk", n)
	}
	if v := read(`String(document.querySelectorAll("[data-testid=no-problems], [data-testid=audit-verdict]").length)`); v != "1" {
		t.Errorf("the finished page shows %s audit verdicts, want 1", v)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// jsString quotes s as a JavaScript string literal (the selectors here hold no quotes or
// backslashes of their own, but a literal is safer than a splice).
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
