package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/lineage-explorer/explorer/views"
)

// activeRow is the id of the tree row (its li) that has the focus, "" when the focus is
// elsewhere.
const activeRow = `(() => { const a = document.activeElement; const li = a && a.closest("ul.tree li"); return li ? li.id : ""; })()`

// In a real browser, with the keyboard only: "/" goes to the search box from anywhere but a
// field, and the arrow keys move through the lineage tree and fold it.
func TestKeyboardShortcuts(t *testing.T) {
	b := newBrowser(t)
	a := newApp(t, appOptions{progressWait: 300 * time.Millisecond})
	leaf := a.fx.WideLeafDeep
	rec, _ := a.reg.Batch(leaf)
	parent := rec.ParentID
	b.do(t, chromedp.Navigate(a.url+"/batches/"+leaf))
	b.settle(t, "ul.tree li.target")
	b.do(t, chromedp.WaitVisible(chromedp.CSS(".tree-tools")))

	t.Run("slash focuses the search box", func(t *testing.T) {
		b.do(t, slash)
		if got := run(t, b, chromedp.Evaluate[string](`document.activeElement.id`)); got != "q" {
			t.Fatalf("after /, the focus is on %q, want the search box", got)
		}
		if v := run(t, b, chromedp.Value(chromedp.ID("q"))); strings.Contains(v, "/") {
			t.Errorf("the slash that moved the focus was typed into the box: %q", v)
		}
		// In the box, a slash is text: serial numbers and URLs have them.
		b.do(t, chromedp.SetValue(chromedp.ID("q"), "abc"), chromedp.Focus(chromedp.ID("q")), chromedp.KeyEvent(kb.End), slash)
		if v := run(t, b, chromedp.Value(chromedp.ID("q"))); v != "abc/" {
			t.Errorf("typing / in the search box gave %q, want abc/", v)
		}
	})

	root := views.NodeAnchor(a.fx.WideRoot)
	rootRow := "li#" + root + " > details > summary"
	press := func(t *testing.T, key string) string {
		t.Helper()
		b.do(t, chromedp.KeyEvent(key))
		return run(t, b, chromedp.Evaluate[string](activeRow))
	}

	t.Run("arrows move between rows", func(t *testing.T) {
		firstChild := run(t, b, chromedp.Evaluate[string](`document.querySelector("`+rootRow+`").parentElement.querySelector(":scope > ul > li").id`))
		b.do(t, chromedp.Focus(chromedp.CSS(rootRow)))
		if got := press(t, kb.ArrowDown); got != firstChild {
			t.Errorf("down from the root: focus on %q, want its first half %q", got, firstChild)
		}
		if got := press(t, kb.ArrowUp); got != root {
			t.Errorf("up again: focus on %q, want the root %q", got, root)
		}
		// From the batch's own row (a leaf, reached by its link): up leaves it, down comes back
		// to the leaf itself.
		b.do(t, chromedp.Focus(chromedp.CSS("ul.tree li.target > .leaf a")))
		if got := press(t, kb.ArrowUp); got == views.NodeAnchor(leaf) || got == "" {
			t.Errorf("up from the batch's row: focus on %q", got)
		}
		if got := press(t, kb.ArrowDown); got != views.NodeAnchor(leaf) {
			t.Errorf("down again: focus on %q, want the batch's row", got)
		}
		if onLeaf := run(t, b, chromedp.Evaluate[bool](`document.activeElement.matches("ul.tree .leaf")`)); !onLeaf {
			t.Errorf("the focus is on %s, not on the leaf's row", run(t, b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 80)`)))
		}
	})

	t.Run("left and right fold and go up and down a level", func(t *testing.T) {
		// Left on a leaf: to its parent's row.
		if got := press(t, kb.ArrowLeft); got != views.NodeAnchor(parent) {
			t.Errorf("left from the batch: focus on %q, want its parent %q", got, views.NodeAnchor(parent))
		}
		open := `document.querySelector("li#` + views.NodeAnchor(parent) + ` > details").open`
		// Left on an open row folds it, and the focus stays.
		if got := press(t, kb.ArrowLeft); got != views.NodeAnchor(parent) || run(t, b, chromedp.Evaluate[bool](open)) {
			t.Errorf("left on the open parent: focus on %q, open %v; want it folded, focus kept", got, run(t, b, chromedp.Evaluate[bool](open)))
		}
		if visible := run(t, b, chromedp.Evaluate[bool](`document.querySelector("ul.tree li.target").checkVisibility()`)); visible {
			t.Error("the batch's row still shows in the folded branch")
		}
		// Right unfolds it, then goes to its first child.
		if got := press(t, kb.ArrowRight); got != views.NodeAnchor(parent) || !run(t, b, chromedp.Evaluate[bool](open)) {
			t.Errorf("right on the folded parent: focus on %q, open %v; want it unfolded, focus kept", got, run(t, b, chromedp.Evaluate[bool](open)))
		}
		first := run(t, b, chromedp.Evaluate[string](`document.querySelector("li#`+views.NodeAnchor(parent)+` > details > ul > li").id`))
		if got := press(t, kb.ArrowRight); got != first {
			t.Errorf("right on the open parent: focus on %q, want its first half %q", got, first)
		}
	})

	t.Run("skip the chart", func(t *testing.T) {
		// The skip link is hidden until the keyboard reaches it; following it, the next Tab
		// lands past the chart's bars.
		b.do(t, chromedp.Focus(chromedp.CSS("[data-testid=skip-chart]")))
		if w := run(t, b, chromedp.Evaluate[float64](`document.activeElement.getBoundingClientRect().width`)); w < 20 {
			t.Errorf("the focused skip link is %v px wide: not shown", w)
		}
		b.do(t, chromedp.KeyEvent(kb.Enter), chromedp.KeyEvent(kb.Tab))
		inChart := run(t, b, chromedp.Evaluate[bool](`!!document.activeElement.closest("[data-testid=icicle]")`))
		after := run(t, b, chromedp.Evaluate[bool](`!!(document.querySelector("[data-testid=icicle]").compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING)`))
		if inChart || !after {
			t.Errorf("after skipping the chart, Tab went to %s", run(t, b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 100)`)))
		}
	})

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// slash presses "/" as a keyboard does: one keydown that carries its text, so that a page
// that prevents the keydown's default also prevents the typing (chromedp's KeyEvent sends the
// text in a separate char event, which no page can prevent).
var slash = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		e := input.DispatchKeyEventParams{Type: typ, Key: "/", Code: "Slash", WindowsVirtualKeyCode: 191, NativeVirtualKeyCode: 191}
		if typ == input.DispatchKeyEventTypeKeyDown {
			e.Text, e.UnmodifiedText = "/", "/"
		}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, e); err != nil {
			return err
		}
	}
	return nil
})

// printMedia emulates print media (what the page looks like when printed), or puts the
// screen back with "".
func printMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}

// A lineage page printed: the batch, its path, the audit and the holder tables, with the
// permalink and when it was walked; not the tree nor the chart (the 3,001-batch page printed
// as 147 sheets).
func TestPrintStylesheet(t *testing.T) {
	b := newBrowser(t)
	a := newApp(t, appOptions{progressWait: 300 * time.Millisecond})
	id := a.fx.WideLeafDeep
	b.do(t, chromedp.Navigate(a.url+"/batches/"+id))
	b.settle(t, "ul.tree li.target")
	display := func(sel string) string {
		return run(t, b, chromedp.Evaluate[string](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return e ? getComputedStyle(e).display : "absent"; })()`))
	}
	shown := func(sel string) bool {
		return run(t, b, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return !!e && e.checkVisibility(); })()`))
	}
	printed := []string{".batch-head", "[data-testid=path]", "[data-testid=audit]", "[data-testid=holders]", "[data-testid=beneficiaries]", "p.walked", "[data-testid=permalink]"}
	hidden := []string{"ul.tree", "[data-testid=icicle]"}

	// On screen, the tree and chart are there, and the permalink line is not (the address bar
	// says it).
	for _, sel := range hidden {
		if !shown(sel) {
			t.Errorf("on screen, %s is not shown", sel)
		}
	}
	if shown("[data-testid=permalink]") {
		t.Error("on screen, the print-only permalink shows")
	}

	b.do(t, printMedia("print"))
	for _, sel := range hidden {
		if d := display(sel); d == "absent" || shown(sel) {
			t.Errorf("in print, %s shows (display of the element: %s)", sel, d)
		}
	}
	if d := display(".tree-section"); d != "none" {
		t.Errorf("in print, the tree's section has display %q, want none", d)
	}
	for _, sel := range printed {
		if !shown(sel) {
			t.Errorf("in print, %s is not shown", sel)
		}
	}
	// The permalink is the page's full address (the script writes the origin in), and the walk's
	// time stands beside it.
	link := run(t, b, chromedp.Text(chromedp.CSS("[data-testid=permalink]")))
	if link != a.url+views.BatchURL(id) {
		t.Errorf("printed permalink %q, want %q", link, a.url+views.BatchURL(id))
	}
	if src := run(t, b, chromedp.Text(chromedp.CSS("[data-testid=print-source]"))); !strings.Contains(src, "walked 20") {
		t.Errorf("the printed source line %q does not say when the tree was walked", src)
	}
	b.do(t, printMedia(""))
	if !shown("ul.tree") {
		t.Error("back on screen, the tree does not show")
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
