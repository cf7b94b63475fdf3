package benchmark_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/benchmark"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache/redisserver"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// The benchmark's own logic is tested with no added latency, so that it runs in CI: the
// figures it prints are for `go run . bench`.
func TestMeasureCountsEveryFetchOnce(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	r, err := benchmark.Measure(context.Background(), reg, benchmark.Scenario{Name: "deep", Start: f.DeepChainLeaf},
		benchmark.Options{Latency: time.Millisecond, Concurrency: 8, Users: 20, Naive: true})
	if err != nil {
		t.Fatal(err)
	}
	want := 2*f.DeepChainDepth + 1
	if r.Nodes != want || r.ColdRequests != int64(want) || r.WarmRequests != 0 || r.NaiveRequests != int64(want) {
		t.Errorf("nodes %d, cold %d, warm %d, naive %d requests; want %d, %d, 0, %d", r.Nodes, r.ColdRequests, r.WarmRequests, r.NaiveRequests, want, want, want)
	}
	if r.SharedRequests != int64(want) || r.MaxPerBatch != 1 {
		t.Errorf("%d users made %d requests, a batch fetched up to %d times; want %d and 1", r.Users, r.SharedRequests, r.MaxPerBatch, want)
	}
	// Climbing from the tip, each ancestor waits for the one below, and the peeled sibling of
	// the topmost one comes last: the chain's depth plus two.
	if r.CriticalPath != f.DeepChainDepth+2 {
		t.Errorf("critical path %d, want %d", r.CriticalPath, f.DeepChainDepth+2)
	}
}

// Through a storm of 30 % faults a client that gives up after 3 attempts still yields the
// fault-free tree, and the figures count the client's retries and the walk's own asks.
func TestMeasureStormYieldsTheFaultFreeTree(t *testing.T) {
	reg := demo.New(demo.Options{})
	wide := benchmark.Scenario{Name: "wide", Start: reg.Fixtures().WideLeafDeep}
	r, err := benchmark.MeasureStorm(context.Background(), reg, wide, benchmark.Options{Concurrency: 8,
		Storm: benchmark.StormOptions{FaultRate: 0.3, Seed: 3, MaxAttempts: 3, BaseBackoff: time.Millisecond,
			MaxBackoff: 2 * time.Millisecond, RetryWait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Same || r.Missing != 0 || r.Nodes != reg.Fixtures().WideNodeCount {
		t.Errorf("storm: same tree %v, %d missing, %d nodes", r.Same, r.Missing, r.Nodes)
	}
	// At 30 % faults about 1 batch in 37 runs out of its 3 attempts: the walk asks for it again.
	if r.CleanReqs != int64(r.Nodes) || r.Retries < int64(r.Nodes)/5 || r.Reasked == 0 {
		t.Errorf("requests: %d fault-free; in the storm %d, %d retries, %d asked again by the walk", r.CleanReqs, r.Requests, r.Retries, r.Reasked)
	}
	var out bytes.Buffer
	benchmark.ReportStorm(&out, r)
	if !strings.Contains(out.String(), "fault storm") || !strings.Contains(out.String(), "fault-free") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestCriticalPathFromTheRoot(t *testing.T) {
	reg := demo.New(demo.Options{})
	c, _ := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret})
	tree, err := lineage.NewWalker(c, lineage.WalkerConfig{}).Lineage(context.Background(), reg.Fixtures().DeepChainRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := benchmark.CriticalPath(tree), reg.Fixtures().DeepChainDepth+1; got != want {
		t.Errorf("critical path from the root = %d, want depth+1 = %d", got, want)
	}
}

func TestRunPrintsRatios(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every scenario")
	}
	var out bytes.Buffer
	if err := benchmark.Run(context.Background(), []string{"-latency", "0", "-users", "3", "-naive=false", "-fault-rate", "0", "-planner-huge=false"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cold/bound", "deep chain, from its tip", "wide tree, from a leaf", "list planner", "refused"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// The replicas scenario against a real redis-server: with Redis, every batch is fetched once
// however many replicas walk it cold; without, once per replica; a fresh replica needs nothing
// from the upstream.
func TestMeasureReplicas(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	reg := demo.New(demo.Options{Latency: time.Millisecond})
	r, err := benchmark.MeasureReplicas(context.Background(), reg, benchmark.ReplicaOptions{
		Latency: time.Millisecond, Concurrency: 8, Replicas: 3, Users: 3, Rounds: 1, RedisURL: redisURL,
		// The counts are exact only while Redis answers within the timeout; under the race
		// detector on a busy machine the 200ms default is not always enough, and the tier then
		// rightly goes to the upstream instead.
		Tier: rediscache.Config{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	f := reg.Fixtures()
	if r.Nodes != f.WideNodeCount || r.MaxPerBatch != 1 || r.FetchedOnce != r.Nodes || r.ColdRequests != int64(r.Nodes) {
		t.Errorf("cold with Redis: %d nodes, max %d fetches per batch, %d fetched once, %d requests; want %d, 1, all, %d",
			r.Nodes, r.MaxPerBatch, r.FetchedOnce, r.ColdRequests, f.WideNodeCount, f.WideNodeCount)
	}
	if r.NoShareMaxPerBatch != 3 {
		t.Errorf("without Redis a batch was fetched up to %d times, want once per replica (3)", r.NoShareMaxPerBatch)
	}
	if r.WarmRequests != 0 || r.WarmFinalRequests != 0 {
		t.Errorf("fresh replica: %d upstream requests (%d final), want 0", r.WarmRequests, r.WarmFinalRequests)
	}
	if r.SharedHits != 2*int64(r.Nodes) || r.BytesPerBatch <= 0 || r.FromRedis <= 0 || r.FromMemory <= 0 {
		t.Errorf("hits %d (want %d), %d bytes per batch, from Redis %v, from memory %v", r.SharedHits, 2*r.Nodes, r.BytesPerBatch, r.FromRedis, r.FromMemory)
	}
	var out bytes.Buffer
	benchmark.ReportReplicas(&out, r)
	for _, want := range []string{"upstream fetches per batch: max 1", "Redis/memory"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunReplicasFlag(t *testing.T) {
	redisURL := redisserver.URLForTest(t)
	var out bytes.Buffer
	err := benchmark.Run(context.Background(), []string{"-latency", "0", "-replicas", "2", "-replica-users", "2", "-rounds", "1", "-redis-url", redisURL}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "replicas: 2 × 2 concurrent users") || strings.Contains(out.String(), "cold/bound") {
		t.Errorf("-replicas should run only the replicas scenario:\n%s", out.String())
	}
}

// With lists served, the planner's cold walk of the deep chain and the wide tree asks far
// fewer requests than the tree has batches, learns most of them from lists, and a warm walk
// asks nothing; with the organisations' lists refused, the retirements' and deliveries' lists
// bring some; with every list refused, it is the walk by id (every batch fetched once, plus
// the refusals).
func TestMeasurePlannerServedAndRefused(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	opts := benchmark.Options{Latency: time.Millisecond, Concurrency: 8}
	for _, s := range []benchmark.Scenario{{Name: "deep", Start: f.DeepChainLeaf}, {Name: "wide", Start: f.WideLeafDeep}} {
		served, err := benchmark.MeasurePlanner(context.Background(), reg, s, opts, benchmark.ListsServed)
		if err != nil {
			t.Fatal(err)
		}
		if served.Requests*5 > int64(served.Nodes) || served.FromLists() < 0.9 || served.WarmRequests != 0 {
			t.Errorf("%s served: %d requests for %d batches, %.2f from lists, %d warm requests", s.Name, served.Requests, served.Nodes, served.FromLists(), served.WarmRequests)
		}
		orgRefused, err := benchmark.MeasurePlanner(context.Background(), reg, s, opts, benchmark.OrgListsRefused)
		if err != nil {
			t.Fatal(err)
		}
		if orgRefused.Nodes != served.Nodes || orgRefused.Listed == 0 || orgRefused.ByID >= int64(orgRefused.Nodes) || orgRefused.WarmRequests != 0 {
			t.Errorf("%s org refused: %d nodes (served %d), %d by id, %d listed, %d warm", s.Name, orgRefused.Nodes, served.Nodes, orgRefused.ByID, orgRefused.Listed, orgRefused.WarmRequests)
		}
		refused, err := benchmark.MeasurePlanner(context.Background(), reg, s, opts, benchmark.AllListsRefused)
		if err != nil {
			t.Fatal(err)
		}
		if refused.Nodes != served.Nodes || refused.ByID != int64(refused.Nodes) || refused.Listed != 0 || refused.Requests <= int64(refused.Nodes) || refused.WarmRequests != 0 {
			t.Errorf("%s refused: %d nodes (served %d), %d by id, %d listed, %d requests, %d warm", s.Name, refused.Nodes, served.Nodes, refused.ByID, refused.Listed, refused.Requests, refused.WarmRequests)
		}
		off, err := benchmark.MeasurePlanner(context.Background(), reg, s, opts, benchmark.ListsOff)
		if err != nil {
			t.Fatal(err)
		}
		if off.Nodes != served.Nodes || off.Requests != int64(off.Nodes) || off.ListPages != 0 {
			t.Errorf("%s off: %d nodes (served %d), %d requests, %d list pages", s.Name, off.Nodes, served.Nodes, off.Requests, off.ListPages)
		}
		var out bytes.Buffer
		benchmark.ReportPlanner(&out, opts, []benchmark.PlannerResult{served, orgRefused, refused, off})
		if !strings.Contains(out.String(), "all refused") || !strings.Contains(out.String(), "from lists") {
			t.Errorf("report:\n%s", out.String())
		}
	}
}
