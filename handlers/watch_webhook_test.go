package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/lineage-explorer/explorer/views"
)

// A delivery the webhook refused is listed on /watch with its status, attempts and error; once
// the webhook's URL changes, the deliveries to the old one are no longer listed under it.
func TestWatchPageListsFailedDeliveriesOfTheWebhookShown(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	if r := w.send(t, http.MethodPost, views.WatchWebhookURL(), formType, form("url", "https://old.example.org/lineage", "secret", "a-secret-of-twenty-chars"), nil); r.status != http.StatusSeeOther {
		t.Fatalf("setting the webhook: %d %s", r.status, head(r.body, 300))
	}
	if r := w.send(t, http.MethodPost, views.WatchURL(), formType, form("kind", "batch", "target", w.parent), nil); r.status != http.StatusSeeOther {
		t.Fatalf("watching: %d %s", r.status, head(r.body, 300))
	}
	w.poll(t)
	w.hooks.fail.Store(true)
	w.split.Store(true)
	w.poll(t)
	doc, _ := w.page(t, views.WatchURL(), http.StatusOK)
	rows := doc.Find("[data-testid=deliveries] tbody tr")
	if rows.Length() != 1 {
		t.Fatalf("deliveries listed: %q; want the failed one", text(doc.Find("[data-testid=webhook]")))
	}
	row := text(rows)
	for _, want := range []string{"failed", "503", "the webhook answered 503 Service Unavailable"} {
		if !strings.Contains(row, want) {
			t.Errorf("the failed delivery reads %q; want %q in it", row, want)
		}
	}
	if got := text(rows.Find("td").Eq(2)); got != "3" {
		t.Errorf("attempts shown %q, want 3", got)
	}

	if r := w.send(t, http.MethodPost, views.WatchWebhookURL(), formType, form("url", "https://new.example.org/lineage", "secret", "another-secret-of-twenty"), nil); r.status != http.StatusSeeOther {
		t.Fatalf("changing the webhook: %d %s", r.status, head(r.body, 300))
	}
	doc, _ = w.page(t, views.WatchURL(), http.StatusOK)
	if got := text(doc.Find("[data-testid=webhook-where]")); got != "https://new.example.org/…" {
		t.Errorf("webhook shown as %q", got)
	}
	if n := doc.Find("[data-testid=deliveries] tbody tr").Length(); n != 0 {
		t.Errorf("after the webhook changed, %d deliveries to the old one are listed under the new one", n)
	}
}

// A webhook secret is 16 to 256 characters: a longer one is refused with a message, and not
// kept.
func TestWatchWebhookSecretHasAnUpperLimit(t *testing.T) {
	w := newWatchApp(t, watchOptions{})
	for _, n := range []int{257, 1 << 20} {
		r := w.send(t, http.MethodPost, views.WatchWebhookURL(), formType, form("url", "https://hooks.example.org/x", "secret", strings.Repeat("s", n)), nil)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "256 characters or fewer") {
			t.Errorf("a secret of %d characters: %d %q", n, r.status, text(mustDoc(t, r.body).Find("[data-testid=watch-error]")))
		}
		if _, ok, _ := w.journal.Webhook(t.Context(), ""); ok {
			t.Fatalf("a secret of %d characters was kept", n)
		}
	}
	if r := w.send(t, http.MethodPost, views.WatchWebhookURL(), formType, form("url", "https://hooks.example.org/x", "secret", strings.Repeat("s", 256)), nil); r.status != http.StatusSeeOther {
		t.Errorf("a secret of 256 characters: %d", r.status)
	}
}

// mustDoc parses an HTML answer.
func mustDoc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
