package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/views"
)

const (
	idA = "ctb_1DRBTYA8Q1S07CBY"
	idB = "ctb_1H0G39139CF0DZB2"
)

func TestParseQuery(t *testing.T) {
	b := func(id string) target { return target{targetBatch, id} }
	for _, tc := range []struct {
		name, q string
		want    []target
	}{
		{"id", idA, []target{b(idA)}},
		{"spaces around", "  \t" + idA + " \n", []target{b(idA)}},
		{"zero-width and no-break spaces", "\u200b\u00a0" + idA + "\ufeff", []target{b(idA)}},
		{"upper-case prefix", "CTB_1DRBTYA8Q1S07CBY", []target{b(idA)}},
		{"all lower case", "ctb_1drbtya8q1s07cby", []target{b(idA)}},
		{"mixed case kept as typed", "ctb_1DrbTYA8Q1S07CBY", []target{b("ctb_1DrbTYA8Q1S07CBY")}},
		{"quoted", `"` + idA + `".`, []target{b(idA)}},
		{"serial", "ISO-1-VAULT-USA-01P4-2026-40170350-40182796", []target{{targetSerial, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"}}},
		{"serial in lower case", "iso-1-vault-usa-01p4-2026-40170350-40182796", []target{{targetSerial, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"}}},
		{"serial wrapped after a hyphen", "ISO-1-VAULT-USA-01P4-2026-40170350-\n40182796", []target{{targetSerial, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"}}},
		{"serial with spaces around a dash", "ISO-1-VAULT-USA-01P4-2026-40170350 \u2013 40182796", []target{{targetSerial, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"}}},
		{"serial with invisible breaks", "ISO-1-VAULT-\u200bUSA-01P4-2026-4017\u00ad0350-\u00a040182796", []target{{targetSerial, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"}}},
		{"serial then an id", "ISO-1-VAULT-USA-01P4-2026-40170350-40182796\n" + idA, []target{{targetSerial, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"}, b(idA)}},
		{"API URL", isometric.ProductionURL + "/credit_batches/" + idA, []target{b(idA)}},
		{"our own URL with a row anchor", "http://explorer.internal:8080/batches/" + idA + "#n-" + idB, []target{b(idA)}},
		{"route in the fragment", "https://registry.example/#/credit-batches/" + idB, []target{b(idB)}},
		{"URL without scheme", "registry.isometric.com/credit-batch/" + idA, []target{b(idA)}},
		{"id in a query parameter", "https://example.org/view?batch=" + idA, []target{b(idA)}},
		{"our own link with its serial", "http://explorer.internal/batches/" + idA + "?serial=ISO-1-VAULT-USA-01P4-2026-40170350-40182796", []target{b(idA)}},
		{"issuance", "iss_1EWT8R5FY1S0GFCY", []target{{targetIssuance, "iss_1EWT8R5FY1S0GFCY"}}},
		{"retirement URL", "https://registry.example/retirements/ret_1FYBH4QDT1S0SVKF", []target{{targetRetirement, "ret_1FYBH4QDT1S0SVKF"}}},
		{"two ids in text", "split of " + idA + ", see " + idB, []target{b(idA), b(idB)}},
		{"repeats count once", idA + " " + idA, []target{b(idA)}},
		{"too short an id", "ctb_123", nil},
		{"other kind of id", "spl_1GB56M1ST1S0GVNA", nil},
		{"project", "prj_1CTWZQGKE1S0VAXA", []target{{targetProject, "prj_1CTWZQGKE1S0VAXA"}}},
		{"organisation", "org_1GB56M1ST1S0GVNA", []target{{targetOrganisation, "org_1GB56M1ST1S0GVNA"}}},
		{"markup", "<script>alert(1)</script>", nil},
		{"empty", "", nil},
		{"words", "where did my credits go", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseQuery(tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("parseQuery(%q) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestDecideSearch(t *testing.T) {
	for _, tc := range []struct {
		name, q      string
		wantRedirect string
		wantStatus   int
		wantOutcome  views.SearchOutcome
	}{
		{"batch id", idA, "/batches/" + idA, 0, 0},
		{"serial", "ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", "/serial/ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", 0, 0},
		{"empty", "", "", http.StatusBadRequest, views.SearchEmpty},
		{"nothing recognisable", "hello", "", http.StatusBadRequest, views.SearchUnrecognised},
		{"several", idA + " " + idB, "", http.StatusOK, views.SearchSeveral},
		{"serial pasted from a spreadsheet", "\"iso-1-bstore-gbr-f5x7-2024-78177-81177.\"\t", "/serial/ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", 0, 0},
		{"issuance", "iss_1EWT8R5FY1S0GFCY", "/issuances/iss_1EWT8R5FY1S0GFCY", 0, 0},
		{"retirement link", "https://registry.example/retirements/ret_1FYBH4QDT1S0SVKF", "/retirements/ret_1FYBH4QDT1S0SVKF", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := decideSearch(tc.q)
			if a.redirect != tc.wantRedirect {
				t.Fatalf("redirect = %q, want %q", a.redirect, tc.wantRedirect)
			}
			if tc.wantRedirect == "" && (a.status != tc.wantStatus || a.outcome != tc.wantOutcome) {
				t.Errorf("status %d outcome %d, want %d %d", a.status, a.outcome, tc.wantStatus, tc.wantOutcome)
			}
		})
	}
}

func TestSearchRoute(t *testing.T) {
	a := newApp(t, appOptions{})
	r := a.get(t, "/search?q="+url.QueryEscape("  "+a.fx.WideRoot+"  "))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/batches/"+a.fx.WideRoot {
		t.Errorf("search by id = %d to %q", r.status, r.header.Get("Location"))
	}
	hostile := `<img src=x onerror=alert(1)>`
	doc, resp := a.page(t, "/search?q="+url.QueryEscape(hostile), http.StatusBadRequest)
	if strings.Contains(resp.body, hostile) {
		t.Error("the query reached the page unescaped")
	}
	if got := doc.Find("input[name=q]").AttrOr("value", ""); got != hostile {
		t.Errorf("search box keeps %q, want the query", got)
	}
	doc, _ = a.page(t, "/search?q="+url.QueryEscape(idA+" "+idB), http.StatusOK)
	if doc.Find("ul.choices a[href='/batches/"+idA+"']").Length() != 1 || doc.Find("ul.choices a[href='/batches/"+idB+"']").Length() != 1 {
		t.Errorf("choices: %s", text(doc.Find("ul.choices")))
	}
	if a.reg.Requests() != 0 {
		t.Error("searching asked the registry")
	}
}

// FuzzParseQuery checks what must hold for any input: no panic, every target well formed and
// canonical, and the page it leads to a local path that names it.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{idA, "ISO-1-BSTORE-GBR-F5X7-2024-78177-81177", isometric.ProductionURL + "/credit_batches/" + idA,
		"https://x/?a=iss_1EWT8R5FY1S0GFCY#ret_1FYBH4QDT1S0SVKF", "ctb_", "\u200b", "%zz://", "a/b?c#d", idA + "," + idB,
		"ｃｔｂ＿１ＤＲＢＴＹＡ８Ｑ１Ｓ０７ＣＢＹ", "ＩＳＯ－１－ＢＳＴＯＲＥ－ＧＢＲ－Ｆ５Ｘ７－２０２４－７８１７７－８１１７７", "ISO-1-BSTORE-GBR-F5X7-٢٠٢٤-78177-81177"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		targets := parseQuery(q)
		seen := map[target]bool{}
		for _, tg := range targets {
			if seen[tg] {
				t.Fatalf("%q: %v listed twice", q, tg)
			}
			seen[tg] = true
			switch tg.kind {
			case targetBatch:
				if registry.ValidateID(registry.PrefixCreditBatch, tg.value) != nil {
					t.Fatalf("%q: batch target %q is not a valid id", q, tg.value)
				}
			case targetIssuance:
				if registry.ValidateID(registry.PrefixIssuance, tg.value) != nil {
					t.Fatalf("%q: issuance target %q is not a valid id", q, tg.value)
				}
			case targetRetirement:
				if registry.ValidateID(registry.PrefixRetirement, tg.value) != nil {
					t.Fatalf("%q: retirement target %q is not a valid id", q, tg.value)
				}
			case targetSerial:
				if s, err := registry.ParseSerial(tg.value); err != nil || s.String() != tg.value {
					t.Fatalf("%q: serial target %q is not canonical", q, tg.value)
				}
			default:
				t.Fatalf("%q: unknown kind %v", q, tg.kind)
			}
			// Canonical values parse back to themselves, typed in full-width forms too.
			if again := parseQuery(tg.value); len(again) != 1 || again[0] != tg {
				t.Fatalf("%q: %v parses back as %v", q, tg, again)
			}
			if again := parseQuery(demo.FullWidth(tg.value)); len(again) != 1 || again[0] != tg {
				t.Fatalf("%q: %v typed in full-width forms parses as %v", q, tg, again)
			}
		}
		a := decideSearch(trimQuery(q))
		if a.redirect != "" {
			if !strings.HasPrefix(a.redirect, "/") || strings.HasPrefix(a.redirect, "//") || strings.ContainsAny(a.redirect, "\\\r\n") {
				t.Fatalf("%q: redirect %q is not a local path", q, a.redirect)
			}
			if len(targets) != 1 {
				t.Fatalf("%q: redirect with %d targets", q, len(targets))
			}
		} else if a.status == 0 {
			t.Fatalf("%q: neither a redirect nor a status", q)
		}
		if !utf8.ValidString(trimQuery(q)) && utf8.ValidString(q) {
			t.Fatalf("%q: trimming made the query invalid UTF-8", q)
		}
	})
}

// TestSearchHeadingEchoesALongQueryShort: a pasted essay is echoed in the heading cut to about
// 120 characters with an ellipsis, on one line of text (pasted tabs and newlines become
// spaces), while the search box keeps the query as today, to be edited.
func TestSearchHeadingEchoesALongQueryShort(t *testing.T) {
	a := newApp(t, appOptions{})
	junk := strings.Repeat("lorem\tipsum\n<i>dolor</i> ", 10_000/25+1)[:10_000]
	doc, _ := a.page(t, "/search?q="+url.QueryEscape(junk), http.StatusBadRequest)
	h1 := text(doc.Find("h1"))
	echo, ok := strings.CutPrefix(h1, "Nothing to look up in “")
	if !ok || !strings.HasSuffix(echo, "…”") {
		t.Fatalf("heading %q does not echo the query cut short", head(h1, 200))
	}
	echo = strings.TrimSuffix(echo, "…”")
	if n := utf8.RuneCountInString(echo); n > 120 || n < 100 {
		t.Errorf("heading echoes %d characters of the query, want about 120", n)
	}
	if want := strings.Join(strings.Fields(junk), " "); !strings.HasPrefix(want, echo) {
		t.Errorf("heading echoes %q, not the start of the query", echo)
	}
	if doc.Find("h1 i").Length() != 0 || strings.ContainsRune(h1, '\uFFFD') {
		t.Errorf("heading %q: markup or replacement marks", head(h1, 200))
	}
	if got, want := doc.Find("input[name=q]").AttrOr("value", ""), trimQuery(junk); got != want || len(got) < 4000 {
		t.Errorf("search box keeps %d characters, want the %d it kept before", len(got), len(want))
	}

	// A short query is echoed whole.
	doc, _ = a.page(t, "/search?q="+url.QueryEscape("where did my credits go"), http.StatusBadRequest)
	if got := text(doc.Find("h1")); got != "Nothing to look up in “where did my credits go”" {
		t.Errorf("heading %q", got)
	}
}
