package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// What the lineage and issuance pages, their exports and the JSON do with ?since= and ?as_of=
// at their edges: days asked that are zero, in the future or today, routes that cannot honour
// a day, and the links and reloads that must keep it.

// The progress page's reload keeps the day asked, as it keeps ?serial=: otherwise the walk
// ends on the live page, without banner or marks.
func TestProgressPageKeepsTheDayAsked(t *testing.T) {
	a := newApp(t, appOptions{demo: demo.Options{Latency: 5 * time.Millisecond}, progressWait: time.Millisecond, history: openJournal(t)})
	for _, q := range []string{"since=2026-10-02", "as_of=2026-10-01"} {
		path := views.BatchURL(a.fx.DeepChainLeaf) + "?" + q
		doc, _ := a.page(t, path, http.StatusAccepted)
		if refresh := doc.Find("meta[http-equiv=refresh]").AttrOr("content", ""); !strings.Contains(refresh, q) || !strings.Contains(refresh, "walk=") {
			t.Errorf("GET %s: the progress page reloads %q; want ?%s kept", path, refresh, q)
		}
	}
	a = newApp(t, appOptions{demo: demo.Options{Latency: 5 * time.Millisecond}, progressWait: time.Millisecond, history: openJournal(t)})
	path := views.IssuanceURL(a.fx.Issuance) + "?since=2026-10-02"
	doc, _ := a.page(t, path, http.StatusAccepted)
	if refresh := doc.Find("meta[http-equiv=refresh]").AttrOr("content", ""); !strings.Contains(refresh, "since=2026-10-02") {
		t.Errorf("GET %s: the progress page reloads %q; want ?since= kept", path, refresh)
	}
}

// ?as_of=0001-01-01 and ?since=0001-01-01 are asked like any other day: the zero time is not
// "not asked".
func TestTheFirstDayIsADayAsked(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	doc, _ := d.a.page(t, views.BatchURL(d.root)+"?as_of=0001-01-01", http.StatusNotFound)
	if s := text(doc.Find("[data-testid=asof-nothing]")); !strings.Contains(s, "0001-01-01") || !strings.Contains(s, "2026-10-01") {
		t.Errorf("as of 0001-01-01: %q", s)
	}
	if r := d.a.get(t, views.LineageJSONURL(d.root)+"?as_of=0001-01-01"); r.status != http.StatusNotFound {
		t.Errorf("JSON as of 0001-01-01: %d %s", r.status, head(r.body, 200))
	}
	want, _ := sinceExpected(d.changes)
	want.Day = "0001-01-01"
	doc, _ = d.a.page(t, views.BatchURL(d.root)+"?since=0001-01-01", http.StatusOK)
	s := text(doc.Find("[data-testid=since-summary]"))
	if !strings.Contains(s, want.Summary()) || !strings.Contains(s, "first observed these batches on 2026-10-01") {
		t.Errorf("since 0001-01-01: %q; want %q and the day of the first observation", s, want.Summary())
	}
}

// A day after today (UTC) is refused, page and JSON alike: nothing can have been observed then.
// Today itself is not over: its reconstruction is not said to be of the end of the day.
func TestFutureDaysAreRefusedAndTodayIsSoFar(t *testing.T) {
	j := openJournal(t)
	a := newApp(t, appOptions{history: j})
	id := a.fx.WideLeafDeep
	a.page(t, views.BatchURL(id), http.StatusOK)
	flushJournal(t, j)
	for _, path := range []string{views.BatchURL(id) + "?as_of=2099-01-01", views.BatchURL(id) + "?since=2099-01-01",
		views.IssuanceURL(a.fx.Issuance) + "?since=2099-01-01"} {
		doc, _ := a.page(t, path, http.StatusBadRequest)
		if msg := text(doc.Find("main")); !strings.Contains(msg, "after today") {
			t.Errorf("GET %s: %q; want it to say the day is after today", path, head(msg, 300))
		}
	}
	if r := a.get(t, views.LineageJSONURL(id)+"?as_of=2099-01-01"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "after today") {
		t.Errorf("JSON as of 2099-01-01: %d %s", r.status, head(r.body, 300))
	}

	today := time.Now().UTC().Format(dayLayout)
	doc, _ := a.page(t, views.BatchURL(id)+"?as_of="+today, http.StatusOK)
	if today != time.Now().UTC().Format(dayLayout) {
		t.Skip("the day changed during the test")
	}
	b := text(doc.Find("[data-testid=asof-banner]"))
	if strings.Contains(b, "end of the day") || !strings.Contains(b, "so far today") {
		t.Errorf("the banner of today's reconstruction: %q", b)
	}
	var info struct {
		AsOf asOfInfoJSON `json:"as_of"`
	}
	if r := a.get(t, views.LineageJSONURL(id)+"?as_of="+today); json.Unmarshal([]byte(r.body), &info) != nil || !info.AsOf.Today {
		t.Errorf("JSON as of today: %d %s; want it said to be today's", r.status, head(r.body, 300))
	}
}

// ?as_of= where no reconstruction is made (an issuance's or a retirement's page, JSON and CSV,
// the chart) is refused with a 400 that says where it is available, rather than ignored.
func TestAsOfWhereItIsNotAvailableIsRefused(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	iss, ret, id := a.fx.Issuance, a.fx.HostileRetirement, a.fx.WideLeafDeep
	for _, q := range []string{"as_of=garbage", "as_of=2026-10-01"} {
		for _, path := range []string{views.IssuanceURL(iss), views.RetirementURL(ret), views.IssuanceCSVURL(iss), views.ChartURL(id, "")} {
			doc, _ := a.page(t, path+"?"+q, http.StatusBadRequest)
			main := doc.Find("main")
			if !strings.Contains(text(main), "lineage page") || main.Find("a[data-testid=error-link]").Length() == 0 {
				t.Errorf("GET %s?%s: %q; want it to say as_of is for a lineage page, with a link", path, q, head(text(main), 300))
			}
		}
		if r := a.get(t, "/api/v1/issuances/"+iss+"?"+q); r.status != http.StatusBadRequest || !strings.Contains(r.body, "lineage") {
			t.Errorf("JSON of the issuance ?%s: %d %s", q, r.status, head(r.body, 300))
		}
	}
}

// ?as_of= and ?since= together are refused by the page and the JSON alike, for the same reason.
func TestAsOfAndSinceTogetherAreRefusedAlike(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	id := a.fx.WideLeafDeep
	q := "?as_of=2026-10-01&since=2026-10-01"
	doc, _ := a.page(t, views.BatchURL(id)+q, http.StatusBadRequest)
	r := a.get(t, views.LineageJSONURL(id)+q)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Ask for one of them") || !strings.Contains(text(doc.Find("main")), "Ask for one of them") {
		t.Errorf("the JSON answers %d %s; the page says %q", r.status, head(r.body, 300), head(text(doc.Find("main")), 300))
	}
}

// ?since= on the lineage export, which has no place for marks, is refused with where to find
// what changed, rather than the whole tree answered as if it were the changes.
func TestLineageExportRefusesSinceAndSaysWhereToLook(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	id := a.fx.WideLeafDeep
	r := a.get(t, views.LineageJSONURL(strings.ToLower(id))+"?since=2026-10-01")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, views.HistoryJSONURL(id)+"?since=2026-10-01") ||
		!strings.Contains(r.body, views.BatchURL(id)+"?since=2026-10-01") {
		t.Errorf("lineage JSON with ?since=: %d %s", r.status, head(r.body, 400))
	}
}

// The as-of page's downloads are of the reconstruction it shows, not of today's tree.
func TestAsOfPageDownloadsTheReconstruction(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	doc, _ := d.a.page(t, views.BatchURL(d.root)+"?as_of=2026-10-01", http.StatusOK)
	jsonURL := doc.Find("[data-testid=export-json]").AttrOr("href", "")
	csvURL := doc.Find("[data-testid=export-csv]").AttrOr("href", "")
	if !strings.Contains(jsonURL, "as_of=2026-10-01") || !strings.Contains(csvURL, "as_of=2026-10-01") {
		t.Fatalf("the as-of page downloads %q and %q", jsonURL, csvURL)
	}
	var info struct {
		AsOf asOfInfoJSON `json:"as_of"`
	}
	r := d.a.get(t, jsonURL)
	if err := json.Unmarshal([]byte(r.body), &info); err != nil || r.status != http.StatusOK || !info.AsOf.Reconstruction {
		t.Errorf("GET %s: %d %s", jsonURL, r.status, head(r.body, 200))
	}
	r = d.a.get(t, csvURL)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, utf8BOM))).ReadAll()
	if r.status != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %v", csvURL, r.status, err)
	}
	if len(rows)-1 != len(states(d.walk1)) {
		t.Errorf("the CSV as of 2026-10-01 has %d batches; the first walk saw %d (today's tree has %d)", len(rows)-1, len(states(d.walk1)), len(states(d.walk2)))
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the reconstruction's CSV is kept: Cache-Control %q", cc)
	}
}

// The issuance page keeps its Watch button when ?since= marks it.
func TestIssuanceSinceKeepsTheWatchButton(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	doc, _ := w.page(t, views.IssuanceURL(w.fx.Issuance)+"?since=2026-10-02", http.StatusOK)
	if doc.Find("[data-testid=since-summary]").Length() == 0 {
		t.Fatal("the page has no since summary")
	}
	if got := doc.Find("form[data-testid=watch-issuance] input[name=target]").AttrOr("value", ""); got != w.fx.Issuance {
		t.Errorf("the issuance page with ?since= has a Watch form targeting %q", got)
	}
}

// A reader moving about an as-of page stays in the reconstruction: every link to a lineage
// page (tree, path, chart bars) keeps the day, but the one to the tree as it is now; the chart
// route, which makes no reconstruction, is not offered.
func TestAsOfPageLinksStayInTheReconstruction(t *testing.T) {
	d := newChangingDemo(t, appOptions{})
	deepest := d.walk1.Nodes[0]
	for _, n := range d.walk1.Nodes {
		if n.Batch != nil && n.Depth > deepest.Depth {
			deepest = n
		}
	}
	if deepest.Depth < 1 {
		t.Fatalf("the tree's deepest batch is at depth %d", deepest.Depth)
	}
	for _, id := range []string{d.root, deepest.ID} {
		doc, _ := d.a.page(t, views.BatchURL(id)+"?as_of=2026-10-01", http.StatusOK)
		links := doc.Find("a[href^='/batches/']")
		if links.Length() < 3 {
			t.Fatalf("the as-of page of %s has %d links to lineage pages", id, links.Length())
		}
		links.Each(func(_ int, a *goquery.Selection) {
			href := a.AttrOr("href", "")
			if a.AttrOr("data-testid", "") != "asof-live" && !strings.Contains(href, "as_of=2026-10-01") {
				t.Errorf("the as-of page of %s links to %q (%q in %s.%s %s), out of the reconstruction", id, href, head(text(a), 40), goquery.NodeName(a.Parent()), a.Parent().AttrOr("class", ""), a.Closest("section,figure,nav,header").AttrOr("class", "")+a.Closest("section,figure,nav,header").AttrOr("data-testid", ""))
			}
		})
	}
}

// A tree walked a moment ago is reconstructed whole as of today: its batches reach the journal
// in the background, and the reconstruction waits for them rather than call them "first seen
// later" and their links dangling.
func TestAsOfTodayRightAfterTheWalkIsTheWholeTree(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	id := a.fx.WideLeafDeep
	today := time.Now().UTC().Format("2006-01-02")
	doc, _ := a.page(t, views.BatchURL(id)+"?as_of="+today, http.StatusOK) // walks, then reconstructs at once
	live, _ := a.page(t, views.BatchURL(id), http.StatusOK)
	rows := live.Find("[data-testid=tree] li[id]").Length()
	if s := text(doc.Find("[data-testid=asof-banner]")); !strings.Contains(s, "; 0 batches first seen later") {
		t.Errorf("as of today, right after the walk: %q", s)
	}
	if doc.Find("[data-testid=no-problems]").Length() != 1 {
		t.Errorf("the reconstruction has problems the tree has not: %q", text(doc.Find("[data-testid=audit]")))
	}
	if n := doc.Find("[data-testid=tree] li[id]").Length(); n != rows {
		t.Errorf("as of today the page shows %d rows, the live page %d", n, rows)
	}
}

// A redirect to an id's own address keeps the day asked, and so do the redirects of a serial
// number and of a search to the page they find: the reader lands on the view asked for.
func TestRedirectsKeepTheDayAsked(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	serial := a.serialOf(t, a.fx.WideLeafDeep).String()
	for _, c := range []struct{ path, want string }{
		{"/batches/" + strings.ToLower(a.fx.WideLeafDeep), views.BatchURL(a.fx.WideLeafDeep)},
		{"/issuances/" + strings.ToUpper(a.fx.Issuance), views.IssuanceURL(a.fx.Issuance)},
		{"/retirements/" + strings.ToUpper(a.fx.HostileRetirement), views.RetirementURL(a.fx.HostileRetirement)},
		{"/projects/" + strings.ToUpper(a.fx.Project), views.ProjectURL(a.fx.Project)},
		{"/organisations/" + strings.ToUpper(a.fx.Organisation), views.OrganisationURL(a.fx.Organisation)},
		{views.SerialURL(serial), views.BatchURL(a.fx.WideLeafDeep)},
		{"/search?q=" + a.fx.Issuance, views.IssuanceURL(a.fx.Issuance)},
	} {
		for _, q := range []string{"since=2026-10-01", "as_of=2026-10-01"} {
			path := c.path + "&" + q
			if !strings.Contains(c.path, "?") {
				path = c.path + "?" + q
			}
			r := a.get(t, path)
			if r.status != http.StatusMovedPermanently && r.status != http.StatusSeeOther {
				t.Errorf("GET %s: %d, want a redirect", path, r.status)
				continue
			}
			if loc := r.header.Get("Location"); loc != c.want+"?"+q {
				t.Errorf("GET %s: to %q, want %q", path, loc, c.want+"?"+q)
			}
		}
	}
	// Only the days are carried to the page found, and only days that can be answered.
	r := a.get(t, views.SerialURL(serial)+"?since=2026-10-01&q=x")
	if loc := r.header.Get("Location"); loc != views.BatchURL(a.fx.WideLeafDeep)+"?since=2026-10-01" {
		t.Errorf("serial with ?since= and ?q=: to %q", loc)
	}
	for _, path := range []string{views.SerialURL(serial) + "?since=garbage", "/search?q=" + a.fx.Issuance + "&as_of=2099-01-01"} {
		if r := a.get(t, path); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d to %q, want 400", path, r.status, r.header.Get("Location"))
		}
	}
}

// ?since= where no changes are marked (the exports but the lineage JSON's, the retirement's
// page and JSON, the chart) is refused with where they are, rather than ignored, whether the
// day is good, malformed or in the future; ?as_of= on a project's or an organisation's page
// and JSON is refused as on an issuance's.
func TestDaysWhereTheyAreNotShownAreRefused(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	iss, ret, id := a.fx.Issuance, a.fx.HostileRetirement, a.fx.WideLeafDeep
	for _, q := range []string{"since=garbage", "since=2099-01-01", "since=2026-10-01"} {
		for _, path := range []string{views.LineageCSVURL(id), views.IssuanceCSVURL(iss), views.RetirementURL(ret), views.RetirementCSVURL(ret), views.ChartURL(id, ""),
			views.ProjectURL(a.fx.Project), views.OrganisationURL(a.fx.Organisation)} {
			doc, _ := a.page(t, path+"?"+q, http.StatusBadRequest)
			main := doc.Find("main")
			if !strings.Contains(text(main), "?since=") || !strings.Contains(text(main), "lineage page") || main.Find("a[data-testid=error-link]").Length() == 0 {
				t.Errorf("GET %s?%s: %q; want it to say where changes are marked, with a link", path, q, head(text(main), 300))
			}
		}
		for _, path := range []string{"/api/v1/issuances/" + iss, "/api/v1/retirements/" + ret, "/api/v1/projects/" + a.fx.Project, "/api/v1/organisations/" + a.fx.Organisation} {
			if r := a.get(t, path+"?"+q); r.status != http.StatusBadRequest || !strings.Contains(r.body, "history") {
				t.Errorf("GET %s?%s: %d %s", path, q, r.status, head(r.body, 300))
			}
		}
	}
	for _, q := range []string{"as_of=garbage", "as_of=2026-10-01"} {
		for _, path := range []string{views.ProjectURL(a.fx.Project), views.OrganisationURL(a.fx.Organisation)} {
			doc, _ := a.page(t, path+"?"+q, http.StatusBadRequest)
			main := doc.Find("main")
			if !strings.Contains(text(main), "lineage page") || main.Find("a[data-testid=error-link]").Length() == 0 {
				t.Errorf("GET %s?%s: %q; want it to say as_of is for a lineage page, with a link", path, q, head(text(main), 300))
			}
		}
		for _, path := range []string{"/api/v1/projects/" + a.fx.Project, "/api/v1/organisations/" + a.fx.Organisation} {
			if r := a.get(t, path+"?"+q); r.status != http.StatusBadRequest || !strings.Contains(r.body, "lineage") {
				t.Errorf("GET %s?%s: %d %s", path, q, r.status, head(r.body, 300))
			}
		}
	}
}

// A batch's history refuses a day after today as the pages do: nothing has been observed on
// it, and an empty list would say nothing changed.
func TestHistoryRefusesAFutureDay(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	path := views.HistoryJSONURL(a.fx.WideLeafDeep) + "?since=2099-01-01"
	if r := a.get(t, path); r.status != http.StatusBadRequest || !strings.Contains(r.body, "after today") {
		t.Errorf("GET %s: %d %s", path, r.status, head(r.body, 300))
	}
	if r := a.get(t, views.HistoryJSONURL(a.fx.WideLeafDeep)+"?since=2026-10-01"); r.status != http.StatusOK {
		t.Errorf("history since 2026-10-01: %d %s", r.status, head(r.body, 300))
	}
}

// A day asked twice is refused, page and JSON alike, rather than the first one answered as
// if it were the only one.
func TestADayAskedTwiceIsRefused(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	id := a.fx.WideLeafDeep
	for _, name := range []string{"as_of", "since"} {
		q := "?" + name + "=2026-10-02&" + name + "=2026-10-01"
		for _, path := range []string{views.BatchURL(id), views.SerialURL(a.serialOf(t, id).String()), views.IssuanceURL(a.fx.Issuance)} {
			if name == "as_of" && path == views.IssuanceURL(a.fx.Issuance) {
				continue // refused whatever its value
			}
			doc, _ := a.page(t, path+q, http.StatusBadRequest)
			if msg := text(doc.Find("main")); !strings.Contains(msg, "give one "+name) {
				t.Errorf("GET %s%s: %q", path, q, head(msg, 300))
			}
		}
		// The lineage JSON refuses ?since= whatever its value, the history takes no ?as_of=.
		path := views.LineageJSONURL(id)
		if name == "since" {
			path = views.HistoryJSONURL(id)
		}
		{
			if r := a.get(t, path+q); r.status != http.StatusBadRequest || !strings.Contains(r.body, "give one "+name) {
				t.Errorf("GET %s%s: %d %s", path, q, r.status, head(r.body, 300))
			}
		}
	}
}

// A JSON error echoes what was asked cut short: a value of any length is not sent back in full
// (twice: in the value and in the sentence), whichever route answers.
func TestJSONErrorsCutTheValueEchoed(t *testing.T) {
	a := newApp(t, appOptions{history: openJournal(t)})
	long := strings.Repeat("9", 20000)
	for _, path := range []string{views.LineageJSONURL(a.fx.WideLeafDeep) + "?as_of=" + long, "/api/v1/issuances/iss_" + long,
		views.HistoryJSONURL(a.fx.WideLeafDeep) + "?since=" + long} {
		r := a.get(t, path)
		var e apiError
		if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %v %s", head(path, 80), r.status, err, head(r.body, 300))
			continue
		}
		if len(r.body) > 4000 || len([]rune(e.Value)) > 201 || !strings.HasSuffix(e.Value, "…") || !strings.HasPrefix(long, strings.TrimPrefix(strings.TrimSuffix(e.Value, "…"), "iss_")) {
			t.Errorf("GET %s: %d bytes, value %q", head(path, 80), len(r.body), head(e.Value, 300))
		}
	}
}
