package watch_test

import (
	"context"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// A budget smaller than a tree's active batches is never exceeded: what it leaves unpolled is
// reported (the watch's status, the poller's counters) and asked first by the next poll.
func TestBudgetSpentIsReportedAndRotates(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	active, _ := activeOf(r.reg, r.fx.WideRoot)
	w, err := r.journal.AddWatch(ctx, "", history.WatchBatch, r.fx.WideRoot, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	// 8 requests an hour polled every 15 minutes: 2 requests a poll.
	p := watch.New(r.ex, r.journal, watch.Config{Interval: 15 * time.Minute, Budget: 8, Now: func() time.Time { return now }})
	if err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	asked := map[string]bool{}
	for round := range 3 {
		r.reg.ResetStats()
		if round > 0 {
			now = now.Add(15 * time.Minute)
			if err := p.PollOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		st := p.Stats()
		if st.Requests != int64(2*(round+1)) {
			t.Errorf("round %d: %d requests made in all, want %d (2 a poll)", round, st.Requests, 2*(round+1))
		}
		if st.Behind != 1 {
			t.Errorf("round %d: %d trees behind, want 1", round, st.Behind)
		}
		if want := int64((len(active) - 2) * (round + 1)); st.Skipped != want {
			t.Errorf("round %d: %d batches skipped in all, want %d", round, st.Skipped, want)
		}
		polled, behind := p.Status(w.ID).Polled()
		if !polled.IsZero() || behind != len(active)-2 {
			t.Errorf("round %d: status polled %v, %d behind; want never polled whole, %d behind", round, polled, behind, len(active)-2)
		}
		if round > 0 && r.reg.Requests() != 2 {
			t.Errorf("round %d: %d upstream requests, want 2", round, r.reg.Requests())
		}
		for _, id := range active {
			if r.reg.BatchFetches(id) > 0 && round > 0 {
				if asked[id] {
					t.Errorf("round %d: %s asked again while others were never asked", round, id)
				}
				asked[id] = true
			}
		}
	}
}
