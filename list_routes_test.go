package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
)

// UPSTREAM_LIST_ROUTES=0 turns the list planner off: a cold walk of the demo's wide tree, on
// the explorer main wires, then asks the registry for no list of batches (an organisation's,
// a retirement's, a delivery's), only batches by id. Left unset, the same walk lists.
func TestListRoutesSwitch(t *testing.T) {
	reg := demo.New(demo.Options{})
	var lists, byID atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/credit_batches/"):
			byID.Add(1)
		case strings.HasSuffix(p, "/credit_batches") &&
			(strings.HasPrefix(p, "/organisations/") || strings.HasPrefix(p, "/retirements/") || strings.HasPrefix(p, "/deliveries/")):
			lists.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		value     string
		wantLists bool
	}{{"", true}, {"0", false}, {"off", false}, {"1", true}} {
		t.Run("UPSTREAM_LIST_ROUTES="+tc.value, func(t *testing.T) {
			cfg, err := loadConfig(nil, envOf(map[string]string{"UPSTREAM_LIST_ROUTES": tc.value}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			journal, err := history.OpenDir(ctx, t.TempDir(), history.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer journal.Close()
			client, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: demo.AccessToken,
				ClientSecret: demo.ClientSecret, Concurrency: cfg.concurrency})
			if err != nil {
				t.Fatal(err)
			}
			explorer, _ := newExplorer(cfg, slog.New(slog.DiscardHandler), client, nil, journal)
			lists.Store(0)
			byID.Store(0)
			tree, err := explorer.Lineage(ctx, reg.Fixtures().WideLeafDeep)
			if err != nil {
				t.Fatal(err)
			}
			if got := lists.Load() > 0; got != tc.wantLists {
				t.Errorf("%d list requests, %d by id for %d batches; want lists: %v", lists.Load(), byID.Load(), tree.Len(), tc.wantLists)
			}
			if !tc.wantLists && byID.Load() != int64(tree.Len()) {
				t.Errorf("%d batches fetched by id for a tree of %d", byID.Load(), tree.Len())
			}
		})
	}
	if _, err := loadConfig(nil, envOf(map[string]string{"UPSTREAM_LIST_ROUTES": "sometimes"}), io.Discard); err == nil ||
		!strings.HasPrefix(err.Error(), "UPSTREAM_LIST_ROUTES") {
		t.Errorf("UPSTREAM_LIST_ROUTES=sometimes: err = %v, want one naming the variable", err)
	}
}
