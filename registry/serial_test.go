package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
)

func TestParseSerialFields(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want registry.Serial
	}{
		{"ISO-1-BSTORE-GBR-F5X7-2024-78177-81177",
			registry.Serial{Registry: "ISO", Version: 1, Pathway: "BSTORE", Country: "GBR", Project: "F5X7", Vintage: 2024, First: 78177, Last: 81177}},
		// PRODUCT.md's 12,446 kg batch: the short code keeps its leading zero.
		{"ISO-1-VAULT-USA-01P4-2026-40170350-40182796",
			registry.Serial{Registry: "ISO", Version: 1, Pathway: "VAULT", Country: "USA", Project: "01P4", Vintage: 2026, First: 40170350, Last: 40182796}},
		// A one-letter pathway, an all-digit project code, a one-unit range at 0.
		{"ISO-12-D-ISL-0042-1999-0-1",
			registry.Serial{Registry: "ISO", Version: 12, Pathway: "D", Country: "ISL", Project: "0042", Vintage: 1999, First: 0, Last: 1}},
		// Units beyond 2^53 stay exact: 2^63-2 .. 2^63-1.
		{"ISO-1-DAC-ISL-K9M2-2025-9223372036854775806-9223372036854775807",
			registry.Serial{Registry: "ISO", Version: 1, Pathway: "DAC", Country: "ISL", Project: "K9M2", Vintage: 2025, First: 9223372036854775806, Last: 9223372036854775807}},
	} {
		got, err := registry.ParseSerial(tc.in)
		if err != nil {
			t.Errorf("ParseSerial(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseSerial(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
		if got.Size() != tc.want.Last-tc.want.First {
			t.Errorf("%q: Size() = %d", tc.in, got.Size())
		}
	}
	if s, _ := registry.ParseSerial("ISO-1-VAULT-USA-01P4-2026-40170350-40182796"); s.Size() != 12_446 {
		t.Errorf("PRODUCT.md's batch is 12,446 kg (half-open range), Size() = %d", s.Size())
	}
}

func TestParseSerialNormalisesPastedText(t *testing.T) {
	const canonical = "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"
	want, err := registry.ParseSerial(canonical)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"iso-1-vault-usa-01p4-2026-40170350-40182796",
		"  ISO-1-VAULT-USA-01P4-2026-40170350-40182796  ",
		"ISO-1-VAULT-USA-01P4-2026-40170350-40182796\t",
		"ISO-1-VAULT-USA-01P4-2026-40170350-40182796.",
		"ISO-1-VAULT-USA-01P4-2026-40170350-40182796.\t\r\n",
		"\u00a0ISO-1-VAULT-USA-01P4-2026-40170350-40182796\u00a0",
		"\ufeffISO-1-VAULT-USA-01P4-2026-40170350-40182796\u200b",
		`"ISO-1-VAULT-USA-01P4-2026-40170350-40182796",`,
		"ISO–1–VAULT–USA–01P4–2026–40170350–40182796", // en dashes from autocorrect
		"Iso-1-Vault-Usa-01p4-2026-0040170350-40182796",
		"ISO-1-VAULT-USA-01P4-2026-\n40170350-40182796",     // a PDF wrapped the line after a hyphen
		"ISO-1-VAULT-USA-01P4-2026-40170350 -\r\n 40182796", // or before one
		"ISO-1-VAULT-\u00adUSA-01P4-2026-40170350-4018\u200b2796",
	} {
		got, err := registry.ParseSerial(in)
		if err != nil {
			t.Errorf("ParseSerial(%q): %v", in, err)
			continue
		}
		if got != want || got.String() != canonical {
			t.Errorf("ParseSerial(%q) = %s, want %s", in, got, canonical)
		}
	}
}

func TestParseSerialRejects(t *testing.T) {
	for _, tc := range []struct {
		in, why string
	}{
		{"", "empty"},
		{" \t. ", "empty"},
		{"ISO-1-VAULT-USA-01P4-2026-40170350", "7 parts"},
		{"ISO-1-VAULT-USA-01P4-2026-40170350-40182796-1", "9 parts"},
		{"ISO-1-VAULT-USA-01P4-2026--40182796", "first unit"},
		{"ISO-1-VAULT-USA-01P4-2026-40170350-40170350", "greater than its first"}, // empty range
		{"ISO-1-VAULT-USA-01P4-2026-40182796-40170350", "greater than its first"},
		{"ISO-1-VAULT-USA-01P4-2026-1-9223372036854775808", "last unit"}, // 2^63 overflows int64
		{"ISO-1-VAULT-USA-01P4-2026-1-99999999999999999999", "last unit"},
		{"ISO-1-VAULT-USA-01P4-2026-1.5-3", "characters"},
		{"ISO-1-VAULT-USA-01P4-2026-1e3-2e3", "first unit"},
		{"ISO-1-VAULT-US-01P4-2026-1-2", "country"},
		{"ISO-1-VAULT-U5A-01P4-2026-1-2", "country"},
		{"ISO-1-VAULT-USA-01P4-26-1-2", "vintage"},
		{"ISO-1-VAULT-USA-01P4-1066-1-2", "vintage"},
		{"ISO-X-VAULT-USA-01P4-2026-1-2", "version"},
		{"I-1-VAULT-USA-01P4-2026-1-2", "registry prefix"},
		{"ISO-1--USA-01P4-2026-1-2", "pathway"},
		{"ISO-1-VAULT-USA--2026-1-2", "project code"},
		{"ISO-1-VAULT-USA-01P4X1234567890123-2026-1-2", "project code"},
		{"ISO-1-VAULT-USA-01 P4-2026-1-2", "characters"},
		{"ISO-1-VAULT-USA-01P4-2026-40 170 350-40182796", "characters"}, // thousands spaces: a guess
		{"ISO-1-VAULT-USA-01P4-2026-\n-40170350-40182796", "9 parts"},
		{"ISO-1-VAULT-USA-01P4-2026-1-2<script>", "characters"},
		{"ISO-1-VAULT-USA-ÖP4-2026-1-2", "characters"},
		{"ctb_1DRBTYA8Q1S07CBY", "characters"},
		{strings.Repeat("ISO-", 200), "characters long"},
	} {
		_, err := registry.ParseSerial(tc.in)
		if err == nil {
			t.Errorf("ParseSerial(%q) accepted it", tc.in)
			continue
		}
		if !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("ParseSerial(%q): %v does not wrap ErrInvalid", tc.in, err)
		}
		if !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), registry.ExampleSerial) {
			t.Errorf("ParseSerial(%q): error %q should say %q and show %s", tc.in, err, tc.why, registry.ExampleSerial)
		}
	}
}

func TestSerialContainsIsHalfOpen(t *testing.T) {
	p := mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2026-30646450-30652310")
	left := mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2026-30646450-30652061")
	right := mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2026-30652061-30652310")
	for _, tc := range []struct {
		a, b registry.Serial
		want bool
	}{
		{p, p, true},
		{p, left, true},
		{p, right, true},
		{left, p, false},
		{left, right, false}, // they share the boundary 30652061, which is right's first unit
		{right, mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2026-30652061-30652062"), true}, // the boundary unit belongs to right
		{left, mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2026-30652060-30652061"), true},  // left's last unit
		{left, mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2026-30652060-30652062"), false},
		{p, mustSerial(t, "ISO-1-VAULT-USA-7Q0K-2025-30646450-30652061"), false}, // another vintage
		{p, mustSerial(t, "ISO-1-VAULT-USA-01P4-2026-30646450-30652061"), false}, // another project
		{p, mustSerial(t, "ISO-2-VAULT-USA-7Q0K-2026-30646450-30652061"), false}, // another version
	} {
		if got := tc.a.Contains(tc.b); got != tc.want {
			t.Errorf("%s.Contains(%s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if left.Size()+right.Size() != p.Size() || p.Size() != 5860 {
		t.Errorf("halves %d + %d kg, parent %d kg; want 5,860 = the sum", left.Size(), right.Size(), p.Size())
	}
	if left.Overlaps(right) || !p.Overlaps(left) {
		t.Errorf("Overlaps: halves %v (want false), parent and half %v (want true)", left.Overlaps(right), p.Overlaps(left))
	}
}

// Every serial number the demo registry writes parses, and its range holds credit_kgs units,
// including the batch whose size exceeds 2^53.
func TestParseSerialOfDemoBatches(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	ids := []string{f.DeepChainRoot, f.DeepChainLeaf, f.WideRoot, f.WideLeafDeep, f.HugeRoot, f.BigKgRoot,
		f.HostileOrgBatch, f.AllFinalRoot}
	for id := range f.Planted() {
		ids = append(ids, id)
	}
	for _, id := range ids {
		b, ok := reg.Batch(id)
		if !ok {
			t.Fatalf("fixture %s is not in the dataset", id)
		}
		for _, b := range append([]registry.CreditBatch{b}, reg.Children(b)...) {
			s, err := registry.ParseSerial(b.SerialNumber)
			if err != nil {
				t.Errorf("%s: %v", b.ID, err)
				continue
			}
			if s.String() != b.SerialNumber {
				t.Errorf("%s: canonical form %s differs from the registry's %s", b.ID, s, b.SerialNumber)
			}
			if s.Size() != b.Size.CreditKgs {
				t.Errorf("%s: serial %s holds %d units, credit_kgs is %d", b.ID, s, s.Size(), b.Size.CreditKgs)
			}
		}
	}
	big, _ := reg.Batch(f.BigKgRoot)
	if s := mustSerial(t, big.SerialNumber); s.Size() <= 1<<53 {
		t.Errorf("BigKgRoot's range holds %d units, want more than 2^53", s.Size())
	}
}

func mustSerial(t testing.TB, s string) registry.Serial {
	t.Helper()
	v, err := registry.ParseSerial(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSerialText(t *testing.T) {
	s := mustSerial(t, "ISO-1-VAULT-USA-01P4-2026-40170350-40182796")
	b, err := s.MarshalText()
	if err != nil || string(b) != s.String() {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	var back registry.Serial
	if err := back.UnmarshalText([]byte(" iso-1-vault-usa-01p4-2026-40170350-40182796. ")); err != nil || back != s {
		t.Errorf("UnmarshalText = %v, %v; want %v", back, err, s)
	}
	if err := back.UnmarshalText([]byte("nope")); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("UnmarshalText of junk: %v, want ErrInvalid", err)
	}
}

func FuzzParseSerial(f *testing.F) {
	for _, s := range []string{
		registry.ExampleSerial,
		"ISO-1-VAULT-USA-01P4-2026-40170350-40182796",
		" iso-1-vault-usa-01p4-2026-40170350-40182796.\t",
		"\u00a0ISO–1–DAC–ISL–K9M2–2025–0–9223372036854775807\u00a0",
		"ISO-1-VAULT-USA-01P4-2026-40170350-40170350",
		"ISO-1-VAULT-USA-01P4-2026-1-9223372036854775808",
		"ISO-0001-A-AAA-0-1900-00-01",
		"ISO-1-VAULT-USA-01P4-2026-1-2-3",
		"ISO--------",
		"",
		"\xff\xfe",
		"ＩＳＯ－１－ＢＳＴＯＲＥ－ＧＢＲ－Ｆ５Ｘ７－２０２４－７８１７７－８１１７７",
		"\u3000ｉｓｏ－１－ｖａｕｌｔ－ｕｓａ－０１ｐ４－２０２６－４０１７０３５０－４０１８２７９６。",
		"ISO-1-BSTORE-GBR-F5X7-٢٠٢٤-78177-81177",
		"ISO-1-BSTORE-GBR-F5X7-२०२४-78177-81177",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := registry.ParseSerial(in)
		if err == nil && in != registry.FoldWidth(in) {
			// Folding is all the parser does to full-width forms.
			if folded, ferr := registry.ParseSerial(registry.FoldWidth(in)); ferr != nil || folded != v {
				t.Fatalf("ParseSerial(%q) = %v, but its ASCII form parses to %v, %v", in, v, folded, ferr)
			}
		}
		if err != nil {
			if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), registry.ExampleSerial) {
				t.Fatalf("ParseSerial(%q): error %v must wrap ErrInvalid and show an example", in, err)
			}
			return
		}
		if v.First < 0 || v.Last <= v.First || v.Size() <= 0 || v.Size() != v.Last-v.First {
			t.Fatalf("ParseSerial(%q) = %+v: not a non-empty range of non-negative units", in, v)
		}
		s := v.String()
		again, err := registry.ParseSerial(s)
		if err != nil || again != v || again.String() != s {
			t.Fatalf("ParseSerial(%q) = %+v, but its String %q re-parses to %+v, %v", in, v, s, again, err)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c == '-' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
				t.Fatalf("canonical form %q has %q", s, c)
			}
		}
		// Nor what a full-width input method does to it.
		if wide, err := registry.ParseSerial(demo.FullWidth(s)); err != nil || wide != v {
			t.Fatalf("the full-width form of %q parses to %+v, %v", s, wide, err)
		}
		// What a spreadsheet does to it must not change it.
		if pasted, err := registry.ParseSerial("\u00a0" + strings.ToLower(s) + ".\t"); err != nil || pasted != v {
			t.Fatalf("the pasted form of %q parses to %+v, %v", s, pasted, err)
		}
		if !v.Contains(v) || !v.Overlaps(v) {
			t.Fatalf("%s does not contain itself", s)
		}
	})
}
