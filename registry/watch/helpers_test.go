package watch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// rig is the real chain: the demo registry over HTTP (edited by edit when set), the real
// client, the explorer with its cache, and the journal every stored batch is recorded in.
type rig struct {
	reg     *demo.Registry
	fx      demo.Fixtures
	ex      *lineage.Explorer
	journal *history.Journal
}

func newRig(t *testing.T, edit func(rec map[string]any)) *rig {
	t.Helper()
	reg := demo.New(demo.Options{})
	var h http.Handler = http.StripPrefix(demo.BasePath, reg)
	if edit != nil {
		h = demo.EditRecords(h, edit)
	}
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: up.URL + demo.BasePath, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	j, err := history.Open(context.Background(), filepath.Join(t.TempDir(), history.FileName), history.Config{QueueSize: 60_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ex := lineage.NewExplorer(c, lineage.ExplorerConfig{Cache: cache.Config{OnStore: j.Observe}})
	return &rig{reg: reg, fx: reg.Fixtures(), ex: ex, journal: j}
}

// activeOf is the active batches of the dataset's tree below root, by the demo's own records.
func activeOf(reg *demo.Registry, root string) (active []string, nodes int) {
	stack := []string{root}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		b, ok := reg.Batch(id)
		if !ok {
			continue
		}
		nodes++
		if !b.Status.Final() {
			active = append(active, id)
		}
		stack = append(stack, b.Children()...)
	}
	return active, nodes
}

// fakeNotifier records what it is asked to deliver and accepts it (or fails, when told).
type fakeNotifier struct {
	mu     sync.Mutex
	bodies [][]byte
	fail   bool
	delay  time.Duration // how long a delivery takes (its retries)
	got    chan struct{}
}

func newFakeNotifier() *fakeNotifier { return &fakeNotifier{got: make(chan struct{}, 100)} }

func (f *fakeNotifier) CheckURL(string) error { return nil }

func (f *fakeNotifier) Deliver(_ context.Context, _ string, _ []byte, body []byte) watch.Delivery {
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	fail, delay := f.fail, f.delay
	f.mu.Unlock()
	time.Sleep(delay)
	f.got <- struct{}{}
	now := time.Now()
	if fail {
		return watch.Delivery{Attempts: 3, Status: 503, Err: "503 Service Unavailable", Started: now, Finished: now}
	}
	return watch.Delivery{Attempts: 1, Status: 204, Started: now, Finished: now, OK: true}
}
