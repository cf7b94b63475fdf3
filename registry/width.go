package registry

import (
	"fmt"
	"strings"
	"unicode"
)

// FoldWidth turns the full-width forms of ASCII (U+FF01–U+FF5E, what a CJK input method types
// in full-width mode: "ＩＳＯ－１", "ｃｔｂ＿…") into ASCII and the ideographic space (U+3000)
// into a space, leaving everything else as it is. Ids, serial numbers and search queries are
// folded before they are parsed: the characters are the same to the person who typed them.
func FoldWidth(s string) string {
	i := strings.IndexFunc(s, isWide)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			b.WriteRune(r - 0xFF01 + '!')
		case r == 0x3000:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isWide(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 }

// digitSystems names the decimal digits of other scripts by their first code point (zero),
// as people call them; a run of ten from there.
var digitSystems = []struct {
	zero rune
	name string
}{
	{0x0660, "Arabic-Indic"}, {0x06F0, "Extended Arabic-Indic (Persian, Urdu)"}, {0x07C0, "NKo"},
	{0x0966, "Devanagari"}, {0x09E6, "Bengali"}, {0x0A66, "Gurmukhi"}, {0x0AE6, "Gujarati"},
	{0x0B66, "Odia"}, {0x0BE6, "Tamil"}, {0x0C66, "Telugu"}, {0x0CE6, "Kannada"},
	{0x0D66, "Malayalam"}, {0x0DE6, "Sinhala"}, {0x0E50, "Thai"}, {0x0ED0, "Lao"},
	{0x0F20, "Tibetan"}, {0x1040, "Myanmar"}, {0x17E0, "Khmer"}, {0x1810, "Mongolian"},
}

// OtherDigits names the digits of other scripts than ASCII in s ("Arabic-Indic digits (٣)"),
// or "" when it has none. Such digits are not read as 0–9: which number was meant is a guess
// the explorer does not make, so the message says what was typed instead.
func OtherDigits(s string) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range s {
		if r < 0x80 || !unicode.IsDigit(r) {
			continue
		}
		name := digitName(r)
		if !seen[name] {
			seen[name] = true
			names = append(names, fmt.Sprintf("%s digits (%c)", name, r))
		}
	}
	return strings.Join(names, " and ")
}

func digitName(r rune) string {
	for _, d := range digitSystems {
		if r >= d.zero && r <= d.zero+9 {
			return d.name
		}
	}
	for name, table := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
			return name
		}
	}
	return fmt.Sprintf("non-ASCII (U+%04X)", r)
}
