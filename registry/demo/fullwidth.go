package demo

import "strings"

// FullWidth is s as a CJK input method types it in full-width mode, for tests of input
// folding: every printable ASCII character but the space in its full-width form, spaces as
// ideographic spaces.
func FullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r > ' ' && r <= '~':
			b.WriteRune(r - '!' + 0xFF01)
		case r == ' ':
			b.WriteRune(0x3000)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
