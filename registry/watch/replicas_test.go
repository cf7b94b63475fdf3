package watch_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// Two replicas sharing one database: one polls and sends the webhooks, the other stands by
// (no upstream request, no delivery) until the first stops renewing its lease, and then takes
// over. Without the lease every change would be asked twice and sent twice.
func TestOneReplicaPollsAndSends(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	if _, err := r.journal.AddWatch(ctx, "", history.WatchBatch, r.fx.DeepChainLeaf, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.journal.SetWebhook(ctx, "", "https://hooks.example.com/x", []byte("0123456789abcdef"), time.Now()); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(time.Now().UnixMilli())
	now := func() time.Time { return time.UnixMilli(clock.Load()) }
	const interval = time.Minute
	na, nb := newFakeNotifier(), newFakeNotifier()
	a := watch.New(r.ex, r.journal, watch.Config{Interval: interval, Notifier: na, Now: now})
	b := watch.New(r.ex, r.journal, watch.Config{Interval: interval, Notifier: nb, Now: now})

	if err := a.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Standby() || a.Stats().Polls != 1 {
		t.Fatalf("the first replica did not poll: standby %v, %d polls", a.Standby(), a.Stats().Polls)
	}
	r.reg.ResetStats()
	if err := b.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Standby() || b.Stats().Polls != 0 || r.reg.Requests() != 0 || len(nb.bodies) != 0 {
		t.Errorf("the second replica polled beside the first: standby %v, %d polls, %d upstream requests, %d deliveries",
			b.Standby(), b.Stats().Polls, r.reg.Requests(), len(nb.bodies))
	}
	// The first goes on renewing; the second stays out.
	clock.Add(interval.Milliseconds())
	if err := a.PollOnce(ctx); err != nil || a.Standby() {
		t.Fatalf("the holder lost its lease: %v, standby %v", err, a.Standby())
	}
	if err := b.PollOnce(ctx); err != nil || !b.Standby() {
		t.Fatalf("the second replica took a renewed lease: %v, standby %v", err, b.Standby())
	}
	// The first stops; past two intervals and a minute the second polls in its place.
	clock.Add((2*interval + time.Minute + time.Second).Milliseconds())
	if err := b.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Standby() || b.Stats().Polls != 1 || b.Stats().Requests == 0 {
		t.Errorf("the second replica did not take over: standby %v, %d polls, %d requests", b.Standby(), b.Stats().Polls, b.Stats().Requests)
	}
	if err := a.PollOnce(ctx); err != nil || !a.Standby() {
		t.Errorf("the first replica, back, polls beside the second: %v, standby %v", err, a.Standby())
	}
	// A replica stopped on purpose hands over at once: the other polls at its next try, with
	// no time passing.
	stop := b.Start(ctx)
	waitFor(t, "the second replica's first poll", func() bool { return b.Stats().Polls >= 2 })
	stop()
	if err := a.PollOnce(ctx); err != nil || a.Standby() {
		t.Errorf("after the holder stopped, the other replica still stands by: %v, standby %v", err, a.Standby())
	}
}
