package handlers

import (
	"encoding/csv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// In a real browser: paste the demo's sample list into the form, send it, read the counts,
// filter on one verdict by its count's link, and download the results as CSV and read them
// back, row by row.
func TestClaimsInBrowser(t *testing.T) {
	b := newBrowser(t)
	a := newApp(t, appOptions{progressWait: 300 * time.Millisecond, claimsSample: true})
	sample := a.reg.SampleClaims()
	want := a.reg.SampleClaimVerdicts()
	counts := map[string]int{}
	for _, w := range want {
		counts[w.Verdict]++
	}

	// The paste: the whole list lands in the text area at once, as a paste does.
	b.do(t, chromedp.Navigate(a.url+"/claims"), chromedp.WaitVisible(chromedp.CSS("textarea[name=list]")),
		chromedp.SetValue(chromedp.CSS("textarea[name=list]"), sample),
		chromedp.Click(chromedp.CSS(`form[method=post] button[type=submit]`)))
	b.settle(t, "table.claims")
	for code, n := range counts {
		got := run(t, b, chromedp.Text(chromedp.CSS(`[data-testid="count-`+code+`"]`)))
		if got != strconv.Itoa(n) {
			t.Errorf("count of %s: %q, want %d", code, got, n)
		}
	}
	result := run(t, b, chromedp.Location())

	// Filter: the count's link, no script needed.
	b.do(t, chromedp.Click(chromedp.CSS(`[data-code=not_retired] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=show-all]`)))
	if loc := run(t, b, chromedp.Location()); !strings.HasSuffix(loc, "?verdict=not_retired") {
		t.Errorf("the filter led to %q", loc)
	}
	verdicts := run(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.claims tbody tr")].map(r => r.dataset.verdict)`))
	if len(verdicts) != counts["not_retired"] || slices.ContainsFunc(verdicts, func(v string) bool { return v != "not_retired" }) {
		t.Errorf("filtered rows %q, want %d not_retired", verdicts, counts["not_retired"])
	}

	// The filtered page's downloads are of the filtered rows; back to every row for the full one.
	if href := run(t, b, chromedp.Evaluate[string](`document.querySelector("[data-testid=csv]").href`)); !strings.HasSuffix(href, "results.csv?verdict=not_retired") {
		t.Errorf("the filtered page's CSV link %q drops the filter", href)
	}
	b.do(t, chromedp.Click(chromedp.CSS(`[data-testid=show-all]`)), chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=show-all]`)))

	// Download: fetch the CSV link's URL from the page, as the browser would, and read it back.
	href := run(t, b, chromedp.Evaluate[string](`document.querySelector("[data-testid=csv]").href`))
	if u, err := url.Parse(href); err != nil || !strings.HasPrefix(href, strings.SplitN(result, "?", 2)[0]) || !strings.HasSuffix(u.Path, "/results.csv") {
		t.Fatalf("CSV link %q does not belong to the result %q", href, result)
	}
	body := run(t, b, chromedp.Evaluate[string](`fetch(document.querySelector("[data-testid=csv]").href).then(r => r.ok ? r.text() : "HTTP " + r.status)`,
		chromedp.EvalAwaitPromise))
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not read back: %v\n%s", err, head(body, 300))
	}
	if len(recs) != len(want)+1 {
		t.Fatalf("%d CSV records, want a header and %d rows", len(recs), len(want))
	}
	in, _ := csv.NewReader(strings.NewReader(sample)).ReadAll()
	cols := recs[0]
	vcol := slices.Index(cols, "verdict")
	if vcol < 0 || !slices.Equal(cols[:len(in[0])], in[0]) {
		t.Fatalf("CSV header %q: want the input's columns %q, then the verdict's", cols, in[0])
	}
	for i, w := range want {
		rec := recs[i+1]
		if rec[0] != w.Reference || rec[vcol] != w.Verdict {
			t.Errorf("CSV row %d: reference %q verdict %q, want %q %q", i+1, rec[0], rec[vcol], w.Reference, w.Verdict)
		}
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
