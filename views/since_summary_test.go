package views

import "testing"

// The line above the totals says what changed, and kg retired only when some were: "0 kg
// retired" beside three splits reads as a figure that is missing.
func TestSinceSummarySaysKgRetiredOnlyWhenSome(t *testing.T) {
	for _, tc := range []struct {
		v    SinceView
		want string
	}{
		{SinceView{Day: "2026-10-01", Splits: 3, HolderChanges: 1}, "since 2026-10-01: 3 splits, 1 change of holder"},
		{SinceView{Day: "2026-10-01", Splits: 1, Retirements: 2, RetiredKg: 41_000}, "since 2026-10-01: 1 split, 2 retirements, 41,000 kg retired"},
		{SinceView{Day: "2026-10-01"}, "since 2026-10-01: no change observed"},
	} {
		if got := tc.v.Summary(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.want)
		}
	}
}
