package views

import (
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// FormatKg renders a size in kg with thousands separators, exactly, using integer arithmetic
// only (sizes can exceed 2^53, past which float64 loses units): 12446 → "12,446". It is the
// registry's own formatter, so that audit details and page figures group digits alike.
func FormatKg(kg int64) string { return lineage.FormatKg(kg) }

// FormatCredits renders kg as credits (1,000 kg = 1 credit) with three decimals and thousands
// separators in the whole part, exactly: 1234567 → "1,234.567".
func FormatCredits(kg int64) string {
	s := registry.FormatCredits(kg)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			whole, err := strconv.ParseInt(s[:i], 10, 64)
			if err != nil {
				return sign + s
			}
			return sign + FormatKg(whole) + s[i:]
		}
	}
	return sign + s
}

// FormatShare renders part as a percentage of whole with one decimal ("12.5%"), computed in
// integers so that sizes above 2^53 are exact. It returns "" when whole is not positive, "<0.1%"
// for a positive share that rounds to zero.
func FormatShare(part, whole int64) string {
	if whole <= 0 || part < 0 {
		return ""
	}
	// permille = part*1000/whole, rounded half up; part*1000 can overflow int64.
	p := new(big.Int).Mul(big.NewInt(part), big.NewInt(2000))
	p.Add(p, big.NewInt(whole))
	p.Quo(p, new(big.Int).Mul(big.NewInt(whole), big.NewInt(2)))
	if !p.IsInt64() {
		return ">1000%"
	}
	pm := p.Int64()
	if pm == 0 && part > 0 {
		return "<0.1%"
	}
	return strconv.FormatInt(pm/10, 10) + "." + strconv.FormatInt(pm%10, 10) + "%"
}

// FormatTime renders an upstream timestamp as "2024-05-12 14:03 UTC", or "" when unknown.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// DateView is a date or a time-stamp as a page shows it: Text formatted, or, when the registry
// sent a value that is no date (NotADate), Text is that value as sent, to be shown marked.
type DateView struct {
	Text     string // "2024-05-12 14:03 UTC", "2024-05-12", the registry's text, or "" for none
	NotADate bool   // Text is the registry's value as sent, which could not be read as a date
}

// StampView is an instant (issued_at, retired_at, delivered_at) in UTC, labelled so:
// "2024-05-12 14:03 UTC"; or the registry's text, marked, when it is not a date-time.
func StampView(t registry.Timestamp) DateView {
	if t.Unread() {
		return DateView{Text: t.Text(), NotADate: true}
	}
	return DateView{Text: FormatTime(t.Time)}
}

// DayView is a calendar date (sequestered_on, a reporting period's ends) as the registry wrote
// it, "2024-05-12", never moved by a time zone; or the registry's text, marked, when it is no
// date.
func DayView(d registry.Date) DateView {
	if d.Unread() {
		return DateView{Text: d.Text(), NotADate: true}
	}
	return DateView{Text: d.String()}
}

// Isolate wraps text from the registry (an organisation's name) in the Unicode first-strong
// isolate and pop directional isolate (U+2068, U+2069), for plain-text places where no <bdi>
// can go (a tooltip, SVG text): its right-to-left characters, override marks included, then
// cannot reorder what follows it (the id printed after a name), and a genuine right-to-left
// name keeps its own direction. In HTML, names go in <bdi> instead.
func Isolate(s string) string {
	if s == "" {
		return ""
	}
	return "\u2068" + s + "\u2069"
}

// FormatDuration renders an elapsed time for people: "850 ms", "3.2 s", "2 min 5 s".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		tenths := d.Milliseconds() / 100
		return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10) + " s"
	default:
		s := int64(d / time.Second)
		return strconv.FormatInt(s/60, 10) + " min " + strconv.FormatInt(s%60, 10) + " s"
	}
}

// FormatInterval renders a configured period (a poll's interval, how often the demo changes)
// in whole units, dropping those that are zero: "20 s", "1 min", "15 min", "1 min 30 s",
// "1 h", "2 h 30 min"; under a second, "500 ms". FormatDuration is for elapsed times, whose
// tenths matter.
func FormatInterval(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	s := int64(d / time.Second)
	var parts []string
	for _, u := range []struct {
		secs int64
		name string
	}{{3600, "h"}, {60, "min"}, {1, "s"}} {
		if n := s / u.secs; n > 0 {
			parts = append(parts, strconv.FormatInt(n, 10)+" "+u.name)
			s -= n * u.secs
		}
	}
	return strings.Join(parts, " ")
}

// FormatCount renders a count with thousands separators: 30000 → "30,000".
func FormatCount[T ~int | ~int64](n T) string { return FormatKg(int64(n)) }

// plural picks the singular or plural noun for n.
func plural[T ~int | ~int64](n T, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Capitalised is s with its first letter in upper case: for a code made readable, or an
// error's text (lower case, as Go errors are) that starts a sentence on a page.
func Capitalised(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
