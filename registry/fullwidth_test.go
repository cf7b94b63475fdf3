package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
)

// Issue 14, point 10: a serial or an id typed with a CJK input method in full-width mode is the
// same serial or id; digits of other scripts are refused with a message that names them.

func TestFullWidthSerialsAndIDsAreFolded(t *testing.T) {
	want, err := registry.ParseSerial(registry.ExampleSerial)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		demo.FullWidth(registry.ExampleSerial),
		"\u3000" + demo.FullWidth(strings.ToLower(registry.ExampleSerial)) + "\u3000",
		"ＩＳＯ－１－ＢＳＴＯＲＥ－ＧＢＲ－Ｆ５Ｘ７－２０２４－７８１７７－８１１７７",
		"ISO-1-BSTORE-GBR-Ｆ５Ｘ７-2024-78177-81177", // half typed in each mode
	} {
		got, err := registry.ParseSerial(in)
		if err != nil || got != want {
			t.Errorf("ParseSerial(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	id := registry.ExampleID(registry.PrefixCreditBatch)
	if got := registry.FoldWidth(demo.FullWidth(id)); got != id {
		t.Errorf("FoldWidth(%q) = %q", demo.FullWidth(id), got)
	}
	if got := registry.FoldWidth("Ａ\u3000ｚ～！é漢"); got != "A z~!é漢" {
		t.Errorf("FoldWidth folds only full-width ASCII and the ideographic space: %q", got)
	}
}

func TestOtherScriptsDigitsAreNamed(t *testing.T) {
	for in, name := range map[string]string{
		"ISO-1-BSTORE-GBR-F5X7-٢٠٢٤-78177-81177":          "Arabic-Indic digits",
		"ISO-1-BSTORE-GBR-F5X7-2024-۷۸۱۷۷-81177":          "Extended Arabic-Indic",
		"ISO-1-BSTORE-GBR-F5X7-२०२४-78177-81177":          "Devanagari digits",
		"ISO-1-BSTORE-GBR-F5X7-2024-78177-๘๑๑๗๗":          "Thai digits",
		"ISO-1-BSTORE-GBR-F5X7-2024-78177-8117\U0001D7D5": "non-ASCII",
	} {
		_, err := registry.ParseSerial(in)
		if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "0–9") {
			t.Errorf("ParseSerial(%q): %v; want a message naming %s", in, err, name)
		}
	}
	err := registry.ValidateID(registry.PrefixCreditBatch, "ctb_١DRBTYA8Q1S07CBY")
	if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "Arabic-Indic digits") {
		t.Errorf("ValidateID with Arabic-Indic digits: %v", err)
	}
}
