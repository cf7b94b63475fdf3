package watch_test

import (
	"context"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// A delivery whose retries take longer than a journal write may is still recorded, failed or
// not: its record gets a context of its own once the delivery is over, not one that the
// retries used up.
func TestSlowFailedDeliveryIsRecorded(t *testing.T) {
	defer watch.SetRecordTimeout(200 * time.Millisecond)()
	r, parent, phase := splitLater(t)
	ctx := context.Background()
	if _, err := r.journal.AddWatch(ctx, "", history.WatchBatch, parent, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.journal.SetWebhook(ctx, "", "https://hooks.example.org/lineage", []byte("a-secret-of-the-list"), time.Now()); err != nil {
		t.Fatal(err)
	}
	fake := newFakeNotifier()
	fake.fail, fake.delay = true, 400*time.Millisecond
	p := watch.New(r.ex, r.journal, watch.Config{Notifier: fake})
	if err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	phase.Store(1)
	if err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := r.journal.Deliveries(ctx, "", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1 || d[0].OK || d[0].Status != 503 || d[0].Attempts != 3 || d[0].Err == "" || d[0].Changes == 0 {
		t.Fatalf("after a slow failed delivery the journal has %+v; want it recorded with its status, attempts and error", d)
	}
}
