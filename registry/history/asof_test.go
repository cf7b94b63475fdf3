package history

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// Issue 18, point 2 (?as_of=): the state of batches as last observed on or before a time,
// rebuilt from what was recorded after it.
func TestAsOfUndoesWhatWasObservedLater(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ string, _ *sql.DB, open func() *Journal) {
		checkAsOfUndoesWhatWasObservedLater(t, open())
	})
}

func checkAsOfUndoesWhatWasObservedLater(t *testing.T, j *Journal) {
	ctx := context.Background()
	record := func(s Snapshot, at time.Time) {
		t.Helper()
		if _, err := j.Record(ctx, s, at); err != nil {
			t.Fatal(err)
		}
	}
	// Day 0: A active, held by org_1. Day 2: A split into B and C; B went to org_2, who
	// retired it on day 4; C changed hands on day 4.
	a0 := active("ctb_A", "org_1", 9_007_199_254_740_993)
	record(a0, day0)
	a1 := a0
	a1.Status, a1.Children = "split", "ctb_B ctb_C"
	record(a1, day0.Add(48*time.Hour))
	b := active("ctb_B", "org_2", 9_007_199_254_740_000)
	c := active("ctb_C", "org_1", 993)
	record(b, day0.Add(48*time.Hour))
	record(c, day0.Add(48*time.Hour))
	b2 := b
	b2.Status, b2.Retirement, b2.Beneficiary, b2.BeneficiaryName = "retired", "ret_1", "org_9", "Beneficiary"
	c2 := c
	c2.Owner, c2.OwnerName = "org_3", "Org org_3"
	record(b2, day0.Add(96*time.Hour))
	record(c2, day0.Add(96*time.Hour))
	ids := []string{"ctb_A", "ctb_B", "ctb_C", "ctb_never"}

	before, err := j.AsOf(ctx, ids, day0.Add(-time.Hour))
	if err != nil || len(before) != 0 {
		t.Errorf("before the first observation: %+v, %v; want nothing", before, err)
	}
	at1, err := j.AsOf(ctx, ids, day0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(at1) != 1 || at1["ctb_A"].Snapshot != a0 || !at1["ctb_A"].ObservedAt.Equal(day0) || !at1["ctb_A"].ChangedAfter {
		t.Errorf("day 1: %+v; want A alone, as first seen on day 0", at1)
	}
	at3, err := j.AsOf(ctx, ids, day0.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(at3) != 3 || at3["ctb_A"].Snapshot != a1 || at3["ctb_B"].Snapshot != b || at3["ctb_C"].Snapshot != c {
		t.Errorf("day 3: %+v; want A split, B and C active as first seen", at3)
	}
	now, err := j.AsOf(ctx, ids, day0.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if now["ctb_B"].Snapshot != b2 || now["ctb_C"].Snapshot != c2 || now["ctb_B"].ChangedAfter {
		t.Errorf("today: %+v; want the recorded state", now)
	}
	if first, err := j.FirstObserved(ctx, ids); err != nil || !first.Equal(day0) {
		t.Errorf("FirstObserved: %v, %v; want %v", first, err, day0)
	}
	if first, err := j.FirstObserved(ctx, []string{"ctb_never"}); err != nil || !first.IsZero() {
		t.Errorf("FirstObserved of nothing recorded: %v, %v", first, err)
	}
}
