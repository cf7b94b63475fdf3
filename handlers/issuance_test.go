package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/views"
)

// digits is the number in a formatted figure ("1,234.567" → "1234567"), for comparing shown
// figures with the registry's integers without reading them through a float.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// kgDigits is kg as the page shows credits (three decimals, exact): 12446 → "12446".
func kgDigits(kg int64) string { return digits(registry.FormatCredits(kg)) }

// hrefs are the href attributes of a selection's links.
func hrefs(s *goquery.Selection) []string {
	var out []string
	s.Find("a[href]").Each(func(_ int, a *goquery.Selection) { out = append(out, a.AttrOr("href", "")) })
	return out
}

func TestIssuancePage(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, id := range []string{a.fx.Issuance, a.fx.LastPageIssuance} {
		t.Run(id, func(t *testing.T) {
			ctx := context.Background()
			iss, err := a.client.Issuance(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			icb, err := a.client.IssuanceCreditBatches(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := a.page(t, "/issuances/"+id, http.StatusOK)
			if got := text(doc.Find("h1 code.id")); got != id {
				t.Errorf("h1 %q", got)
			}
			// The chart draws every root's tree: each root of the issuance has its bar,
			// linking to its lineage page.
			for _, r := range append(icb.SupplierCreditBatches, icb.BufferPoolCreditBatches...) {
				if doc.Find(`svg a[href="/batches/`+r.ID+`"]`).Length() == 0 {
					t.Errorf("the chart has no bar for root %s", r.ID)
				}
			}
			if got := digits(text(doc.Find(".headline .muted"))); got != strconv.FormatInt(iss.CreditBatchSizeTotal.CreditKgs, 10) {
				t.Errorf("issued kg shown %s, registry %d", got, iss.CreditBatchSizeTotal.CreditKgs)
			}
			fields := text(doc.Find("[data-testid=issuance-fields]"))
			for _, want := range []string{iss.Supplier.Organisation.Name, iss.ProjectID, iss.ReportingPeriodStartAt.String(), iss.ReportingPeriodEndAt.String()} {
				if !strings.Contains(fields, want) {
					t.Errorf("fields lack %q: %s", want, fields)
				}
			}
			// Every root the registry lists, in its pool and order, linking to its tree.
			for _, part := range []struct {
				testid  string
				batches []registry.CreditBatch
			}{{"supplier-roots", icb.SupplierCreditBatches}, {"buffer-roots", icb.BufferPoolCreditBatches}} {
				rows := doc.Find("[data-testid=" + part.testid + "] tbody tr")
				if rows.Length() != len(part.batches) {
					t.Fatalf("%s: %d rows, registry lists %d", part.testid, rows.Length(), len(part.batches))
				}
				rows.Each(func(i int, tr *goquery.Selection) {
					b := part.batches[i]
					if tr.Find("th a[href='"+views.BatchURL(b.ID)+"']").Length() != 1 {
						t.Errorf("%s row %d does not link to %s", part.testid, i, b.ID)
					}
					if got := digits(tr.Find("td.num").First().Text()); got != kgDigits(b.Size.CreditKgs) {
						t.Errorf("%s: size %s, registry %d kg", b.ID, got, b.Size.CreditKgs)
					}
				})
			}
			// The fixture's record adds up, and the page says so (its root sizes against the
			// issued total come from two different upstream routes).
			for _, sel := range []string{"[data-testid=roots-check]", "[data-testid=check]"} {
				if !doc.Find(sel).HasClass("ok") {
					t.Errorf("%s: %q", sel, text(doc.Find(sel)))
				}
			}
			// Holder rows link to trees of this issuance; beneficiary rows to retirements.
			var roots []string
			for _, b := range append(slices.Clone(icb.SupplierCreditBatches), icb.BufferPoolCreditBatches...) {
				roots = append(roots, views.BatchURL(b.ID))
			}
			holders := doc.Find("[data-testid=holders] tbody tr")
			if holders.Length() == 0 {
				t.Fatal("no holder rows")
			}
			holders.Each(func(_ int, tr *goquery.Selection) {
				links := hrefs(tr.Find("td").Last())
				if len(links) == 0 {
					t.Errorf("holder %q links to no tree", text(tr.Find("th")))
				}
				for _, h := range links {
					if !slices.Contains(roots, h) {
						t.Errorf("holder %q links to %s, not a tree of this issuance", text(tr.Find("th")), h)
					}
				}
			})
			doc.Find("[data-testid=beneficiaries] tbody tr").Each(func(_ int, tr *goquery.Selection) {
				for _, h := range hrefs(tr.Find("td").Eq(3)) {
					if !strings.HasPrefix(h, "/retirements/ret_") {
						t.Errorf("beneficiary %q: retirement link %s", text(tr.Find("th")), h)
					}
				}
			})
		})
	}
}

// TestIssuanceFiguresAgreeWithTheTrees compares the page's totals with the sums of walks of
// each root tree made without the explorer (a bare walker, Tree.Totals).
func TestIssuanceFiguresAgreeWithTheTrees(t *testing.T) {
	a := newApp(t, appOptions{})
	ctx := context.Background()
	icb, err := a.client.IssuanceCreditBatches(ctx, a.fx.Issuance)
	if err != nil {
		t.Fatal(err)
	}
	w := lineage.NewWalker(a.client, lineage.WalkerConfig{})
	var active, retired int64
	for _, b := range append(slices.Clone(icb.SupplierCreditBatches), icb.BufferPoolCreditBatches...) {
		tr, err := w.Lineage(ctx, b.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		tot := tr.Totals()
		active, retired = active+tot.ActiveKg, retired+tot.RetiredKg
	}
	doc, _ := a.page(t, "/issuances/"+a.fx.Issuance, http.StatusOK)
	now := doc.Find("[data-testid=now] dd")
	if got := digits(now.Eq(0).Find("strong").Text()); got != kgDigits(active) {
		t.Errorf("active shown %s, trees hold %d kg", got, active)
	}
	if got := digits(now.Eq(1).Find("strong").Text()); got != kgDigits(retired) {
		t.Errorf("retired shown %s, trees hold %d kg", got, retired)
	}

	// The JSON for tools: the same figures, kg as JSON integers.
	r := a.get(t, "/api/v1/issuances/"+a.fx.Issuance)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("JSON: %d %q", r.status, r.header.Get("Content-Type"))
	}
	var rep struct {
		Issuance struct {
			ID                   string `json:"id"`
			CreditBatchSizeTotal struct {
				CreditKgs json.Number `json:"credit_kgs"`
			} `json:"credit_batch_size_total"`
		} `json:"issuance"`
		RootsKg   json.Number `json:"roots_kg"`
		ActiveKg  json.Number `json:"active_kg"`
		RetiredKg json.Number `json:"retired_kg"`
		Roots     []struct {
			ID   string `json:"id"`
			Pool string `json:"pool"`
		} `json:"roots"`
		ByHolder []struct {
			ActiveKg json.Number `json:"active_kg"`
			Trees    []string    `json:"trees"`
		} `json:"by_holder"`
		ByBeneficiary []struct {
			RetiredKg   json.Number `json:"retired_kg"`
			Retirements []string    `json:"retirements"`
		} `json:"by_beneficiary"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(r.body)))
	dec.UseNumber()
	if err := dec.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]json.Number{"active_kg": rep.ActiveKg, "retired_kg": rep.RetiredKg, "roots_kg": rep.RootsKg} {
		if strings.ContainsAny(n.String(), ".eE") {
			t.Errorf("%s = %s is not a JSON integer", name, n)
		}
	}
	if rep.ActiveKg.String() != strconv.FormatInt(active, 10) || rep.RetiredKg.String() != strconv.FormatInt(retired, 10) ||
		rep.RootsKg != rep.Issuance.CreditBatchSizeTotal.CreditKgs || rep.Issuance.ID != a.fx.Issuance {
		t.Errorf("JSON figures: %+v", rep)
	}
	if len(rep.Roots) != len(icb.SupplierCreditBatches)+len(icb.BufferPoolCreditBatches) || rep.Roots[0].Pool != string(lineage.PoolSupplier) {
		t.Errorf("JSON roots: %+v", rep.Roots)
	}
	if len(rep.ByHolder) == 0 || len(rep.ByHolder[0].Trees) == 0 || len(rep.ByBeneficiary) == 0 || len(rep.ByBeneficiary[0].Retirements) == 0 {
		t.Errorf("JSON rows: %+v %+v", rep.ByHolder, rep.ByBeneficiary)
	}
}

func TestIssuanceAndRetirementIDsMalformedOrUnknown(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, tc := range []struct {
		path    string
		status  int
		example string
	}{
		{"/issuances/iss_bad", 400, registry.ExampleID(registry.PrefixIssuance)},
		{"/issuances/" + a.fx.Retirement, 400, registry.ExampleID(registry.PrefixIssuance)},
		{"/retirements/ret_%3Cb%3E", 400, registry.ExampleID(registry.PrefixRetirement)},
		{"/retirements/" + a.fx.Issuance, 400, registry.ExampleID(registry.PrefixRetirement)},
	} {
		doc, _ := a.page(t, tc.path, tc.status)
		if !strings.Contains(text(doc.Find(".hint")), tc.example) {
			t.Errorf("%s: no example of a valid id: %s", tc.path, text(doc.Find("main")))
		}
		j := a.get(t, "/api/v1"+tc.path)
		if j.status != tc.status || !strings.Contains(j.body, `"code": "invalid"`) {
			t.Errorf("JSON %s: %d %s", tc.path, j.status, j.body)
		}
	}
	if n := a.reg.Requests(); n != 0 {
		t.Errorf("malformed ids sent %d upstream requests", n)
	}
	for _, id := range []string{registry.ExampleID(registry.PrefixIssuance), registry.ExampleID(registry.PrefixRetirement)} {
		path := "/issuances/" + id
		if strings.HasPrefix(id, "ret_") {
			path = "/retirements/" + id
		}
		doc, _ := a.page(t, path, http.StatusNotFound)
		if !strings.Contains(text(doc.Find("h1")), id) {
			t.Errorf("%s: 404 heading %q does not name it", path, text(doc.Find("h1")))
		}
		if j := a.get(t, "/api/v1"+path); j.status != 404 || !strings.Contains(j.body, `"code": "not_found"`) {
			t.Errorf("JSON %s: %d %s", path, j.status, j.body)
		}
	}
}

func TestSearchLeadsToIssuanceAndRetirementPages(t *testing.T) {
	a := newApp(t, appOptions{})
	for q, want := range map[string]string{
		a.fx.Issuance: views.IssuanceURL(a.fx.Issuance),
		"https://registry.isometric.com/retirement/" + a.fx.Retirement: views.RetirementURL(a.fx.Retirement),
	} {
		r := a.get(t, "/search?q="+q)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("search %q = %d to %q, want %s", q, r.status, r.header.Get("Location"), want)
		}
	}
}

func TestBatchHeaderLinksToItsIssuanceAndRetirement(t *testing.T) {
	a := newApp(t, appOptions{})
	list, err := a.client.RetirementCreditBatches(context.Background(), a.fx.Retirement)
	if err != nil || len(list.Nodes) == 0 {
		t.Fatal(err)
	}
	b := list.Nodes[0]
	doc, _ := a.page(t, "/batches/"+b.ID, http.StatusOK)
	fields := doc.Find("dl.fields")
	for _, want := range []string{views.IssuanceURL(b.IssuanceID), views.RetirementURL(a.fx.Retirement)} {
		if fields.Find("a[href='"+want+"']").Length() != 1 {
			t.Errorf("the header does not link to %s", want)
		}
	}
}

func TestLongIssuanceShowsProgressThenThePage(t *testing.T) {
	a := newApp(t, appOptions{demo: demo.Options{Latency: 3 * time.Millisecond}, progressWait: time.Millisecond})
	path := "/issuances/" + a.fx.Issuance
	doc, _ := a.page(t, path, http.StatusAccepted)
	if got := doc.Find("meta[http-equiv=refresh]").AttrOr("content", ""); !strings.HasPrefix(got, "1;url="+path+"?walk=") {
		t.Errorf("refresh = %q, want it to reload %s", got, path)
	}
	if !strings.Contains(text(doc.Find("h1")), a.fx.Issuance) {
		t.Errorf("progress heading %q", text(doc.Find("h1")))
	}
	for i := 0; ; i++ {
		if i == 3000 { // a minute: a bound against a report that never ends, not a timing test
			t.Fatal("the report never finished")
		}
		time.Sleep(20 * time.Millisecond)
		r := a.get(t, path)
		if r.status == http.StatusOK {
			break
		}
		if r.status != http.StatusAccepted {
			t.Fatalf("status %d while walking", r.status)
		}
	}
}

func TestFailedTreesAreMarkedWithARetry(t *testing.T) {
	// Every fetch of one root's left half fails (retries too): the page still shows the
	// issuance, marks what is missing, offers a retry, and the retry completes it.
	var victim atomic.Pointer[string]
	var failing atomic.Bool
	a := newApp(t, appOptions{upstream: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v := victim.Load(); v != nil && failing.Load() && strings.HasSuffix(r.URL.Path, "/credit_batches/"+*v) {
				http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
				return
			}
			h.ServeHTTP(w, r)
		})
	}})
	icb, err := a.client.IssuanceCreditBatches(context.Background(), a.fx.Issuance)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range icb.SupplierCreditBatches {
		if b.LeftChildID != "" {
			victim.Store(&b.LeftChildID)
			break
		}
	}
	if victim.Load() == nil {
		t.Fatal("the fixture has no split root")
	}
	failing.Store(true)
	doc, _ := a.page(t, "/issuances/"+a.fx.Issuance, http.StatusOK)
	if doc.Find("[data-testid=partial]").Length() != 1 || !doc.Find("[data-testid=check]").HasClass("unknown") {
		t.Fatalf("no partial notice, or a check that claims too much: %s", text(doc.Find("main")))
	}
	retry := doc.Find("[data-testid=retry]").AttrOr("href", "")
	if retry != views.IssuanceRetryURL(a.fx.Issuance) {
		t.Fatalf("retry link %q", retry)
	}
	failing.Store(false)
	r := a.get(t, retry)
	if r.status != http.StatusSeeOther {
		t.Fatalf("retry: %d", r.status)
	}
	doc, _ = a.page(t, r.header.Get("Location"), http.StatusOK)
	if doc.Find("[data-testid=partial]").Length() != 0 || !doc.Find("[data-testid=check]").HasClass("ok") {
		t.Errorf("after the retry: %s", text(doc.Find("[data-testid=check]")))
	}
}

func TestIssuanceWithPlantedProblemsSaysSo(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/issuances/"+a.fx.PlantedIssuance, http.StatusOK)
	// A dangling link leaves a batch missing: the totals cannot be claimed to add up.
	if doc.Find("[data-testid=check]").HasClass("ok") {
		t.Errorf("check claims too much: %s", text(doc.Find("[data-testid=check]")))
	}
	// A retired batch without a beneficiary is shown as such, not dropped.
	none := doc.Find("[data-testid=beneficiaries] tbody th .muted").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Text() == "none named"
	})
	if none.Length() != 1 {
		t.Error("no row for credits retired without a beneficiary")
	}
	// Each root with problems links to where its lineage page lists them.
	links := doc.Find("[data-testid=supplier-roots] a.pb")
	if links.Length() == 0 {
		t.Fatal("no root says it has problems")
	}
	href := links.First().AttrOr("href", "")
	path, anchor, _ := strings.Cut(href, "#")
	tree, _ := a.page(t, path, http.StatusOK)
	if anchor == "" || tree.Find("#"+anchor).Length() != 1 {
		t.Errorf("%s: the lineage page has no element #%s", href, anchor)
	}
}

// TestIssuanceCheckNamesTreesThatDoNotAddUp: in the planted issuance three trees do not hold
// their roots' kg, and their differences happen to be made up by a dangling child's missing
// kg; a fourth (the range gap) holds its kg but not its root's units. The check above the figures must count those trees (as many as the roots' tables mark),
// say the missing batch too, lead to the tables, and never read clean; the JSON for tools
// carries the count. A clean issuance still reads clean.
func TestIssuanceCheckNamesTreesThatDoNotAddUp(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/issuances/"+a.fx.PlantedIssuance, http.StatusOK)
	check := doc.Find("[data-testid=check]")
	got := text(check)
	marked := doc.Find("table.roots .check-mini.bad")
	if marked.Length() != 4 {
		t.Fatalf("the roots' tables mark %d trees that do not add up, the fixture plants 4", marked.Length())
	}
	if !check.HasClass("bad") {
		t.Errorf("check class %q, want bad: %s", check.AttrOr("class", ""), got)
	}
	for _, want := range []string{"4 trees do not hold their roots’ kg or units", "1 batch is missing"} {
		if !strings.Contains(got, want) {
			t.Errorf("check %q does not say %q", got, want)
		}
	}
	href := check.Find("a[data-testid=unbalanced]").AttrOr("href", "")
	if !strings.HasPrefix(href, "#") || doc.Find(href).Length() != 1 {
		t.Fatalf("check links to %q, not to an anchor on the page", href)
	}
	// The anchor is the heading of the table that marks (the first of) those trees.
	if doc.Find(href).Closest("section").Find("table.roots .check-mini.bad").Length() == 0 {
		t.Errorf("%s leads to a table that marks no tree as not adding up", href)
	}
	for _, id := range []string{a.fx.SizeMismatch, a.fx.RepeatedChild, a.fx.BadStatus, a.fx.RangeGap} {
		row := doc.Find("table.roots tbody tr").FilterFunction(func(_ int, tr *goquery.Selection) bool {
			return tr.Find("th a[href='"+views.BatchURL(id)+"']").Length() == 1
		})
		if row.Find(".check-mini.bad").Length() != 1 {
			t.Errorf("root %s is not marked as not adding up", id)
		}
	}

	var rep struct {
		UnbalancedTrees *int `json:"unbalanced_trees"`
	}
	if r := a.get(t, "/api/v1/issuances/"+a.fx.PlantedIssuance); r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &rep) != nil ||
		rep.UnbalancedTrees == nil || *rep.UnbalancedTrees != 4 {
		t.Errorf("JSON unbalanced_trees: %d %v", r.status, rep.UnbalancedTrees)
	}

	doc, _ = a.page(t, "/issuances/"+a.fx.Issuance, http.StatusOK)
	check = doc.Find("[data-testid=check]")
	if !check.HasClass("ok") || check.Find("a[data-testid=unbalanced]").Length() != 0 || doc.Find("table.roots .check-mini.bad").Length() != 0 {
		t.Errorf("the clean issuance: %q", text(check))
	}
}

// The chart's caption counts batches as the page's figures do (repeated and missing places
// are not batches), so the two never disagree.
func TestIssuanceChartCountsBatchesAsThePageDoes(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/issuances/"+a.fx.PlantedIssuance, http.StatusOK)
	page := text(doc.Find("main"))
	fig := regexp.MustCompile(`Batches\s*([\d,]+) in`).FindStringSubmatch(page)
	capt := regexp.MustCompile(`Of [\d,]+ (?:batches|places \(([\d,]+) batches)`).FindStringSubmatch(text(doc.Find("figcaption")))
	if fig == nil || capt == nil {
		t.Fatalf("figures %v, caption %v in %q", fig, capt, head(page, 400))
	}
	if capt[1] != "" && capt[1] != fig[1] {
		t.Errorf("the page counts %s batches, the chart %s", fig[1], capt[1])
	}
}
