package watch_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// splitLater is a rig whose batch parent the registry first sends unsplit and active, and as
// the demo has it (split) once phase is 1.
func splitLater(t *testing.T) (r *rig, parent string, phase *atomic.Int32) {
	phase = new(atomic.Int32)
	var p atomic.Value
	p.Store("")
	r = newRig(t, func(rec map[string]any) {
		if id, _ := rec["id"].(string); phase.Load() == 0 && id == p.Load().(string) {
			rec["status"], rec["left_child_id"], rec["right_child_id"] = "active", nil, nil
		}
	})
	child, _ := r.reg.Batch(r.fx.HostileOrgBatch)
	parent = child.ParentID
	p.Store(parent)
	return r, parent, phase
}

// A split in a watched tree reaches the list's webhook within one interval: by the first poll
// that starts after it. The new halves are asked at once (they are new), and the payload says
// the split.
func TestChangeReachesWebhookWithinOneInterval(t *testing.T) {
	r, parent, phase := splitLater(t)
	ctx := context.Background()
	w, err := r.journal.AddWatch(ctx, "", history.WatchBatch, parent, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.journal.SetWebhook(ctx, "", "https://hooks.example.org/lineage", []byte("a-secret-of-the-list"), time.Now()); err != nil {
		t.Fatal(err)
	}
	fake := newFakeNotifier()
	p := watch.New(r.ex, r.journal, watch.Config{Interval: 50 * time.Millisecond, Notifier: fake})
	stop := p.Start(ctx)
	defer stop()
	waitFor(t, "a first poll", func() bool { return p.Stats().Polls >= 1 })
	select {
	case <-fake.got:
		t.Fatal("a delivery before anything changed")
	default:
	}
	before := p.Stats().Polls
	phase.Store(1)
	select {
	case <-fake.got:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery 30 s after the change")
	}
	polls := p.Stats().Polls
	t.Logf("delivered when %d polls had finished since the change (interval %v)", polls-before, p.Interval())
	if polls > before+2 {
		t.Errorf("delivered after %d polls finished since the change; want by the first poll that started after it", polls-before)
	}
	fake.mu.Lock()
	body := fake.bodies[0]
	fake.mu.Unlock()
	var pl watch.Payload
	if err := json.Unmarshal(body, &pl); err != nil {
		t.Fatal(err)
	}
	if len(pl.Changes) != 1 || pl.Changes[0].WatchID != w.ID || pl.Changes[0].Target != parent {
		t.Fatalf("payload %s; want the changes of watch %s", body, w.ID)
	}
	var split bool
	for _, e := range pl.Changes[0].Events {
		if e.Kind == history.KindFirstSeen {
			t.Errorf("payload carries a first sighting: %+v", e)
		}
		split = split || (e.BatchID == parent && e.Kind == history.KindChildren && e.To != "")
	}
	if !split {
		t.Errorf("payload %s does not say that %s was split", body, parent)
	}
	waitFor(t, "the new halves polled", func() bool {
		st := p.Status(w.ID)
		return len(st.Trees) == 1 && len(st.Trees[0].Batches) >= 3
	})
	waitFor(t, "the delivery recorded", func() bool { return p.Stats().Delivered > 0 })
	if d, err := r.journal.Deliveries(ctx, "", 5); err != nil || len(d) == 0 || !d[0].OK || d[0].Changes == 0 {
		t.Errorf("deliveries recorded: %+v, %v", d, err)
	}
	if p.Stats().Changes == 0 {
		t.Errorf("counters: %+v", p.Stats())
	}
}

// A delivery that fails is recorded, and its changes go with the next poll's; once accepted
// they are not sent again.
func TestFailedDeliveryIsRecordedAndSentAgain(t *testing.T) {
	r, parent, phase := splitLater(t)
	ctx := context.Background()
	if _, err := r.journal.AddWatch(ctx, "", history.WatchBatch, parent, time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = r.journal.SetWebhook(ctx, "", "https://hooks.example.org/lineage", []byte("a-secret-of-the-list"), time.Now())
	fake := newFakeNotifier()
	fake.fail = true
	var ahead atomic.Int64 // the poller's clock runs ahead of the journal's by this
	p := watch.New(r.ex, r.journal, watch.Config{Notifier: fake, Interval: time.Minute,
		Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	poll := func() {
		t.Helper()
		if err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	phase.Store(1)
	poll()
	d, _ := r.journal.Deliveries(ctx, "", 5)
	if len(d) != 1 || d[0].OK || d[0].Status != 503 || d[0].Attempts != 3 || d[0].Err == "" {
		t.Fatalf("after a failed delivery: %+v", d)
	}
	fake.mu.Lock()
	fake.fail = false
	fake.mu.Unlock()
	// Within the backoff (one interval after a first failure) the receiver is left alone.
	poll()
	if d, _ := r.journal.Deliveries(ctx, "", 5); len(d) != 1 {
		t.Fatalf("a delivery was made within the backoff after a failure: %+v", d)
	}
	ahead.Add(int64(time.Minute + time.Second))
	poll()
	poll()
	d, _ = r.journal.Deliveries(ctx, "", 5)
	if len(d) != 2 || !d[0].OK || d[0].Changes != d[1].Changes {
		t.Errorf("deliveries %+v; want the failed one's changes sent once more, then nothing", d)
	}
	if st := p.Stats(); st.Delivered != 1 || st.Undeliver != 1 {
		t.Errorf("counters %+v", st)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
