package lineage_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// quickRetries is the walk's retry rounds with waits short enough for tests.
var quickRetries = lineage.WalkerConfig{RetryWait: time.Millisecond}

// stormClient is a client that gives up on a batch after 3 attempts, as a busy registry makes
// any client give up on some: at 30 % faults, about 1 batch in 37 runs out of attempts.
func stormClient(t *testing.T, url string) *isometric.Client {
	t.Helper()
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// With 15 % of answers 429 (Retry-After) and 15 % 503 with a proxy's HTML page, chosen at
// random per request, a cold walk still yields exactly the fault-free tree: the batches whose
// attempts ran out are asked for again once the rest is fetched.
func TestAFaultStormLeavesNoHoles(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			reg := demo.New(demo.Options{FaultRate: 0.3, RetryAfter: time.Second, Seed: seed})
			c := stormClient(t, demo.NewTestServer(t, reg))
			f := reg.Fixtures()
			tree, err := lineage.NewWalker(c, quickRetries).Lineage(context.Background(), f.WideLeafDeep, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tree.Partial() || len(tree.Problems) != 0 {
				t.Errorf("%d batches not fetched, %d problems, first %v", tree.FetchFailed, len(tree.Problems), tree.Problems[:min(3, len(tree.Problems))])
			}
			checkAgainstDataset(t, reg, tree, f.WideRoot, f.WideNodeCount)
			if s := c.Stats(); float64(s.Retries) < 0.2*float64(f.WideNodeCount) {
				t.Errorf("only %d retries for %d batches at a 30%% fault rate: faults were not injected", s.Retries, f.WideNodeCount)
			}
		})
	}
}

// A batch the registry never sends, while it sends the rest, is asked for in every retry
// round and then marked: the tree says it is partial, at that batch.
func TestATreeIsPartialOnlyWhereTheRegistryStaysUnreachable(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	root, _ := reg.Batch(f.WideRoot)
	lost := root.LeftChildID
	var asked atomic.Int64
	srv := httptest.NewServer(http.StripPrefix(demo.BasePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/credit_batches/"+lost {
			asked.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		reg.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	c := stormClient(t, srv.URL+demo.BasePath)
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{RetryWait: time.Millisecond, RetryRounds: 2}).Lineage(context.Background(), f.WideRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := tree.Nodes[lost]
	if !tree.Partial() || tree.FetchFailed != 1 || n == nil || n.Missing != lineage.MissingFetchFailed {
		t.Fatalf("partial %v, %d not fetched; the lost batch: %+v", tree.Partial(), tree.FetchFailed, n)
	}
	if ps := tree.ProblemsAt(lost); len(ps) != 1 || ps[0].Kind != lineage.ProblemFetchFailed {
		t.Errorf("problems at the lost batch: %v", ps)
	}
	// 3 attempts in the walk, then 3 in each of the 2 fruitless rounds.
	if n := asked.Load(); n != 9 {
		t.Errorf("the lost batch was asked for %d times, want 9", n)
	}
}

// A partial tree goes to the requests that waited for it; the next request walks again, and
// gets the whole tree once the registry sends the batch it failed to send.
func TestAPartialTreeIsWalkedAgainOnTheNextRequest(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	chain, _ := reg.Batch(f.DeepChainRoot)
	lost := chain.LeftChildID
	var down atomic.Bool
	down.Store(true)
	srv := httptest.NewServer(http.StripPrefix(demo.BasePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Lost whichever way it is asked for: by id, or in its holder's list.
		if down.Load() && (r.URL.Path == "/credit_batches/"+lost || strings.HasSuffix(r.URL.Path, "/credit_batches") && strings.HasPrefix(r.URL.Path, "/organisations/")) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		reg.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	e := lineage.NewExplorer(stormClient(t, srv.URL+demo.BasePath), lineage.ExplorerConfig{Walker: quickRetries})
	first, err := e.StartLineage(f.DeepChainRoot, false).Result()
	if err != nil || !first.Partial() {
		t.Fatalf("while a batch is lost: partial %v, err %v", err == nil && first.Partial(), err)
	}
	down.Store(false)
	second, err := e.StartLineage(f.DeepChainRoot, false).Result()
	if err != nil || second == first || second.Partial() || second.Len() != 2*f.DeepChainDepth+1 {
		t.Fatalf("the next request: same tree %v, err %v", second == first, err)
	}
}

// When the registry stops answering in the middle of a walk, the walk does not spend every
// attempt on every batch still to fetch, in every round: once a few batches in a row ran out
// of attempts, the rest wait for the next round, which asks a few again. The tree ends partial.
func TestAnOutageCostsAFewAsksARound(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	var served, failed atomic.Int64
	srv := httptest.NewServer(http.StripPrefix(demo.BasePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Load() >= 500 {
			failed.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		served.Add(1)
		reg.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	c := stormClient(t, srv.URL+demo.BasePath)
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{RetryWait: time.Millisecond, RetryRounds: 3}).Lineage(context.Background(), f.WideRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !tree.Partial() || tree.FetchFailed < 50 {
		t.Fatalf("partial %v with %d batches not fetched; want the walk's whole frontier missing", tree.Partial(), tree.FetchFailed)
	}
	// 8 workers, 3 attempts a batch: a few dozen batches asked in the walk and in each of the
	// 3 rounds, not every batch of the frontier 4 times.
	if n := failed.Load(); n > 3*8*2*4 {
		t.Errorf("%d requests failed for a frontier of %d batches", n, tree.FetchFailed)
	}
}
