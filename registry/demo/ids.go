package demo

import "strconv"

// crockford is Crockford's base32 alphabet (no I, L, O, U), which the upstream's ids use.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idFor derives the n-th id of a kind from a hash of (prefix, n) rather than from the random
// stream, so that adding a draw somewhere in the generator does not rename every later object.
// The shape is the upstream's: prefix, "_1", then 15 Crockford characters (20 characters).
func idFor(prefix string, n uint64) string {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(prefix); i++ {
		h = (h ^ uint64(prefix[i])) * 0x100000001b3
	}
	a := splitmix(h ^ n)
	b := splitmix(a ^ 0x9e3779b97f4a7c15)
	var out [20]byte
	copy(out[:], prefix)
	out[3], out[4] = '_', '1'
	for i := 0; i < 12; i++ { // 60 bits from a
		out[5+i] = crockford[a&31]
		a >>= 5
	}
	for i := 0; i < 3; i++ { // 15 bits from b
		out[17+i] = crockford[b&31]
		b >>= 5
	}
	return string(out[:])
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// validID mirrors the upstream's IsometricIDRequestParam: 20 to 37 characters, the kind's
// prefix and an underscore, then letters or digits.
func validID(prefix, id string) bool {
	if len(id) < 20 || len(id) > 37 || id[:len(prefix)] != prefix || id[len(prefix)] != '_' {
		return false
	}
	for i := len(prefix) + 1; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// formatCredits renders kg as credits with three decimals using integer arithmetic only, so
// that sizes above 2^53 are rendered exactly (kg is never negative in the dataset).
func formatCredits(kg int64) string {
	frac := strconv.FormatInt(kg%1000, 10)
	return strconv.FormatInt(kg/1000, 10) + "." + "000"[len(frac):] + frac
}
