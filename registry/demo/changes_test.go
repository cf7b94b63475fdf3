package demo

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// Issue 18, point 4: the demo registry changes while it runs, consistently, and a seed replays
// the same changes.

// stepped is a registry seeded with seed and stepped n times, an hour apart from start.
func stepped(seed uint64, n int, start time.Time) (*Registry, [][]Change) {
	r := New(Options{})
	r.SetChangeSeed(seed)
	var all [][]Change
	for k := range n {
		all = append(all, r.Step(start.Add(time.Duration(k)*time.Hour)))
	}
	return r, all
}

func TestChangesKeepTheDatasetConsistent(t *testing.T) {
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	r, steps := stepped(7, 20, start)
	kinds := map[string]int{}
	for _, s := range steps {
		if len(s) != changesPerStep {
			t.Fatalf("a step made %d changes, want %d", len(s), changesPerStep)
		}
		for _, c := range s {
			kinds[c.Kind]++
			if c.Kind == ChangeSplit {
				kinds["left "+c.LeftKind]++
			}
		}
	}
	for _, k := range []string{ChangeSplit, ChangeTransfer, ChangeRetire, "left " + ChangeRetire, "left " + ChangeTransfer} {
		if kinds[k] == 0 {
			t.Errorf("20 steps made no %q: %v", k, kinds)
		}
	}
	checkConsistent(t, r, start.Add(20*time.Hour).UnixMicro())
	d := r.d
	for ri, ret := range d.retirements {
		var sum int64
		for _, i := range d.retBatches[ri] {
			sum += d.batches[i].kg
			if d.batches[i].retirement != int32(ri) {
				t.Errorf("retirement %s lists %s, which names another", ret.id, d.ids[i])
			}
		}
		if sum != ret.kg || sum == 0 {
			t.Errorf("retirement %s: credit_batch_size_total %d, batches sum to %d", ret.id, ret.kg, sum)
		}
	}
	// Every active batch is in its holder's list once, so that the list routes find it.
	for i := range d.batches {
		b := &d.batches[i]
		if n := len(slices.DeleteFunc(slices.Clone(d.orgBatches[b.owner]), func(x int32) bool { return x != int32(i) })); n != 1 {
			t.Errorf("%s is %d times in its holder's list", d.ids[i], n)
		}
	}
	// What a step reports is what the registry answers.
	last := steps[len(steps)-1]
	for _, c := range last {
		b := mustBatch(t, r, c.Batch)
		switch c.Kind {
		case ChangeSplit:
			if b.Status != "split" || b.LeftChildID != c.Left || b.RightChildID != c.Right || mustBatch(t, r, c.Left).Size.CreditKgs != c.Kg {
				t.Errorf("split %+v: the registry answers %+v", c, b)
			}
		case ChangeRetire:
			if b.Status != "retired" || b.RetirementID == "" {
				t.Errorf("retirement %+v: the registry answers %s", c, b.Status)
			}
		}
	}
	if r.BatchCount() <= shared().BatchCount() || len(r.fetches) != r.BatchCount() {
		t.Errorf("after the splits: %d batches (%d counters), %d before", r.BatchCount(), len(r.fetches), shared().BatchCount())
	}
}

func TestChangesReplayFromTheirSeed(t *testing.T) {
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	_, a := stepped(42, 5, start)
	_, b := stepped(42, 5, start)
	_, c := stepped(43, 5, start)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("seed 42 twice: %v and %v", a, b)
	}
	if slices.EqualFunc(a, c, slices.Equal) {
		t.Errorf("seeds 42 and 43 made the same changes: %v", a)
	}
}

// Answers under way while the registry changes see it whole, before or after (go test -race
// checks the locking).
func TestChangesWhileServing(t *testing.T) {
	r := New(Options{})
	base := NewTestServer(t, r)
	root := r.Fixtures().Issuance
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range 5 {
			r.Step(time.Date(2026, 11, 1, k, 0, 0, 0, time.UTC))
		}
	}()
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, base+"/issuances/"+root+"/credit_batches", nil)
		req.Header.Set("Authorization", "Bearer "+AccessToken)
		req.Header.Set("X-Client-Secret", ClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET credit_batches while changing: %d", resp.StatusCode)
		}
	}
	<-done
	if r.Steps() != 5 {
		t.Errorf("%d steps", r.Steps())
	}
}
