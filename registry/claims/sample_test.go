package claims

import (
	"context"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry/demo"
)

// The demo's sample list gets, row by row, the verdict its reference says, and shows every
// verdict the demo can show (unchecked needs the registry to fail).
func TestDemoSampleClaims(t *testing.T) {
	reg := demo.New(demo.Options{})
	ex := newExplorer(t, demo.NewTestServer(t, reg))
	l, err := Parse(strings.NewReader(reg.SampleClaims()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := reg.SampleClaimVerdicts()
	if len(l.Claims) < 40 || len(l.Claims) != len(want) || l.Header == nil {
		t.Fatalf("%d claims (header %q), want at least 40 and %d", len(l.Claims), l.Header, len(want))
	}
	rep := NewChecker(ex, 8).Check(context.Background(), l, nil)
	for i, r := range rep.Results {
		if string(r.Verdict) != want[i].Verdict {
			t.Errorf("%s: got %s: %+v", want[i].Reference, r.Verdict, r.Findings)
		}
		// A row meant to show one verdict must not share units with another row by accident:
		// the sample would then teach the wrong thing.
		if r.Verdict != DoubleClaimed && hasCode(r.Findings, DoubleClaimed) {
			t.Errorf("%s: shares units with another row: %+v", want[i].Reference, r.Findings)
		}
	}
	for _, c := range Codes {
		if c != Unchecked && rep.Counts[c] == 0 {
			t.Errorf("no row of the sample is %s", c)
		}
	}
}

// Rows of one tree share its walk: the sample list fetches each batch it needs once, and a
// second check of it, warm, asks the registry nothing.
func TestClaimsCostEachBatchOnceAndWarmNothing(t *testing.T) {
	reg := demo.New(demo.Options{})
	ex := newExplorer(t, demo.NewTestServer(t, reg))
	l, err := Parse(strings.NewReader(reg.SampleClaims()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ch := NewChecker(ex, 8)
	ch.Check(context.Background(), l, nil)
	if answers, distinct, most := reg.FetchSummary(); most != 1 || distinct == 0 {
		t.Errorf("cold: %d batch answers for %d batches, one batch %d times; want each once", answers, distinct, most)
	}
	reg.ResetStats()
	rep := ch.Check(context.Background(), l, nil)
	if n := reg.Requests(); n != 0 {
		t.Errorf("warm: %d upstream requests, want 0", n)
	}
	if rep.Counts[Unchecked] != 0 {
		t.Errorf("warm: %d rows unchecked", rep.Counts[Unchecked])
	}
}
