package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// sweepElapsed narrows the progress line a pixel at a time and lists the widths at which the
// elapsed time ("· 27.3 s") breaks across lines; it runs as one script, so that the progress
// page's reload cannot land in the middle.
const sweepElapsed = `(() => {
	const el = document.querySelector("[data-testid=progress] [role=status] [data-testid=elapsed]");
	if (!el) return "no elapsed time on the progress line";
	const line = el.closest("p"), broken = [];
	for (let w = 120; w <= 600; w++) {
		line.style.width = w + "px";
		if (el.getClientRects().length > 1) broken.push(w);
	}
	line.style.width = "";
	return broken.length ? "the elapsed time " + JSON.stringify(el.textContent) + " breaks at widths " + broken.join(", ") : "";
})()`

// TestProgressElapsedTimeStaysTogether opens a progress page at a phone's width (390 px) in a
// real browser, with the app's stylesheet: wherever the line wraps, the elapsed time's unit
// must not end up alone on the next line.
func TestProgressElapsedTimeStaysTogether(t *testing.T) {
	b := newBrowser(t)
	// 50 ms an answer keeps the 320-deep chain's walk, and so its progress page, going for
	// seconds.
	a := newApp(t, appOptions{demo: demo.Options{Latency: 50 * time.Millisecond}, progressWait: time.Millisecond})
	b.do(t, chromedp.EmulateViewport(390, 900))
	b.do(t, chromedp.Navigate(a.url+"/batches/"+a.fx.DeepChainLeaf), chromedp.WaitVisible(chromedp.CSS("[data-testid=progress]")))
	var got string
	var err error
	for range 5 { // the page reloads itself every second: a script that races it is retried
		if got, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](sweepElapsed)); err == nil {
			break
		}
		b.do(t, chromedp.WaitVisible(chromedp.CSS("[data-testid=progress]")))
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != "" {
		t.Error(got)
	}
	if strings.Contains(got, "no elapsed") {
		t.Log(run(t, b, chromedp.Evaluate[string](`document.body.innerText`)))
	}
}
