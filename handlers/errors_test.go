package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

func TestStatusFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{registry.ErrInvalid, http.StatusBadRequest},
		{fmt.Errorf("wrapped: %w", registry.ErrNotFound), http.StatusNotFound},
		{&registry.APIError{Kind: registry.ErrCredentials, Status: 401}, http.StatusBadGateway},
		{&registry.APIError{Kind: registry.ErrThrottled, Status: 429}, http.StatusBadGateway},
		{&registry.APIError{Kind: registry.ErrUnavailable, Status: 503}, http.StatusBadGateway},
		{&registry.APIError{Kind: registry.ErrUnavailable, Timeout: true}, http.StatusGatewayTimeout},
		{&lookupError{what: "credit batch", err: context.DeadlineExceeded}, http.StatusGatewayTimeout},
		{errRouteNotFound, http.StatusNotFound},
		{errMethodNotAllowed, http.StatusMethodNotAllowed},
		{errors.New("a bug"), http.StatusInternalServerError},
	} {
		if got := statusFor(tc.err); got != tc.want {
			t.Errorf("statusFor(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestCredentialsRejected(t *testing.T) {
	const token, secret = "wrong-token-0f3e9", "wrong-secret-7b21c"
	a := newApp(t, appOptions{token: token, secret: secret})
	doc, r := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusBadGateway)
	if !strings.Contains(text(doc.Find("h1")), "rejected") {
		t.Errorf("heading %q does not say the credentials were rejected", text(doc.Find("h1")))
	}
	if strings.Contains(r.body, token) || strings.Contains(r.body, secret) {
		t.Fatal("a configured secret appears on the page")
	}
	if doc.Find("[data-testid=retry]").Length() != 0 {
		t.Error("a retry link is offered although retrying cannot help")
	}
	rr := a.get(t, "/readyz")
	if rr.status != http.StatusServiceUnavailable || !strings.Contains(rr.body, "credentials") {
		t.Errorf("/readyz = %d %q, want 503 naming the credentials", rr.status, rr.body)
	}
	if strings.Contains(rr.body, token) || strings.Contains(rr.body, secret) {
		t.Fatal("a configured secret appears in /readyz")
	}
}

func TestUpstreamFaults(t *testing.T) {
	fast := func(c *isometric.ClientConfig) { c.MaxAttempts = 2; c.Timeout = 200 * time.Millisecond }

	t.Run("every answer 429 or 503 gives 502 with a retry link", func(t *testing.T) {
		a := newApp(t, appOptions{clientTweak: fast})
		a.reg.SetOptions(optionsWithFaults(1))
		doc, r := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusBadGateway)
		if href := doc.Find("[data-testid=retry]").AttrOr("href", ""); href != "/batches/"+a.fx.WideRoot+"?retry=1" {
			t.Errorf("retry link = %q", href)
		}
		if strings.Contains(r.body, "<center>") {
			t.Error("the proxy's HTML page leaked into ours")
		}
	})

	t.Run("a registry that never answers gives 504", func(t *testing.T) {
		hang := make(chan struct{})
		t.Cleanup(func() { close(hang) })
		a := newApp(t, appOptions{clientTweak: fast, upstream: func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-hang:
				case <-r.Context().Done():
				}
			})
		}})
		doc, _ := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusGatewayTimeout)
		if doc.Find("[data-testid=retry]").Length() != 1 {
			t.Error("no retry link on the 504 page")
		}
	})

	t.Run("a closed registry gives 502", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		a := newApp(t, appOptions{clientTweak: fast, baseURL: "http://" + addr + "/registry/v0"})
		a.page(t, "/batches/"+a.fx.WideRoot, http.StatusBadGateway)
		if r := a.get(t, "/readyz"); r.status != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d with the registry down", r.status)
		}
	})
}

func TestPartialTreeShowsWhatWasFetchedAndOffersRetry(t *testing.T) {
	var failing atomic.Value // the batch id the upstream fails for, "" for none
	a := newApp(t, appOptions{clientTweak: func(c *isometric.ClientConfig) { c.MaxAttempts = 2 },
		upstream: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The batch is lost whichever way it is asked for: by id, or in its holder's list.
				lists := strings.Contains(r.URL.Path, "/organisations/") && strings.HasSuffix(r.URL.Path, "/credit_batches")
				if id, _ := failing.Load().(string); id != "" && (strings.HasSuffix(r.URL.Path, "/"+id) || lists) {
					http.Error(w, "upstream down", http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		}})
	root, _ := a.reg.Batch(a.fx.WideRoot)
	broken := root.RightChildID
	failing.Store(broken)

	doc, _ := a.page(t, "/batches/"+a.fx.WideRoot, http.StatusOK)
	if doc.Find("[data-testid=partial]").Length() != 1 {
		t.Fatal("no notice that part of the tree could not be fetched")
	}
	row := doc.Find("li#n-" + broken)
	if row.Find(".badge.st-missing").Length() != 1 {
		t.Errorf("the unfetched batch is not marked: %s", text(row))
	}
	if doc.Find("[data-testid=check].unknown").Length() != 1 {
		t.Error("totals claim to be checkable with a batch missing")
	}
	retry := doc.Find("[data-testid=partial] [data-testid=retry]").AttrOr("href", "")
	if retry == "" {
		t.Fatal("no retry link")
	}

	// Once the registry recovers, the retry link walks again (the failed walk is not reused).
	failing.Store("")
	r := a.get(t, retry)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/batches/"+a.fx.WideRoot {
		t.Fatalf("retry = %d to %q", r.status, r.header.Get("Location"))
	}
	doc, _ = a.page(t, r.header.Get("Location"), http.StatusOK)
	if doc.Find("[data-testid=partial]").Length() != 0 || doc.Find("li#n-"+broken+" .st-missing").Length() != 0 {
		t.Error("after a retry the page still shows the old failure")
	}
}

func TestErrorPagesShowHostileInputLegibly(t *testing.T) {
	a := newApp(t, appOptions{})
	for _, path := range []string{"/batches/ctb_1DHMR1Z3MR9A5V6M%00", "/retirements/ret_%00%ff", "/batches/" + strings.Repeat("x", 3000)} {
		resp, err := a.http.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%.60s: status %d, want 400", path, resp.StatusCode)
		}
		if !utf8.Valid(body) || bytes.ContainsRune(body, 0) {
			t.Errorf("%.60s: the page is not valid UTF-8 text", path)
		}
		if len(body) > 64<<10 {
			t.Errorf("%.60s: a %d-byte page for a long id", path, len(body))
		}
	}
}
