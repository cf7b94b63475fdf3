package views

import (
	"math"
	"testing"
)

// A batch's share of recorded removal figures is exact at sizes past 2^53 kg (where float64
// would round), rounded toward zero, and refused when it does not fit in kg.
func TestProRataIsExact(t *testing.T) {
	for _, tc := range []struct {
		x, num, den, want int64
		ok                bool
	}{
		{1_000, 1, 3, 333, true},
		{1<<53 + 1, 3, 3, 1<<53 + 1, true},
		{math.MaxInt64, 2, 3, math.MaxInt64 / 3 * 2, true},
		{math.MaxInt64, 3, 2, 0, false},
		{5, 1, 0, 0, false},
	} {
		got, ok := proRata(tc.x, tc.num, tc.den)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("proRata(%d, %d, %d) = %d, %v; want %d, %v", tc.x, tc.num, tc.den, got, ok, tc.want, tc.ok)
		}
	}
}
