package claims

// Reading the values of a claim's cells: kg and credits exactly (never through float64), dates
// as the calendar day written.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

func isWholeNumber(v string) bool {
	v = stripGrouping(v)
	if v == "" || len(v) > 19 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// stripGrouping drops the digit grouping people type in figures: spaces (plain, non-breaking,
// thin), apostrophes and underscores. Commas and dots are not dropped: in kg they would be a
// decimal separator in half the world.
func stripGrouping(v string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00A0' || r == '\u202F' || r == '\u2009' || r == '\'' || r == '_' {
			return -1
		}
		return r
	}, v)
}

// readKg reads a kg column: a whole number of kg, parsed as int64 (never through a float), so
// that a size past 2^53 keeps its last units.
func readKg(c *Claim, v string) {
	s := stripGrouping(v)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		c.Malformed = append(c.Malformed, fmt.Sprintf("the kg %q is not a whole number of kg (1 credit = 1,000 kg)", registry.TruncateForError(v)))
		return
	}
	c.Kg, c.HasKg = n, true
}

// readCredits reads a credits (tonnes) column exactly: at most three decimals (kg), with a dot
// or a comma as the decimal separator, by integer arithmetic.
func readCredits(c *Claim, v string) {
	kg, ok := CreditsToKg(stripGrouping(v))
	if !ok {
		c.Malformed = append(c.Malformed, fmt.Sprintf("the credits %q are not a number of credits with at most three decimals (1 credit = 1,000 kg)", registry.TruncateForError(v)))
		return
	}
	c.Kg, c.HasKg = kg, true
}

// CreditsToKg reads a number of credits such as "12.446", "0,5" or "3" as kg (12446, 500,
// 3000), exactly: ok is false for anything else, for more than three decimals (a fraction of a
// kg) and for a size that does not fit int64.
func CreditsToKg(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	if whole == "" && frac == "" || len(frac) > 3 || !isWholeNumber(whole+"0") || (frac != "" && !isWholeNumber(frac)) {
		return 0, false
	}
	w := int64(0)
	if whole != "" {
		var err error
		if w, err = strconv.ParseInt(whole, 10, 64); err != nil {
			return 0, false
		}
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt((frac + "00")[:3], 10, 64)
	}
	if w > (1<<63-1-f)/1000 {
		return 0, false
	}
	return w*1000 + f, true
}

func readDate(c *Claim, v string) {
	d, ok := parseDate(v)
	if !ok {
		c.Malformed = append(c.Malformed, fmt.Sprintf("the date %q is not a date as YYYY-MM-DD (or a date-time in RFC 3339)", registry.TruncateForError(v)))
		return
	}
	c.Date = d
}

// parseDate reads a calendar day: YYYY-MM-DD, or an RFC 3339 date-time (its day in UTC). Day
// and month in other orders are ambiguous (03/04) and are not guessed.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			y, m, d := t.UTC().Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}

// groupDigits writes n with thousands separators: 5000 → "5,000".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && r != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
