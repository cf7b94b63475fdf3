package rediscache_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// redisLog collects go-redis's own log lines (through SetLogger, as the explorer would), so that
// a test can check them for secrets, and so that a killed Redis does not flood the test output.
var redisLog struct {
	sync.Mutex
	bytes.Buffer
}

type lockedWriter struct{}

func (lockedWriter) Write(p []byte) (int, error) {
	redisLog.Lock()
	defer redisLog.Unlock()
	return redisLog.Write(p)
}

func redisLogText() string {
	redisLog.Lock()
	defer redisLog.Unlock()
	return redisLog.String()
}

func TestMain(m *testing.M) {
	rediscache.SetLogger(slog.New(slog.NewTextHandler(lockedWriter{}, nil)))
	dir, err := os.MkdirTemp("", "rediscache-tls-")
	if err != nil {
		panic(err)
	}
	if err := makeTLSFiles(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// replica is one explorer instance as a test sees it: its own client to the demo registry, its
// own in-process cache and walker, and its own connection to the shared Redis.
type replica struct {
	client *isometric.Client
	tier   *rediscache.Tier
	cache  *cache.Cache
	walker *lineage.Walker
}

// testPrefix is a key prefix of the test's own, so that tests sharing one Redis (REDIS_TEST_URL)
// never read each other's keys.
func testPrefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "test-" + hex.EncodeToString(b[:])
	if u := os.Getenv("REDIS_TEST_URL"); u != "" {
		// A Redis of someone else's: leave it as it was found.
		t.Cleanup(func() {
			c := rawClient(t, u)
			ctx := context.Background()
			iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Unlink(ctx, iter.Val())
			}
		})
	}
	return prefix
}

func newReplica(t testing.TB, baseURL, redisURL string, cfg rediscache.Config, ccfg cache.Config) *replica {
	t.Helper()
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: baseURL, AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{client: c}
	if cfg.Timeout == 0 {
		// The tests that count fetches exactly test the lease, not the timeout: under the race
		// detector on a loaded machine a call can take longer than the 200ms default, and the
		// tier then rightly gives up on Redis. Tests of a slow or dead Redis set their own.
		cfg.Timeout = 5 * time.Second
	}
	if redisURL != "" {
		if r.tier, err = rediscache.Open(redisURL, cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.tier.Close() })
		ccfg.Shared = r.tier
	}
	r.cache = cache.New(c, ccfg)
	r.walker = lineage.NewWalker(r.cache, lineage.WalkerConfig{})
	return r
}

func (r *replica) walk(t testing.TB, id string) *lineage.Tree {
	t.Helper()
	tree, err := r.walker.Lineage(context.Background(), id, nil)
	if err != nil {
		t.Fatalf("walk of %s: %v", id, err)
	}
	return tree
}

// reference walks id with no cache at all on a registry of its own (the demo's dataset is the
// same on every New), for comparison with what replicas built.
func reference(t testing.TB, id string) *lineage.Tree {
	t.Helper()
	reg := demo.New(demo.Options{})
	return newReplica(t, demo.NewTestServer(t, reg), "", rediscache.Config{}, cache.Config{}).walk(t, id)
}

var (
	refMu    sync.Mutex
	refTrees = map[string]*lineage.Tree{}
)

func cachedReference(t testing.TB, id string) *lineage.Tree {
	t.Helper()
	refMu.Lock()
	defer refMu.Unlock()
	if tr, ok := refTrees[id]; ok {
		return tr
	}
	tr := reference(t, id)
	refTrees[id] = tr
	return tr
}

// sameTree fails t unless got has the nodes, batches, links and problems of want.
func sameTree(t testing.TB, got, want *lineage.Tree) {
	t.Helper()
	if len(got.Nodes) != len(want.Nodes) {
		t.Fatalf("tree has %d nodes, want %d", len(got.Nodes), len(want.Nodes))
	}
	for id, w := range want.Nodes {
		g := got.Nodes[id]
		switch {
		case g == nil:
			t.Fatalf("node %s missing from the tree", id)
		case g.Missing != w.Missing || g.Link != w.Link:
			t.Fatalf("node %s: missing %q link %q, want %q %q", id, g.Missing, g.Link, w.Missing, w.Link)
		case !reflect.DeepEqual(g.Batch, w.Batch):
			t.Fatalf("node %s: batch\n%+v\nwant\n%+v", id, g.Batch, w.Batch)
		case (g.Parent == nil) != (w.Parent == nil) || g.Parent != nil && g.Parent.ID != w.Parent.ID:
			t.Fatalf("node %s hangs from the wrong parent", id)
		}
	}
	if !reflect.DeepEqual(got.Problems, want.Problems) {
		t.Fatalf("problems %+v, want %+v", got.Problems, want.Problems)
	}
}

// rawClient is a plain go-redis client on the test's Redis, to look at or plant keys.
func rawClient(t testing.TB, redisURL string) redis.UniversalClient {
	t.Helper()
	o, err := rediscache.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewUniversalClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond until it holds or a generous bound passes (a condition, not a timing).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 20s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
