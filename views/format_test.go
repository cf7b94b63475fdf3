package views

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestFormatKg(t *testing.T) {
	for _, tc := range []struct {
		kg   int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {12446, "12,446"}, {-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"}, {math.MinInt64, "-9,223,372,036,854,775,808"},
		{1<<53 + 1, "9,007,199,254,740,993"},
	} {
		if got := FormatKg(tc.kg); got != tc.want {
			t.Errorf("FormatKg(%d) = %q, want %q", tc.kg, got, tc.want)
		}
	}
}

func TestFormatCredits(t *testing.T) {
	for _, tc := range []struct {
		kg   int64
		want string
	}{
		{0, "0.000"}, {5, "0.005"}, {12446, "12.446"}, {1234567, "1,234.567"}, {-5, "-0.005"},
		{1<<53 + 1, "9,007,199,254,740.993"},
	} {
		if got := FormatCredits(tc.kg); got != tc.want {
			t.Errorf("FormatCredits(%d) = %q, want %q", tc.kg, got, tc.want)
		}
	}
}

func TestFormatShare(t *testing.T) {
	for _, tc := range []struct {
		part, whole int64
		want        string
	}{
		{1, 2, "50.0%"}, {1, 3, "33.3%"}, {2, 3, "66.7%"}, {0, 10, "0.0%"}, {1, 1_000_000, "<0.1%"},
		{5, 0, ""}, {-1, 10, ""}, {10, 10, "100.0%"},
		// Above 2^53 a float64 division would still be fine to a tenth of a percent; the
		// point is that part*1000 overflows int64 and must not wrap.
		{math.MaxInt64 / 2, math.MaxInt64, "50.0%"},
	} {
		if got := FormatShare(tc.part, tc.whole); got != tc.want {
			t.Errorf("FormatShare(%d, %d) = %q, want %q", tc.part, tc.whole, got, tc.want)
		}
	}
}

// FuzzFormatKg checks FormatKg against math/big's rendering with the separators removed.
func FuzzFormatKg(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(math.MinInt64))
	f.Add(int64(1<<53 + 1))
	f.Fuzz(func(t *testing.T, kg int64) {
		got := FormatKg(kg)
		if strings.ReplaceAll(got, ",", "") != big.NewInt(kg).String() {
			t.Fatalf("FormatKg(%d) = %q", kg, got)
		}
		digits := strings.TrimPrefix(got, "-")
		for i, group := range strings.Split(digits, ",") {
			if (i == 0 && (len(group) < 1 || len(group) > 3)) || (i > 0 && len(group) != 3) {
				t.Fatalf("FormatKg(%d) = %q: bad grouping", kg, got)
			}
		}
	})
}

func TestFormatInterval(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second:                      "20 s",
		time.Minute:                           "1 min",
		15 * time.Minute:                      "15 min",
		90 * time.Second:                      "1 min 30 s",
		time.Hour:                             "1 h",
		2*time.Hour + 30*time.Minute:          "2 h 30 min",
		500 * time.Millisecond:                "500 ms",
		10*time.Second + 400*time.Millisecond: "10 s",
	} {
		if got := FormatInterval(d); got != want {
			t.Errorf("FormatInterval(%v) = %q, want %q", d, got, want)
		}
	}
}
