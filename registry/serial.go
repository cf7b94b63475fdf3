package registry

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ExampleSerial is a well-formed serial number (the registry documentation's own), for messages
// that show what a valid one looks like.
const ExampleSerial = "ISO-1-BSTORE-GBR-F5X7-2024-78177-81177"

// maxSerialLen bounds the serial number itself (after normalising): the longest the field
// limits below allow is under 110 characters. Input longer than maxSerialInput is rejected
// before any work, so that a pasted page costs no more than a glance.
const (
	maxSerialLen   = 128
	maxSerialInput = 512
)

// Serial is a credit batch serial number, e.g. ISO-1-BSTORE-GBR-F5X7-2024-78177-81177: registry
// prefix, version, pathway code, country, project short code, vintage year, then the two ends of
// the batch's unit range. The range is half-open, [First, Last): the batch holds Last − First
// units of 1 kg, and the two halves of a split share their boundary. Letters are kept in upper
// case. The zero Serial is not a valid serial number. Serial is comparable: two serial numbers
// are the same batch range when they are ==.
type Serial struct {
	Registry string // registry prefix, 2–12 letters, e.g. "ISO"
	Version  int    // serial format version, 0–9999, e.g. 1
	Pathway  string // pathway code, 1–20 letters or digits, e.g. "BSTORE", "DAC"
	Country  string // ISO 3166-1 alpha-3 country code, e.g. "GBR"
	Project  string // the project's short_code, 1–16 letters or digits, kept as text: "01P4"
	Vintage  int    // vintage year, 1900–2999
	First    int64  // first unit of the range (≥ 0)
	Last     int64  // end of the range, exclusive (> First)
}

// ParseSerial parses a serial number as the registry writes it in serial_number, tolerating
// what spreadsheets, input methods and copy-paste do to it: full-width forms (FoldWidth), lower case, surrounding spaces, tabs, line breaks,
// non-breaking or zero-width spaces, quotes, a trailing dot, comma or semicolon, typographic
// dashes in place of hyphens, white space beside a hyphen (a line wrapped there), and
// invisible characters (zero-width spaces, soft hyphens) anywhere. Inside, it is strict: exactly eight parts separated by hyphens,
// each of the shape the Serial fields give, and Last > First (a half-open range holds at least
// one unit). Units are parsed as int64 with overflow checks, never through a float.
//
// It never contacts the upstream. Errors wrap ErrInvalid, say which part is wrong and show
// ExampleSerial.
func ParseSerial(s string) (Serial, error) {
	if len(s) > maxSerialInput {
		return Serial{}, serialError(s, fmt.Sprintf("it is %d characters long", utf8.RuneCountInString(s)))
	}
	norm, bad, ok := normaliseSerial(s)
	if !ok {
		if d := OtherDigits(s); d != "" {
			return Serial{}, serialError(s, "it has "+d+"; a serial number is written with the digits 0–9")
		}
		return Serial{}, serialError(s, badCharacter(bad))
	}
	if norm == "" {
		return Serial{}, serialError(s, "it is empty")
	}
	if len(norm) > maxSerialLen {
		return Serial{}, serialError(s, fmt.Sprintf("it is %d characters long", len(norm)))
	}
	parts := strings.Split(norm, "-")
	if len(parts) != 8 {
		return Serial{}, serialError(s, fmt.Sprintf("it has %d %s separated by hyphens, not 8", len(parts), map[bool]string{true: "part", false: "parts"}[len(parts) == 1]))
	}
	var v Serial
	var err string
	switch {
	case !isLetters(parts[0], 2, 12):
		err = "the registry prefix (part 1) must be 2 to 12 letters"
	case !isDigits(parts[1], 1, 4):
		err = "the version (part 2) must be 1 to 4 digits"
	case !isAlnum(parts[2], 1, 20):
		err = "the pathway code (part 3) must be 1 to 20 letters or digits"
	case !isLetters(parts[3], 3, 3):
		err = "the country (part 4) must be a three-letter ISO 3166-1 code"
	case !isAlnum(parts[4], 1, 16):
		err = "the project code (part 5) must be 1 to 16 letters or digits"
	case !isDigits(parts[5], 4, 4) || parts[5] < "1900" || parts[5] > "2999":
		err = "the vintage (part 6) must be a year from 1900 to 2999"
	}
	if err != "" {
		return Serial{}, serialError(s, err)
	}
	v.Registry, v.Pathway, v.Country, v.Project = parts[0], parts[2], parts[3], parts[4]
	v.Version, _ = strconv.Atoi(parts[1]) // at most 4 digits: cannot fail
	v.Vintage, _ = strconv.Atoi(parts[5])
	var ok1, ok2 bool
	v.First, ok1 = parseUnit(parts[6])
	v.Last, ok2 = parseUnit(parts[7])
	switch {
	case !ok1:
		return Serial{}, serialError(s, "the first unit (part 7) must be a whole number below 2^63")
	case !ok2:
		return Serial{}, serialError(s, "the last unit (part 8) must be a whole number below 2^63")
	case v.Last <= v.First:
		return Serial{}, serialError(s, "its last unit must be greater than its first (the range is half-open: it holds last − first units)")
	}
	return v, nil
}

func serialError(s, why string) error {
	return &SerialError{Input: TruncateForError(s), Why: why}
}

// SerialError is ParseSerial's error: which part of the input is wrong, in words a page can
// show ("its last unit must be greater than its first"). It wraps ErrInvalid.
type SerialError struct {
	Input string // the input, cut to a length fit for a message
	Why   string // what is wrong with it
}

func (e *SerialError) Error() string {
	return fmt.Sprintf("%v: %q is not a serial number: %s; a serial number has eight parts (registry, version, pathway, country, project code, vintage, first unit, last unit), like %s",
		ErrInvalid, e.Input, e.Why, ExampleSerial)
}

// Unwrap gives ErrInvalid.
func (e *SerialError) Unwrap() error { return ErrInvalid }

// String is the canonical form, as the registry writes it: upper case, units in decimal without
// leading zeros. ParseSerial(v.String()) == v for every v ParseSerial returns.
func (v Serial) String() string {
	return v.Registry + "-" + strconv.Itoa(v.Version) + "-" + v.Pathway + "-" + v.Country + "-" + v.Project +
		"-" + strconv.Itoa(v.Vintage) + "-" + strconv.FormatInt(v.First, 10) + "-" + strconv.FormatInt(v.Last, 10)
}

// Size is the number of units (kg) in the range: Last − First, never Last − First + 1.
func (v Serial) Size() int64 { return v.Last - v.First }

// Contains reports whether every unit of o lies in v: the same registry, version, pathway,
// country, project and vintage, and v.First ≤ o.First and o.Last ≤ v.Last. A serial contains
// itself; a range that starts on a split's boundary lies in the half that starts there.
func (v Serial) Contains(o Serial) bool {
	return v.SameBlock(o) && v.First <= o.First && o.Last <= v.Last
}

// Overlaps reports whether v and o share at least one unit (and the same registry, version,
// pathway, country, project and vintage).
func (v Serial) Overlaps(o Serial) bool {
	return v.SameBlock(o) && v.First < o.Last && o.First < v.Last
}

// SameBlock reports whether v and o differ at most in their unit range (registry, version,
// pathway, country, project and vintage all equal), so that their ranges count the same units.
func (v Serial) SameBlock(o Serial) bool {
	return v.Registry == o.Registry && v.Version == o.Version && v.Pathway == o.Pathway &&
		v.Country == o.Country && v.Project == o.Project && v.Vintage == o.Vintage
}

// MarshalText writes the canonical form, so that JSON for tools carries the serial as a string.
func (v Serial) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses with ParseSerial; errors wrap ErrInvalid.
func (v *Serial) UnmarshalText(b []byte) error {
	p, err := ParseSerial(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// normaliseSerial undoes what spreadsheets, input methods and copy-paste do: it folds
// full-width forms to ASCII, trims spaces of every kind,
// quotes and trailing punctuation from both ends, turns typographic dashes into hyphens and
// lower case into upper case. ok is false when anything but ASCII letters, digits and hyphens
// is left; bad is then the first such character (' ' for white space inside a part).
func normaliseSerial(s string) (norm string, bad rune, ok bool) {
	s = strings.TrimFunc(FoldWidth(s), isSerialJunk)
	b := make([]byte, 0, len(s))
	space := false // white space since the last character kept
	for _, r := range s {
		var c byte
		switch {
		case '0' <= r && r <= '9' || 'A' <= r && r <= 'Z':
			c = byte(r)
		case 'a' <= r && r <= 'z':
			c = byte(r - 'a' + 'A')
		case IsSerialHyphen(r):
			c = '-'
		case IsInvisible(r):
			continue // break opportunities a web page or a PDF put in; nobody typed them
		case unicode.IsSpace(r):
			space = true
			continue
		default:
			return "", r, false
		}
		// A line wrapped at a hyphen (in a PDF, an e-mail, a narrow cell) leaves white space
		// beside it: drop that. Anywhere else, as in "01 P4" or "40 170 350", which characters
		// belong together is a guess, so the input is refused.
		if space && c != '-' && (len(b) == 0 || b[len(b)-1] != '-') {
			return "", ' ', false
		}
		space = false
		b = append(b, c)
	}
	return string(b), 0, true
}

// badCharacter says which character made a serial number unreadable, by name where a person
// would not see it for what it is (a slash from a link's %2F, a space inside a part).
func badCharacter(r rune) string {
	const other = "it contains characters other than letters, digits and hyphens: "
	switch {
	case r == '/':
		return other + "a slash (“/”) between its parts"
	case r == ' ':
		return other + "white space inside a part"
	case unicode.IsPrint(r):
		return fmt.Sprintf("%s“%c”", other, r)
	}
	return fmt.Sprintf("%sthe invisible character U+%04X", other, r)
}

// IsSerialHyphen reports the characters ParseSerial reads as the hyphen between a serial's
// parts: '-' itself and the hyphen, non-breaking hyphen, figure dash, en dash, minus sign,
// small and full-width hyphen-minus that autocorrect and some fonts put in its place.
func IsSerialHyphen(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2212', '\uFE63', '\uFF0D':
		return true
	}
	return false
}

// IsInvisible reports the characters that render as nothing and that ParseSerial ignores
// wherever they are: zero-width spaces, the word joiner, the byte-order mark and the soft
// hyphen (break opportunities a web page or a PDF put in; nobody typed them).
func IsInvisible(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return false
}

// isSerialJunk is what may surround a serial number in a pasted cell: white space of any kind
// (tab, line breaks, non-breaking space), zero-width characters, quotes and the punctuation
// that ends a sentence or a CSV field.
func isSerialJunk(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	if IsInvisible(r) {
		return true
	}
	switch r {
	case '"', '\'', '`', '\u2018', '\u2019', '\u201C', '\u201D', // quotes
		'.', ',', ';':
		return true
	}
	return false
}

func isLetters(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isDigits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('A' <= s[i] && s[i] <= 'Z' || '0' <= s[i] && s[i] <= '9') {
			return false
		}
	}
	return true
}

// parseUnit reads a unit number: 1 to 19 decimal digits (leading zeros allowed) that fit int64.
func parseUnit(s string) (int64, bool) {
	if !isDigits(s, 1, 19) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
