package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

// The home page says, before anyone searches, that the registry rejects the credentials;
// it names which settings to fix but never shows their values.
func TestHomeWarnsWhenTheRegistryRejectsTheCredentials(t *testing.T) {
	const token, secret = "wrong-token-5d1e0", "wrong-secret-5d1e0"
	a := newApp(t, appOptions{token: token, secret: secret})
	doc, r := a.page(t, "/", http.StatusOK)
	notice := doc.Find("[data-testid=registry-notice]")
	if notice.Length() != 1 || !strings.Contains(text(notice), "credentials") {
		t.Fatalf("registry notice %q, want one naming the credentials", text(notice))
	}
	if notice.AttrOr("role", "") == "alert" {
		t.Error("the notice is an alert; it should be a calm status note")
	}
	if strings.Contains(r.body, secret) || strings.Contains(r.body, "Bearer") {
		t.Fatal("a configured secret appears on the home page")
	}
	// The token is never in a notice.
	if strings.Contains(text(notice), token) {
		t.Fatal("the access token appears in the notice")
	}
	if doc.Find("form[role=search] input[name=q]").Length() != 1 {
		t.Error("the search box is gone: the page should still work")
	}
}

func TestHomeHasNoRegistryNoticeWithGoodCredentials(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/", http.StatusOK)
	if n := doc.Find("[data-testid=registry-notice]").Length(); n != 0 {
		t.Errorf("%d registry notices with good credentials: %q", n, text(doc.Find("[data-testid=registry-notice]")))
	}
}

func TestHomeWarnsWhenTheRegistryIsDown(t *testing.T) {
	down := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"detail":"maintenance"}`, http.StatusServiceUnavailable)
		})
	}
	a := newApp(t, appOptions{upstream: down, clientTweak: func(c *isometric.ClientConfig) { c.MaxAttempts = 2 }})
	doc, _ := a.page(t, "/", http.StatusOK)
	notice := doc.Find("[data-testid=registry-notice]")
	if notice.Length() != 1 || !strings.Contains(text(notice), "could not be reached") {
		t.Fatalf("registry notice %q, want one saying the registry could not be reached", text(notice))
	}
	if strings.Contains(text(notice), "maintenance") {
		t.Error("upstream text reached the notice")
	}
}

// Views of the home page share the readiness cache: they cost no upstream call of their own.
func TestHomeViewsReuseTheReadinessCheck(t *testing.T) {
	a := newApp(t, appOptions{})
	a.get(t, "/")
	before := a.reg.Requests()
	for range 5 {
		a.page(t, "/", http.StatusOK)
	}
	if n := a.reg.Requests() - before; n != 0 {
		t.Errorf("%d upstream calls for 5 home-page views within the cache period", n)
	}
}

// The made-up ids are labelled as shapes; on the demo a real example of the kind sits next to
// them, and the real one opens.
func TestHomeLabelsExampleIDsAsShapesAndOffersRealOnes(t *testing.T) {
	a := newApp(t, appOptions{})
	doc, _ := a.page(t, "/", http.StatusOK)
	shapes := doc.Find("[data-testid=shapes]")
	made := registry.ExampleID(registry.PrefixCreditBatch)
	dd := shapes.Find("dd").First()
	if !strings.Contains(text(dd), "looks like "+made) {
		t.Errorf("batch id hint %q does not say the example only looks like one", text(dd))
	}
	if !strings.Contains(text(doc.Find("[data-testid=shapes-note]")), "made up") {
		t.Errorf("no note that the examples are made up: %q", text(doc.Find("[data-testid=shapes-note]")))
	}
	try := dd.Find("[data-testid=try] a")
	if text(try) != a.fx.WideRoot {
		t.Fatalf("demo example next to the shape: %q, want %s", text(try), a.fx.WideRoot)
	}
	if _, ok := a.reg.Batch(made); ok {
		t.Fatalf("the made-up id %s exists in the demo", made)
	}
	// The link searches for it as if pasted, and the search finds its page.
	r := a.get(t, try.AttrOr("href", ""))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/batches/"+a.fx.WideRoot {
		t.Fatalf("the demo example's link answers %d to %q", r.status, r.header.Get("Location"))
	}
	a.page(t, r.header.Get("Location"), http.StatusOK)
}
