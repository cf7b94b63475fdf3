package claims

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	serialA = "ISO-1-BSTORE-GBR-F5X7-2024-78177-81177"
	batchA  = "ctb_1DRBTYA8Q1S07CBY"
	retA    = "ret_1DRBTYA8Q1S07CBY"
)

func TestParse(t *testing.T) {
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	type want struct {
		kind        Kind
		id          string
		kg          int64
		hasKg       bool
		beneficiary string
		date        time.Time
		malformed   string // a part of the first Malformed entry; "" for none
	}
	cases := []struct {
		name   string
		in     string
		header bool
		sep    string
		want   []want
	}{
		{"bare identifiers, one a line", serialA + "\n" + batchA + "\r\n\n" + retA + "\n", false, ",",
			[]want{{kind: KindSerial, id: serialA}, {kind: KindBatch, id: batchA}, {kind: KindRetirement, id: retA}}},
		{"tab-separated paste without header", serialA + "\t12446\t2025-03-14\n", false, "\t",
			[]want{{kind: KindSerial, id: serialA, kg: 12446, hasKg: true, date: day}}},
		{"comma CSV with header, CRLF and BOM", "\uFEFFSerial Number,kg,Beneficiary,retired_at,Reference\r\n" + serialA + ",3000,\"Acme, Inc.\",2025-03-14,PO-7\r\n", true, ",",
			[]want{{kind: KindSerial, id: serialA, kg: 3000, hasKg: true, beneficiary: "Acme, Inc.", date: day}}},
		{"semicolon CSV with decimal-comma credits", "serial;credits;beneficiary\n" + serialA + ";0,5;Acme\n", true, ";",
			[]want{{kind: KindSerial, id: serialA, kg: 500, hasKg: true, beneficiary: "Acme"}}},
		{"ids under the batch header, lower case restored", "id;tonnes\n" + strings.ToLower(batchA) + ";12.446\n" + retA + ";1\n", true, ";",
			[]want{{kind: KindBatch, id: batchA, kg: 12446, hasKg: true}, {kind: KindRetirement, id: retA, kg: 1000, hasKg: true}}},
		{"a registry URL", "https://registry.example/credit_batches/" + batchA + "\n", false, ",",
			[]want{{kind: KindBatch, id: batchA}}},
		{"kg past 2^53 read exactly", "serial,kg\n" + serialA + ",9007199254740993\n", true, ",",
			[]want{{kind: KindSerial, id: serialA, kg: 9007199254740993, hasKg: true}}},
		{"a serial with seven parts says which", "ISO-1-BSTORE-GBR-F5X7-2024-78177\n", false, ",",
			[]want{{malformed: "not 8"}}},
		{"a range ending before it starts", "serial\nISO-1-BSTORE-GBR-F5X7-2024-81177-78177\n", true, ",",
			[]want{{malformed: "last unit must be greater"}}},
		{"an id too short", "batch\nctb_123\n", true, ",", []want{{malformed: "not a valid ctb id"}}},
		{"formula-like cell is text, not an identifier", "=HYPERLINK(\"http://evil\",\"x\")\n", false, ",",
			[]want{{malformed: "no serial number"}}},
		{"quoted comma inside the beneficiary", "serial,beneficiary\n\"" + serialA + "\",\"Doe, Jane \"\"JD\"\"\"\n", true, ",",
			[]want{{kind: KindSerial, id: serialA, beneficiary: "Doe, Jane \"JD\""}}},
		{"bad kg and bad date", "serial,kg,date\n" + serialA + ",12.5,14/03/2025\n", true, ",",
			[]want{{kind: KindSerial, id: serialA, malformed: "not a whole number of kg"}}},
		{"sub-kg credits refused", "serial,credits\n" + serialA + ",0.0005\n", true, ",",
			[]want{{kind: KindSerial, id: serialA, malformed: "at most three decimals"}}},
		{"an issuance is not a claim", "iss_1DRBTYA8Q1S07CBY\n", false, ",", []want{{malformed: "is an issuance"}}},
		{"right-to-left beneficiary kept as given", "serial\tbeneficiary\n" + serialA + "\tשלום עולם\n", true, "\t",
			[]want{{kind: KindSerial, id: serialA, beneficiary: "שלום עולם"}}},
		{"without a header the identifier is found by its shape in any column", "PO-9;" + batchA + ";Acme\n", false, ";",
			[]want{{kind: KindBatch, id: batchA}}},
		{"semicolon CSV with a quoted semicolon", "serial;beneficiary\r\n" + serialA + ";\"Acme; Sons\"\r\n", true, ";",
			[]want{{kind: KindSerial, id: serialA, beneficiary: "Acme; Sons"}}},
		{"formula-like reference cell under a header is kept as text", "serial,reference\n" + serialA + ",=1+2\n" + serialA + ",@SUM(A1)\n", true, ",",
			[]want{{kind: KindSerial, id: serialA}, {kind: KindSerial, id: serialA}}},
		{"empty list", "", false, ",", nil},
		{"only blank lines", "\r\n \n\t\n", false, ",", nil},
		{"a comma CSV with a tab in one cell stays a comma CSV", "serial,reference\n" + serialA + ",\"a\tb\"\n", true, ",",
			[]want{{kind: KindSerial, id: serialA}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse(strings.NewReader(tc.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if (l.Header != nil) != tc.header {
				t.Errorf("header %q, want one: %v", l.Header, tc.header)
			}
			if l.Sep != tc.sep {
				t.Errorf("separator %q, want %q", l.Sep, tc.sep)
			}
			if len(l.Claims) != len(tc.want) {
				t.Fatalf("%d claims, want %d: %+v", len(l.Claims), len(tc.want), l.Claims)
			}
			for i, w := range tc.want {
				c := l.Claims[i]
				if c.Row != i+1 {
					t.Errorf("claim %d: row %d", i, c.Row)
				}
				if c.Kind != w.kind || c.ID != w.id || c.Kg != w.kg || c.HasKg != w.hasKg || c.Beneficiary != w.beneficiary || !c.Date.Equal(w.date) {
					t.Errorf("claim %d = %+v, want %+v", i, c, w)
				}
				switch {
				case w.malformed == "" && len(c.Malformed) > 0:
					t.Errorf("claim %d: unexpected malformed %q", i, c.Malformed)
				case w.malformed != "" && (len(c.Malformed) == 0 || !strings.Contains(c.Malformed[0], w.malformed)):
					t.Errorf("claim %d: malformed %q, want it to say %q", i, c.Malformed, w.malformed)
				}
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("serial\n")
	for i := range 5001 {
		fmt.Fprintf(&b, "ISO-1-BSTORE-GBR-F5X7-2024-%d-%d\n", i*10, i*10+10)
	}
	_, err := Parse(strings.NewReader(b.String()), Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "5,000 rows") {
		t.Errorf("5,001 rows: %v, want ErrTooLarge naming 5,000 rows", err)
	}
	l, err := Parse(strings.NewReader(strings.TrimSuffix(b.String(), fmt.Sprintf("ISO-1-BSTORE-GBR-F5X7-2024-%d-%d\n", 50000, 50010))), Limits{})
	if err != nil || len(l.Claims) != 5000 {
		t.Errorf("5,000 rows: %v", err)
	}
	_, err = Parse(strings.NewReader(strings.Repeat(serialA+"\n", 100)), Limits{MaxBytes: 1024})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1,024 bytes") {
		t.Errorf("over 1 KiB: %v, want ErrTooLarge naming 1,024 bytes", err)
	}
	zip := "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb2\xa1"
	if _, err := Parse(strings.NewReader(zip), Limits{}); !errors.Is(err, ErrNotText) {
		t.Errorf("a zip posing as CSV: %v, want ErrNotText", err)
	}
	// Excel's "Unicode text" is UTF-16 with a BOM: not read as garbage rows.
	utf16 := "\xff\xfes\x00e\x00r\x00i\x00a\x00l\x00\r\x00\n\x00"
	if _, err := Parse(strings.NewReader(utf16), Limits{}); !errors.Is(err, ErrNotText) {
		t.Errorf("a UTF-16 file: %v, want ErrNotText", err)
	}
}

func TestCreditsToKg(t *testing.T) {
	for in, want := range map[string]int64{"12.446": 12446, "0,5": 500, "3": 3000, ".25": 250, "9223372036854775": 9223372036854775000} {
		if got, ok := CreditsToKg(in); !ok || got != want {
			t.Errorf("CreditsToKg(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ".", "1.2345", "-1", "1e3", "9223372036854776", "1.2.3", "١٢"} {
		if got, ok := CreditsToKg(in); ok {
			t.Errorf("CreditsToKg(%q) = %d, want refused", in, got)
		}
	}
}

// FuzzParse: whatever the bytes, the parser answers a list or a sentinel error, and every row
// of a list has an identifier or says why not.
func FuzzParse(f *testing.F) {
	for _, s := range []string{serialA, "serial;kg\n" + serialA + ";12", "\uFEFF\"a,b\",c\r\n", "\x00\x01", "id\n" + batchA, "=1+2\t-3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(strings.NewReader(string(data)), Limits{MaxRows: 50, MaxBytes: 4096})
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNotText) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, c := range l.Claims {
			if (c.Kind == KindNone) == (len(c.Malformed) == 0) && c.Kind == KindNone {
				t.Fatalf("row %d has no identifier and no reason: %+v", c.Row, c)
			}
			for _, cell := range c.Cells {
				if !utf8.ValidString(cell) {
					t.Fatalf("row %d has invalid UTF-8", c.Row)
				}
			}
		}
	})
}
