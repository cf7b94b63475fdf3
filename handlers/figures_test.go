package handlers

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

// Records shaped as the registry sends them but with values real registries produce (a status
// the explorer does not know, credits that disagree with kg, ranges that do not partition),
// served by an upstream that answers their routes and leaves every other to the demo registry:
// the real client decodes them over real HTTP, as it would the registry's.

// overlay answers GET of the given paths (relative to the registry's base URL, e.g.
// "/credit_batches/ctb_…") with their JSON bodies, and hands every other request to the demo.
func overlay(bodies map[string]string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if body, ok := bodies[strings.TrimPrefix(r.URL.Path, demo.BasePath)]; ok && r.Method == http.MethodGet {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, body)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// record is one credit batch as the registry sends it; zero fields take consistent defaults.
type record struct {
	id, serial, status, parent, left, right string
	kg                                      int64
	credits                                 string // JSON literal; "" writes kg's exact credits
	owner, beneficiary, retirement          string
}

func org(name string) string {
	if name == "" {
		return "null"
	}
	id := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, name)
	return fmt.Sprintf(`{"id":%q,"name":%q,"domain":null}`, "org_1"+strings.ToUpper(id + "0000000000000000")[:16], name)
}

func jsonOrNull(s string) string {
	if s == "" {
		return "null"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func (r record) json() string {
	credits := r.credits
	if credits == "" {
		credits = registry.FormatCredits(r.kg)
	}
	owner := r.owner
	if owner == "" {
		owner = "Deepstore Removals"
	}
	retiredAt := "null"
	if r.retirement != "" {
		retiredAt = `"2026-04-09T18:21:22.047712Z"`
	}
	return fmt.Sprintf(`{"id":%q,"serial_number":%s,"status":%s,"issued_at":"2026-02-27T15:40:46.883028Z",
"retired_at":%s,"delivered_at":null,"sequestered_on":"2026-01-20","country_of_issue":"GBR",
"supplier_id":"spl_15VFW6T2KDWAS7VQ","parent_id":%s,"left_child_id":%s,"right_child_id":%s,
"issuance_id":"iss_1FIGURESISSUANCE1","delivery_id":null,"retirement_id":%s,"removal_id":"rmv_1FG98C79PW9NR19Q",
"project_id":"prj_1418ZFQP4KDX2KTD","ccp_approved":true,"size":{"credit_kgs":%d,"credits":%s},
"beneficiary":%s,"owner":%s,"carbon_removal_data":null}`,
		r.id, jsonOrNull(r.serial), jsonOrNull(r.status), retiredAt, jsonOrNull(r.parent), jsonOrNull(r.left), jsonOrNull(r.right),
		jsonOrNull(r.retirement), r.kg, credits, org(r.beneficiary), org(owner))
}

func serialOf(first, last int64) string {
	return fmt.Sprintf("ISO-1-BSTORE-GBR-F5X7-2026-%d-%d", first, last)
}

// withBatches adds the records' GET /credit_batches/{id} answers to bodies.
func withBatches(bodies map[string]string, recs ...record) map[string]string {
	for _, r := range recs {
		bodies["/credit_batches/"+r.id] = r.json()
	}
	return bodies
}

// withIssuance adds an issuance whose supplier roots are roots.
func withIssuance(bodies map[string]string, id string, roots ...record) map[string]string {
	var kg int64
	var list []string
	for _, r := range roots {
		kg += r.kg
		list = append(list, r.json())
	}
	q := fmt.Sprintf(`{"credit_kgs":%d,"credits":%s}`, kg, registry.FormatCredits(kg))
	bodies["/issuances/"+id] = fmt.Sprintf(`{"id":%q,"issued_at":"2026-02-27T15:40:46.883028Z",
"supplier":{"id":"spl_15VFW6T2KDWAS7VQ","organisation":%s,"short_description":null,"long_description":null,"location":null},
"project_id":"prj_1418ZFQP4KDX2KTD","reporting_period_start_at":"2026-01-01","reporting_period_end_at":"2026-01-31",
"supplier_credit_batch_size_total":%s,"buffer_pool_credit_batch_size_total":{"credit_kgs":0,"credits":0},"credit_batch_size_total":%s}`,
		id, org("Deepstore Removals"), q, q)
	bodies["/issuances/"+id+"/credit_batches"] = fmt.Sprintf(`{"issuance_id":%q,"supplier_credit_batches":[%s],
"supplier_credit_batch_size_total":%s,"buffer_pool_credit_batches":[],"buffer_pool_credit_batch_size_total":{"credit_kgs":0,"credits":0},
"credit_batch_size_total":%s}`, id, strings.Join(list, ","), q, q)
	return bodies
}

// withRetirement adds a retirement of the given batches for beneficiary, retired by owner.
func withRetirement(bodies map[string]string, id, owner, beneficiary string, batches ...record) map[string]string {
	var kg int64
	var list []string
	for _, r := range batches {
		kg += r.kg
		list = append(list, r.json())
	}
	bodies["/retirements/"+id] = fmt.Sprintf(`{"id":%q,"retired_at":"2026-04-09T18:21:22.047712Z","purposes":["corporate_targets"],
"beneficiary":%s,"owner":%s,"credit_batch_size_total":{"credit_kgs":%d,"credits":%s},"url":"","notes":null}`,
		id, org(beneficiary), org(owner), kg, registry.FormatCredits(kg))
	bodies["/retirements/"+id+"/credit_batches"] = fmt.Sprintf(`{"nodes":[%s],"total_count":%d}`, strings.Join(list, ","), len(list))
	return bodies
}

// statusRecords is the example: a 1,000 kg split root whose 400 kg left half has the
// given status and whose 600 kg right half is active, both owned by Nordic Sinks AB.
func statusRecords(root, left, right, status string) []record {
	return []record{
		{id: root, serial: serialOf(1000, 2000), status: "split", kg: 1000, left: left, right: right},
		{id: left, serial: serialOf(1000, 1400), status: status, kg: 400, parent: root, owner: "Nordic Sinks AB"},
		{id: right, serial: serialOf(1400, 2000), status: "active", kg: 600, parent: root, owner: "Nordic Sinks AB"},
	}
}

// cells is the text of each child element of s (a table row's cells, a list's terms and
// descriptions), joined by " | ", so that adjacent cells do not run together.
func cells(s *goquery.Selection) string {
	var out []string
	s.Children().Each(func(_ int, c *goquery.Selection) { out = append(out, text(c)) })
	return strings.Join(out, " | ")
}

func csvOf(t *testing.T, a *testApp, id string) [][]string {
	t.Helper()
	r := a.get(t, views.LineageCSVURL(id))
	if r.status != http.StatusOK {
		t.Fatalf("CSV: status %d: %s", r.status, head(r.body, 300))
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, utf8BOM))).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	return rows
}

func csvColumn(t *testing.T, rows [][]string, name string) int {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			return i
		}
	}
	t.Fatalf("no %s column in %v", name, rows[0])
	return -1
}

// Item 1: a status the explorer does not know is not active. Its kg have their own figure
// beside active and retired, in the holder tables, the chart legend and both exports, on the
// lineage page and the issuance page; the audit names the status.
func TestOtherStatusShownBesideActiveAndRetired(t *testing.T) {
	recs := statusRecords("ctb_1STATUSROOT00001", "ctb_1STATUSLEFT00001", "ctb_1STATUSRIGHT0001", "cancelled")
	a := newApp(t, appOptions{upstream: overlay(withIssuance(withBatches(map[string]string{}, recs...), "iss_1FIGURESISSUANCE1", recs[0]))})

	doc, _ := a.page(t, views.BatchURL("ctb_1STATUSROOT00001"), http.StatusOK)
	now := cells(doc.Find("section.totals [data-testid=now]"))
	if !strings.Contains(now, "Active (can still change hands) | 0.600 credits = 600 kg") {
		t.Errorf("totals %q do not give 600 kg active", now)
	}
	if other := text(doc.Find("[data-testid=other-status]")); !strings.Contains(now, `Other status ("cancelled")`) || !strings.Contains(other, "0.400 credits = 400 kg") {
		t.Errorf("totals %q do not give 400 kg in the other status", now)
	}
	holders := doc.Find("section.totals [data-testid=holders]")
	if h := text(holders.Find("thead")); !strings.Contains(h, "Other status credits") {
		t.Errorf("holder table header %q has no other-status column", h)
	}
	if row := cells(holders.Find("tbody tr").First()); !strings.Contains(row, " | 0.600 | 0.000 | 0.400 | 100.0%") || !strings.HasPrefix(row, "Nordic Sinks AB") {
		t.Errorf("holder row %q, want 0.600 active, 0.000 retired, 0.400 other", row)
	}
	if check := text(doc.Find("[data-testid=check]")); !strings.HasPrefix(check, "Adds up: active, retired and other-status batches") {
		t.Errorf("check %q", check)
	}
	legend := text(doc.Find("[data-testid=icicle] ul.legend"))
	if !strings.Contains(legend, `other status ("cancelled"), not counted as active · 0.400 credits`) || !strings.Contains(legend, "active · 0.600 credits") {
		t.Errorf("legend %q", legend)
	}
	if audit := text(doc.Find("[data-testid=problems]")); !strings.Contains(audit, `unknown status "cancelled"`) {
		t.Errorf("the audit does not name the status: %q", audit)
	}

	var e struct {
		Totals struct {
			ActiveKg      int64    `json:"active_kg"`
			OtherKg       int64    `json:"other_status_kg"`
			OtherStatuses []string `json:"other_statuses"`
		} `json:"totals"`
		Summary struct {
			Conserved bool `json:"conserved"`
		} `json:"summary"`
	}
	if r := a.get(t, views.LineageJSONURL("ctb_1STATUSROOT00001")); json.Unmarshal([]byte(r.body), &e) != nil ||
		e.Totals.ActiveKg != 600 || e.Totals.OtherKg != 400 || len(e.Totals.OtherStatuses) != 1 || e.Totals.OtherStatuses[0] != "cancelled" || !e.Summary.Conserved {
		t.Errorf("JSON totals %+v, summary %+v", e.Totals, e.Summary)
	}
	rows := csvOf(t, a, "ctb_1STATUSROOT00001")
	counted, id := csvColumn(t, rows, "counted_as"), csvColumn(t, rows, "id")
	for _, row := range rows[1:] {
		if row[id] == "ctb_1STATUSLEFT00001" && row[counted] != "other_status" {
			t.Errorf("CSV counts the cancelled batch as %q", row[counted])
		}
	}

	doc, _ = a.page(t, "/issuances/iss_1FIGURESISSUANCE1", http.StatusOK)
	now = cells(doc.Find("[data-testid=now]"))
	if !strings.Contains(now, "Active (can still change hands) | 0.600 credits") || !strings.Contains(now, `Other status ("cancelled") | 0.400 credits`) {
		t.Errorf("issuance totals %q", now)
	}
	if row := cells(doc.Find("[data-testid=holders] tbody tr").First()); !strings.Contains(row, " | 0.600 | 0.000 | 0.400 | ") || !strings.HasPrefix(row, "Nordic Sinks AB") {
		t.Errorf("issuance holder row %q", row)
	}
	if row := cells(doc.Find("[data-testid=supplier-roots] tbody tr").First()); !strings.Contains(row, " | 1.000 | 0.600 | 0.000 | 0.400 | ") {
		t.Errorf("issuance root row %q", row)
	}
	if c := doc.Find("[data-testid=check]"); !c.HasClass("ok") {
		t.Errorf("issuance check %q", text(c))
	}
	if legend := text(doc.Find("[data-testid=icicle] ul.legend")); !strings.Contains(legend, `other status ("cancelled"), not counted as active · 0.400 credits`) {
		t.Errorf("issuance legend %q", legend)
	}
	var rep struct {
		ActiveKg int64 `json:"active_kg"`
		OtherKg  int64 `json:"other_status_kg"`
		ByHolder []struct {
			ActiveKg int64 `json:"active_kg"`
			OtherKg  int64 `json:"other_status_kg"`
		} `json:"by_holder"`
	}
	if r := a.get(t, "/api/v1/issuances/iss_1FIGURESISSUANCE1"); json.Unmarshal([]byte(r.body), &rep) != nil ||
		rep.ActiveKg != 600 || rep.OtherKg != 400 || len(rep.ByHolder) != 1 || rep.ByHolder[0].OtherKg != 400 {
		t.Errorf("issuance JSON %+v", rep)
	}
}

// Item 2: credits that disagree with credit_kgs are a problem on that batch, naming both,
// wherever the batch is shown; a record's total whose credits disagree is one on the record.
func TestCreditsMismatchIsAProblemOnThePage(t *testing.T) {
	b := record{id: "ctb_1CREDITSBATCH0001", serial: serialOf(5000, 6500), status: "active", kg: 1500, credits: "15.0"}
	retired := record{id: "ctb_1CREDITSRETIRED1", serial: serialOf(7000, 8500), status: "retired", kg: 1500, credits: "15",
		owner: "Buyer One", beneficiary: "Beneficiary Co", retirement: "ret_1CREDITSRETIRE01"}
	bodies := withBatches(map[string]string{}, b, retired)
	bodies = withRetirement(bodies, "ret_1CREDITSRETIRE01", "Buyer One", "Beneficiary Co", retired)
	bodies = withIssuance(bodies, "iss_1FIGURESISSUANCE1", b)
	// The issuance's own total says 15 credits for its 1,500 kg.
	bodies["/issuances/iss_1FIGURESISSUANCE1"] = strings.Replace(bodies["/issuances/iss_1FIGURESISSUANCE1"],
		`"credit_batch_size_total":{"credit_kgs":1500,"credits":1.500}`, `"credit_batch_size_total":{"credit_kgs":1500,"credits":15}`, 1)
	a := newApp(t, appOptions{upstream: overlay(bodies)})
	doc, _ := a.page(t, views.BatchURL(b.id), http.StatusOK)
	li := doc.Find(`[data-testid=problems] li[data-kind=credits_mismatch]`)
	if li.Length() != 1 || !strings.Contains(text(li), "credits 15.0") || !strings.Contains(text(li), "1,500 kg make 1.500 credits") {
		t.Errorf("audit: %q", text(doc.Find("[data-testid=audit]")))
	}
	if h := text(doc.Find(".headline")); !strings.Contains(h, "1.500 credits") {
		t.Errorf("headline %q: the kg are the truth", h)
	}
	e := decodeExport(t, a.get(t, views.LineageJSONURL(b.id)).body)
	if len(e.Problems) != 1 || e.Problems[0].Kind != "credits_mismatch" || !strings.Contains(e.Problems[0].Detail, "15.0") || e.Summary.Clean {
		t.Errorf("JSON problems %+v", e.Problems)
	}

	doc, _ = a.page(t, "/retirements/ret_1CREDITSRETIRE01", http.StatusOK)
	if p := text(doc.Find(`[data-testid=batches] .prob.credits_mismatch`)); !strings.Contains(p, "credits 15, but its credit_kgs 1,500 kg make 1.500 credits") {
		t.Errorf("retirement page: the retired batch's problems %q", p)
	}
	doc, _ = a.page(t, "/issuances/iss_1FIGURESISSUANCE1", http.StatusOK)
	if p := text(doc.Find(`[data-testid=record-problems] li[data-kind=credits_mismatch]`)); !strings.Contains(p, "credit_batch_size_total credits 15, but its credit_kgs 1,500 kg make 1.500 credits") {
		t.Errorf("issuance page: the record's problems %q", p)
	}
	if h := text(doc.Find(".headline")); !strings.Contains(h, "1.500 credits issued") {
		t.Errorf("issuance headline %q: the kg are the truth", h)
	}
}

// Item 3: ranges that overlap, leave a gap or overrun the parent make the tree not conserved,
// and the exact units are named on the page, in the audit JSON and in the CSV.
func TestRangeUnitsNamedOnThePageAndInBothExports(t *testing.T) {
	recs := []record{
		{id: "ctb_1RANGEROOT000001", serial: serialOf(1000, 4000), status: "split", kg: 3000, left: "ctb_1RANGELEFT000001", right: "ctb_1RANGERIGHT00001"},
		{id: "ctb_1RANGELEFT000001", serial: serialOf(1000, 2500), status: "active", kg: 1500, parent: "ctb_1RANGEROOT000001"},
		{id: "ctb_1RANGERIGHT00001", serial: serialOf(2499, 3999), status: "active", kg: 1500, parent: "ctb_1RANGEROOT000001"},
	}
	a := newApp(t, appOptions{upstream: overlay(withIssuance(withBatches(map[string]string{}, recs...), "iss_1FIGURESISSUANCE1", recs[0]))})
	units := []string{"unit 2499 is held by both ctb_1RANGELEFT000001 and ctb_1RANGERIGHT00001", "unit 3999 is held by no child"}

	doc, _ := a.page(t, views.BatchURL("ctb_1RANGEROOT000001"), http.StatusOK)
	audit := text(doc.Find("[data-testid=audit]"))
	for _, w := range units {
		if !strings.Contains(audit, w) {
			t.Errorf("the audit does not say %q: %q", w, audit)
		}
	}
	if doc.Find("[data-testid=audit] [data-testid=conserved]").Length() != 0 {
		t.Errorf("the audit says the sizes add up: %q", audit)
	}
	if c := doc.Find("section.totals [data-testid=check]"); !c.HasClass("bad") || !strings.Contains(text(c), "serial ranges do not") {
		t.Errorf("totals check %q", text(c))
	}

	r := a.get(t, views.LineageJSONURL("ctb_1RANGEROOT000001"))
	var e struct {
		Problems []struct{ Kind, Detail string }
		Summary  struct {
			Conserved   bool   `json:"conserved"`
			ConservedKg *int64 `json:"conserved_kg"`
		}
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Summary.Conserved || e.Summary.ConservedKg != nil {
		t.Errorf("JSON summary %+v", e.Summary)
	}
	for _, w := range units {
		if !strings.Contains(r.body, w) {
			t.Errorf("JSON problems lack %q: %+v", w, e.Problems)
		}
	}

	rows := csvOf(t, a, "ctb_1RANGEROOT000001")
	probs, id := csvColumn(t, rows, "problems"), csvColumn(t, rows, "id")
	for _, row := range rows[1:] {
		if row[id] != "ctb_1RANGEROOT000001" {
			continue
		}
		for _, w := range units {
			if !strings.Contains(row[probs], w) {
				t.Errorf("CSV problems %q lack %q", row[probs], w)
			}
		}
	}

	doc, _ = a.page(t, "/issuances/iss_1FIGURESISSUANCE1", http.StatusOK)
	if c := doc.Find("[data-testid=check]"); !c.HasClass("bad") {
		t.Errorf("issuance check %q for a tree whose units do not add up", text(c))
	}
}

// Item 7: "by holder" is the owner on every page and in the JSON; beneficiaries have their own
// table on every page that totals retirements.
func TestByHolderIsTheOwnerEverywhere(t *testing.T) {
	recs := []record{
		{id: "ctb_1HOLDERROOT00001", serial: serialOf(0, 1000), status: "split", kg: 1000, left: "ctb_1HOLDERLEFT00001", right: "ctb_1HOLDERRIGHT0001"},
		{id: "ctb_1HOLDERLEFT00001", serial: serialOf(0, 300), status: "retired", kg: 300, parent: "ctb_1HOLDERROOT00001",
			owner: "Buyer One", beneficiary: "Beneficiary Co", retirement: "ret_1HOLDERRETIRE001"},
		{id: "ctb_1HOLDERRIGHT0001", serial: serialOf(300, 1000), status: "active", kg: 700, parent: "ctb_1HOLDERROOT00001", owner: "Buyer One"},
	}
	bodies := withBatches(map[string]string{}, recs...)
	bodies = withIssuance(bodies, "iss_1FIGURESISSUANCE1", recs[0])
	bodies = withRetirement(bodies, "ret_1HOLDERRETIRE001", "Buyer One", "Beneficiary Co", recs[1])
	a := newApp(t, appOptions{upstream: overlay(bodies)})

	// Each table's rows, one line each.
	rows := func(doc *goquery.Document, testid string) string {
		var out []string
		doc.Find("[data-testid=" + testid + "] tbody tr").Each(func(_ int, tr *goquery.Selection) { out = append(out, cells(tr)) })
		return strings.Join(out, "\n")
	}
	for _, p := range []struct{ name, path, holders, benefs string }{
		{"lineage", views.BatchURL("ctb_1HOLDERROOT00001"), "Buyer One org_1BUYERONE00000000 | 0.700 | 0.300 | ", "Beneficiary Co org_1BENEFICIARYCO000 | 0.300 | "},
		{"issuance", "/issuances/iss_1FIGURESISSUANCE1", "Buyer One org_1BUYERONE00000000 | 0.700 | 0.300 | ", "Beneficiary Co org_1BENEFICIARYCO000 | 0.300 | "},
		// Who retired them, and (none here) what they still hold of the batches listed.
		{"retirement", "/retirements/ret_1HOLDERRETIRE001", "Buyer One org_1BUYERONE00000000 | 0.300 | 0.000 | ", "Beneficiary Co org_1BENEFICIARYCO000 | 0.300 | "},
	} {
		doc, _ := a.page(t, p.path, http.StatusOK)
		if h := rows(doc, "holders"); !strings.HasPrefix(h, p.holders) || strings.Contains(h, "Beneficiary Co") {
			t.Errorf("%s page: holder table %q, want one row starting %q and no beneficiary", p.name, h, p.holders)
		}
		if b := rows(doc, "beneficiaries"); !strings.HasPrefix(b, p.benefs) || strings.Contains(b, "Buyer One") {
			t.Errorf("%s page: beneficiary table %q, want one row starting %q", p.name, b, p.benefs)
		}
	}

	type orgKg struct {
		Holder      *registry.Organisation `json:"holder"`
		Beneficiary *registry.Organisation `json:"beneficiary"`
		RetiredKg   int64                  `json:"retired_kg"`
	}
	var lin struct {
		Totals struct {
			ByHolder      []orgKg `json:"by_holder"`
			ByBeneficiary []orgKg `json:"by_beneficiary"`
		} `json:"totals"`
	}
	var iss, ret struct {
		ByHolder      []orgKg `json:"by_holder"`
		ByBeneficiary []orgKg `json:"by_beneficiary"`
	}
	json.Unmarshal([]byte(a.get(t, views.LineageJSONURL("ctb_1HOLDERROOT00001")).body), &lin)
	json.Unmarshal([]byte(a.get(t, "/api/v1/issuances/iss_1FIGURESISSUANCE1").body), &iss)
	json.Unmarshal([]byte(a.get(t, "/api/v1/retirements/ret_1HOLDERRETIRE001").body), &ret)
	for name, rows := range map[string][2][]orgKg{"lineage": {lin.Totals.ByHolder, lin.Totals.ByBeneficiary},
		"issuance": {iss.ByHolder, iss.ByBeneficiary}, "retirement": {ret.ByHolder, ret.ByBeneficiary}} {
		if h := rows[0]; len(h) != 1 || h[0].Holder == nil || h[0].Holder.Name != "Buyer One" || h[0].RetiredKg != 300 {
			t.Errorf("%s JSON by_holder %+v, want Buyer One with 300 kg retired", name, h)
		}
		if b := rows[1]; len(b) != 1 || b[0].Beneficiary == nil || b[0].Beneficiary.Name != "Beneficiary Co" || b[0].RetiredKg != 300 {
			t.Errorf("%s JSON by_beneficiary %+v, want Beneficiary Co with 300 kg", name, b)
		}
	}
}

// Item 8: every cell of the lineage CSV that comes from the registry passes the formula guard,
// whatever the column: a child's status of "=1+2" included.
func TestLineageCSVGuardsEveryColumn(t *testing.T) {
	recs := statusRecords("ctb_1GUARDROOT000001", "ctb_1GUARDLEFT000001", "ctb_1GUARDRIGHT00001", "=1+2")
	recs[1].serial = "@SUM(A1)"
	recs[1].retirement = "-2+3"
	recs[2].owner = "+44 20 7946 0000"
	recs[2].beneficiary = "\t=cmd"
	recs[1].left = "=HYPERLINK(\"http://x\")" // a malformed link: its id is a row of its own
	a := newApp(t, appOptions{upstream: overlay(withBatches(map[string]string{}, recs...))})
	rows := csvOf(t, a, "ctb_1GUARDROOT000001")
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows[1:] {
		for i, c := range row {
			if c == "" {
				continue
			}
			if t0 := strings.TrimLeft(c, " "); strings.ContainsAny(c[:1], "\t\r\n") || strings.ContainsAny(t0[:1], "=+-@") {
				t.Errorf("column %s: %q would run as a formula", rows[0][i], c)
			}
		}
	}
}
