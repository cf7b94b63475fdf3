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

// The deliveries listed are those to the webhook set: a new URL clears the old one's, and a
// delivery to it that finishes after the change is not recorded.
func TestDeliveryToAReplacedWebhookIsNotRecorded(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	if err := r.journal.SetWebhook(ctx, "", "https://old.example.org/x", []byte("a-secret-of-the-list"), time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_ = r.journal.RecordDelivery(ctx, "", history.Delivery{Started: now, Finished: now, Attempts: 1, Status: 500, Err: "500", Changes: 1, URL: "https://old.example.org/x"})
	if d, _ := r.journal.Deliveries(ctx, "", 5); len(d) != 1 {
		t.Fatalf("deliveries to the webhook: %+v", d)
	}
	// A new secret for the same URL keeps them: they went where the page shows.
	if err := r.journal.SetWebhook(ctx, "", "https://old.example.org/x", []byte("a-new-secret-of-the-list"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.journal.Deliveries(ctx, "", 5); len(d) != 1 {
		t.Fatalf("deliveries after a new secret for the same URL: %+v", d)
	}
	if err := r.journal.SetWebhook(ctx, "", "https://new.example.org/y", []byte("another-secret-of-the-list"), time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = r.journal.RecordDelivery(ctx, "", history.Delivery{Started: now, Finished: now, Attempts: 1, Status: 500, Err: "500", Changes: 1, URL: "https://old.example.org/x"})
	if d, _ := r.journal.Deliveries(ctx, "", 5); len(d) != 0 {
		t.Errorf("after the webhook changed: %+v; want the old one's deliveries gone, and a late one not recorded", d)
	}
}
