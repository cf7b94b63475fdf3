package history

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// A watch belongs to its owner: another owner neither lists, reads nor deletes it, and is
// told "not found" exactly as for an id that does not exist.
func TestWatchesBelongToTheirOwner(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ string, _ *sql.DB, open func() *Journal) {
		checkWatchesBelongToTheirOwner(t, open())
	})
}

func checkWatchesBelongToTheirOwner(t *testing.T, j *Journal) {
	ctx := context.Background()
	w, err := j.AddWatch(ctx, "alice@example.org", WatchBatch, "ctb_A", day0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := j.AddWatch(ctx, "alice@example.org", WatchBatch, "ctb_A", day0.Add(time.Hour))
	if err != nil || again.ID != w.ID || !again.Created.Equal(day0) {
		t.Fatalf("watching the same batch again: %+v, %v; want the first watch %s back", again, err, w.ID)
	}
	if l, _ := j.Watches(ctx, "bob@example.org"); len(l) != 0 {
		t.Errorf("bob's list holds %+v", l)
	}
	if _, err := j.Watch(ctx, "bob@example.org", w.ID); !errors.Is(err, ErrWatchNotFound) || !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("bob reading alice's watch: %v", err)
	}
	if err := j.DeleteWatch(ctx, "bob@example.org", w.ID); !errors.Is(err, ErrWatchNotFound) {
		t.Errorf("bob deleting alice's watch: %v", err)
	}
	if err := j.DeleteWatch(ctx, "", w.ID); !errors.Is(err, ErrWatchNotFound) {
		t.Errorf("the instance's list deleting alice's watch: %v", err)
	}
	if l, _ := j.Watches(ctx, "alice@example.org"); len(l) != 1 || l[0].ID != w.ID {
		t.Fatalf("alice's list after the others tried: %+v", l)
	}
	if err := j.DeleteWatch(ctx, "alice@example.org", w.ID); err != nil {
		t.Fatal(err)
	}
	if l, _ := j.Watches(ctx, "alice@example.org"); len(l) != 0 {
		t.Errorf("alice's list after deleting: %+v", l)
	}
}

// A visit and a notification only move forward, and a webhook's secret is kept as given.
func TestWatchVisitsWebhookAndDeliveries(t *testing.T) {
	eachDialect(t, func(t *testing.T, _ string, _ *sql.DB, open func() *Journal) {
		checkWatchVisitsWebhookAndDeliveries(t, open())
	})
}

func checkWatchVisitsWebhookAndDeliveries(t *testing.T, j *Journal) {
	ctx := context.Background()
	w, _ := j.AddWatch(ctx, "", WatchIssuance, "iss_A", day0)
	if err := j.MarkVisited(ctx, "", day0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_ = j.MarkVisited(ctx, "", day0.Add(time.Hour))
	_ = j.MarkNotified(ctx, w.ID, day0.Add(3*time.Hour))
	got, err := j.Watch(ctx, "", w.ID)
	if err != nil || !got.LastVisited.Equal(day0.Add(2*time.Hour)) || !got.NotifiedUntil.Equal(day0.Add(3*time.Hour)) {
		t.Errorf("after visits: %+v, %v", got, err)
	}
	if _, ok, _ := j.Webhook(ctx, ""); ok {
		t.Error("a webhook before one was set")
	}
	if err := j.SetWebhook(ctx, "", "https://hooks.example.org/a", []byte("s3cret-s3cret-s3cret"), day0); err != nil {
		t.Fatal(err)
	}
	_ = j.SetWebhook(ctx, "", "https://hooks.example.org/b", []byte("another-secret-000"), day0)
	h, ok, err := j.Webhook(ctx, "")
	if err != nil || !ok || h.URL != "https://hooks.example.org/b" || string(h.Secret) != "another-secret-000" {
		t.Errorf("webhook: %+v %v %v", h, ok, err)
	}
	for i := range 3 {
		d := Delivery{Started: day0.Add(time.Duration(i) * time.Minute), Finished: day0.Add(time.Duration(i)*time.Minute + time.Second),
			Status: 500 + i, Attempts: i + 1, OK: i == 2, Changes: i}
		if err := j.RecordDelivery(ctx, "", d); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := j.Deliveries(ctx, "", 2)
	if err != nil || len(ds) != 2 || ds[0].Status != 502 || !ds[0].OK || ds[1].Attempts != 2 || ds[1].OK {
		t.Errorf("deliveries: %+v %v; want the last two, newest first", ds, err)
	}
	if ds, _ := j.Deliveries(ctx, "bob", 10); len(ds) != 0 {
		t.Errorf("another owner's deliveries: %+v", ds)
	}
	// The deliveries kept are those to the webhook set: a new secret keeps them, a new URL
	// clears them, and one to the old URL finishing after the change is dropped.
	_ = j.SetWebhook(ctx, "", "https://hooks.example.org/b", []byte("a-third-secret-000"), day0)
	if ds, _ := j.Deliveries(ctx, "", 10); len(ds) != 3 {
		t.Errorf("after a new secret: %d deliveries, want 3", len(ds))
	}
	_ = j.SetWebhook(ctx, "", "https://hooks.example.org/c", []byte("a-third-secret-000"), day0)
	_ = j.RecordDelivery(ctx, "", Delivery{Started: day0, Finished: day0, Attempts: 1, URL: "https://hooks.example.org/b"})
	_ = j.RecordDelivery(ctx, "", Delivery{Started: day0, Finished: day0, Attempts: 1, Status: 204, OK: true, URL: "https://hooks.example.org/c"})
	if ds, _ := j.Deliveries(ctx, "", 10); len(ds) != 1 || !ds[0].OK {
		t.Errorf("after a new URL: %+v; want only the delivery to it", ds)
	}
	if err := j.DeleteWebhook(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if ds, _ := j.Deliveries(ctx, "", 10); len(ds) != 0 {
		t.Errorf("after the webhook was removed: %+v", ds)
	}
}
