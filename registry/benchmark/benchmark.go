// Package benchmark measures lineage walks against the demo registry with added latency and
// reports them as ratios (to the critical-path bound, to a naive sequential walk), so that the
// figures mean the same on any machine. It backs `go run . bench`.
package benchmark

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Options are the benchmark's parameters.
type Options struct {
	Latency     time.Duration // added by the demo registry to every answer
	Concurrency int           // UPSTREAM_CONCURRENCY of the client under test
	Users       int           // concurrent cold walks of one tree in the shared-fetch scenario
	Naive       bool          // also time a naive sequential walk of each tree (slow: nodes × latency)
	// Storm is the fault storm the wide tree is also walked through (FaultRate 0: none).
	Storm StormOptions
}

// StormOptions are the faults of the storm scenario and how the client under test copes with
// them. Zero durations take the client's and the walker's defaults, as in production.
type StormOptions struct {
	FaultRate  float64       // fraction of answers that are faults: half 429, half 503 with an HTML body
	RetryAfter time.Duration // sent with each 429
	Seed       uint64        // of the demo registry's fault draws
	// MaxAttempts, BaseBackoff and MaxBackoff are the client's (isometric.ClientConfig);
	// RetryWait the walk's first wait before its retry rounds (lineage.WalkerConfig).
	MaxAttempts                        int
	BaseBackoff, MaxBackoff, RetryWait time.Duration
}

// StormResult is a cold walk of a tree through a fault storm, beside the same walk without.
type StormResult struct {
	Scenario    Scenario
	Nodes       int           // batches in the fault-free tree
	Clean       time.Duration // the cold walk without faults
	CleanReqs   int64         // its upstream requests
	Storm       time.Duration // the cold walk through the storm
	Requests    int64         // its upstream requests, retries included
	Retries     int64         // the client's retries (after 429, 503)
	Reasked     int64         // batches the walk asked for again after the client gave up on them
	Missing     int           // batches still missing at the end (0: the fault-free tree)
	Same        bool          // the storm's tree has exactly the fault-free tree's batches
	FaultRate   float64
	RetryAfter  time.Duration
	MaxAttempts int // the client's attempts per request
}

// Scenario is one tree to walk: a name and the batch the walk starts from.
type Scenario struct {
	Name  string
	Start string
}

// Result is the measurement of one scenario. Durations are wall time; ratios are dimensionless.
type Result struct {
	Scenario       Scenario
	Nodes          int           // batches in the tree
	CriticalPath   int           // longest chain of dependent fetches
	Bound          time.Duration // max(CriticalPath, ceil(Nodes/Concurrency)) × Latency
	Cold           time.Duration // first walk, empty cache
	ColdRequests   int64         // upstream requests of the cold walk
	Warm           time.Duration // second walk, same cache
	WarmRequests   int64         // upstream requests of the warm walk (0 when all batches are cached)
	Naive          time.Duration // sequential walk, one request at a time, no cache (0 if not measured)
	NaiveRequests  int64
	Users          int   // concurrent cold walks of the tree on one fresh cache
	SharedRequests int64 // upstream requests those walks made in all
	MaxPerBatch    int64 // the most times one batch was fetched upstream during them (goal 1)
}

// ColdToBound is the cold walk's wall time over the critical-path bound (goal ≤ 1.3).
func (r Result) ColdToBound() float64 { return ratio(r.Cold, r.Bound) }

// ColdToNaive is the cold walk's wall time over the naive walk's (lower is better).
func (r Result) ColdToNaive() float64 { return ratio(r.Cold, r.Naive) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Run is the `bench` command: args are its flags (the subcommand name excluded); it writes its
// report to stdout. It returns an error if a flag is wrong or a walk fails.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stdout)
	opts := Options{}
	fs.DurationVar(&opts.Latency, "latency", 10*time.Millisecond, "latency the demo registry adds to every answer")
	fs.IntVar(&opts.Concurrency, "concurrency", 8, "UPSTREAM_CONCURRENCY of the client under test")
	fs.IntVar(&opts.Users, "users", 100, "concurrent cold walks of one tree, sharing one cache")
	fs.BoolVar(&opts.Naive, "naive", true, "also time a naive sequential walk (takes nodes × latency)")
	replicas := fs.Int("replicas", 0, "run only the replicas scenario: this many replicas sharing one Redis (0: the walk scenarios)")
	replicaUsers := fs.Int("replica-users", 10, "concurrent cold walks on each replica in the replicas scenario")
	rounds := fs.Int("rounds", 5, "fresh replicas timed warm in the replicas scenario (the median is reported)")
	redisURL := fs.String("redis-url", os.Getenv("REDIS_URL"), "Redis for the replicas scenario (default $REDIS_URL; required by -replicas)")
	fs.Float64Var(&opts.Storm.FaultRate, "fault-rate", 0.3, "fault storm on the wide tree: fraction of answers that are 429 or 503 (0: no storm)")
	fs.DurationVar(&opts.Storm.RetryAfter, "retry-after", time.Second, "Retry-After sent with each 429 of the fault storm")
	fs.Uint64Var(&opts.Storm.Seed, "seed", 1, "seed of the fault storm's draws")
	planner := fs.Bool("planner", true, "also walk the trees cold with the list planner: lists served, the organisations' refused, all refused, and no planner")
	plannerHuge := fs.Bool("planner-huge", true, "the planner scenario also walks the huge tree (its refused walk takes nodes/concurrency × latency)")
	claimRows := fs.Int("claims", 1000, "rows of the claims scenario's list (0: no claims scenario)")
	claimTrees := fs.Int("claim-trees", 100, "demo trees the claims scenario's list spreads over")
	journalRounds := fs.Int("journal-rounds", 3, "rounds of the history journal scenario: the wide tree walked cold with and without the journal (0: none)")
	journalDB := fs.String("journal-database-url", "", "also measure the journal in this PostgreSQL database (in schemas of its own, dropped afterwards)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reg := demo.New(demo.Options{Latency: opts.Latency})
	if *replicas > 0 {
		// The server binary embeds this command, so it starts no redis-server itself: the
		// launcher that the tests use stays out of the server's import graph.
		if *redisURL == "" {
			return errors.New("replicas: -replicas needs a Redis to share: set -redis-url or REDIS_URL " +
				"(for a throwaway one: redis-server --port 6390 --save '' & then -redis-url redis://127.0.0.1:6390/0)")
		}
		r, err := MeasureReplicas(ctx, reg, ReplicaOptions{Latency: opts.Latency, Concurrency: opts.Concurrency,
			Replicas: *replicas, Users: *replicaUsers, Rounds: *rounds, RedisURL: *redisURL})
		if err != nil {
			return err
		}
		ReportReplicas(stdout, r)
		return nil
	}
	f := reg.Fixtures()
	scenarios := []Scenario{
		{"deep chain, from its tip", f.DeepChainLeaf},
		{"deep chain, from its root", f.DeepChainRoot},
		{"wide tree, from a leaf", f.WideLeafDeep},
	}
	fmt.Fprintf(stdout, "demo registry: latency %v per answer, UPSTREAM_CONCURRENCY %d, %d concurrent users\n\n",
		opts.Latency, opts.Concurrency, opts.Users)
	var results []Result
	for _, s := range scenarios {
		r, err := Measure(ctx, reg, s, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		results = append(results, r)
	}
	Report(stdout, opts, results)
	if *planner {
		ps := []Scenario{scenarios[0], scenarios[2]}
		if *plannerHuge {
			ps = append(ps, Scenario{"huge tree, from its root", f.HugeRoot})
		}
		if err := runPlanner(ctx, reg, ps, opts, stdout); err != nil {
			return err
		}
	}
	if opts.Storm.FaultRate > 0 {
		if err := runStorm(ctx, reg, scenarios[len(scenarios)-1], opts, stdout); err != nil {
			return err
		}
	}
	if *claimRows > 0 {
		if *claimTrees < 1 || *claimRows%*claimTrees != 0 {
			return fmt.Errorf("claims: -claims (%d) must be a multiple of -claim-trees (%d)", *claimRows, *claimTrees)
		}
		r, err := MeasureClaims(ctx, reg, opts, *claimRows, *claimTrees)
		if err != nil {
			return fmt.Errorf("claims: %w", err)
		}
		ReportClaims(stdout, opts, r)
	}
	if *journalRounds > 0 {
		r, err := MeasureJournal(ctx, reg, scenarios[2], opts, *journalRounds)
		if err != nil {
			return fmt.Errorf("history journal: %w", err)
		}
		ReportJournal(stdout, opts, r)
		if *journalDB != "" {
			r, err := MeasureJournalOn(ctx, reg, scenarios[2], opts, *journalRounds, *journalDB)
			if err != nil {
				return fmt.Errorf("history journal in PostgreSQL: %w", err)
			}
			ReportJournal(stdout, opts, r)
		}
	}
	return nil
}

// ReportStorm prints a storm's figures beside the fault-free walk's.
func ReportStorm(w io.Writer, r StormResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "walk\tnodes\ttime\trequests\tretries\tre-asked by the walk\tmissing\tsame tree\t")
	fmt.Fprintf(tw, "fault-free\t%d\t%v\t%d\t0\t0\t0\tyes\t\n", r.Nodes, round(r.Clean), r.CleanReqs)
	same := "yes"
	if !r.Same {
		same = "NO"
	}
	fmt.Fprintf(tw, "fault storm\t%d\t%v\t%d\t%d\t%d\t%d\t%s\t\n", r.Nodes, round(r.Storm), r.Requests, r.Retries, r.Reasked, r.Missing, same)
	tw.Flush()
	fmt.Fprintf(w, "\nstorm/fault-free: time %.1f×, requests %.2f×. Goal: missing = 0 and the same tree (the client gives up after %d attempts; the walk asks again).\n",
		ratio(r.Storm, r.Clean), float64(r.Requests)/float64(max(r.CleanReqs, 1)), r.MaxAttempts)
}

// MeasureStorm walks s cold twice on fresh explorers' walkers, without faults and through
// opts.Storm, and compares the trees. It changes reg's options for the storm and puts back
// opts.Latency alone afterwards.
func MeasureStorm(ctx context.Context, reg *demo.Registry, s Scenario, opts Options) (StormResult, error) {
	st := opts.Storm
	r := StormResult{Scenario: s, FaultRate: st.FaultRate, RetryAfter: st.RetryAfter}
	url, stop, err := demo.Start(reg)
	if err != nil {
		return r, err
	}
	defer stop()
	defer reg.SetOptions(demo.Options{Latency: opts.Latency})
	walk := func() (*lineage.Tree, *isometric.Client, time.Duration, error) {
		c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
			ClientSecret: demo.ClientSecret, Concurrency: opts.Concurrency, MaxAttempts: st.MaxAttempts,
			BaseBackoff: st.BaseBackoff, MaxBackoff: st.MaxBackoff})
		if err != nil {
			return nil, nil, 0, err
		}
		w := lineage.NewWalker(cache.New(c, cache.Config{}), lineage.WalkerConfig{Workers: opts.Concurrency, RetryWait: st.RetryWait})
		// The explorer's default bound on one walk (ExplorerConfig.WalkTimeout).
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		start := time.Now()
		tree, err := w.Lineage(wctx, s.Start, nil)
		return tree, c, time.Since(start), err
	}
	reg.SetOptions(demo.Options{Latency: opts.Latency})
	clean, c, took, err := walk()
	if err != nil {
		return r, err
	}
	r.Nodes, r.Clean, r.CleanReqs = clean.Len(), took, c.Stats().Requests

	reg.SetOptions(demo.Options{Latency: opts.Latency, FaultRate: st.FaultRate, RetryAfter: st.RetryAfter, Seed: st.Seed})
	storm, c, took, err := walk()
	if errors.Is(err, context.DeadlineExceeded) {
		return r, fmt.Errorf("the walk through the storm did not end within 5m: %w", err)
	}
	if err != nil {
		return r, err
	}
	cs := c.Stats()
	r.Storm, r.Requests, r.Retries, r.Missing = took, cs.Requests, cs.Retries, storm.FetchFailed
	// Every request is a batch's first ask, a client retry, or the walk asking again.
	r.Reasked = cs.Requests - cs.Retries - int64(storm.Len())
	r.MaxAttempts = cmp.Or(st.MaxAttempts, 5) // 5: isometric.ClientConfig's default
	r.Same = storm.Len() == clean.Len()
	for id, n := range clean.Nodes {
		if m := storm.Nodes[id]; m == nil || (n.Batch == nil) != (m.Batch == nil) {
			r.Same = false
		}
	}
	return r, nil
}

// Report prints results as a table.
func Report(w io.Writer, opts Options, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tnodes\tcritical path\tbound\tcold\treq\tcold/bound\tnaive\tcold/naive\twarm\treq\tusers\treq\tmax fetches/batch\t")
	for _, r := range results {
		naive, vsNaive := "-", "-"
		if r.Naive > 0 {
			naive, vsNaive = round(r.Naive).String(), fmt.Sprintf("%.3f", r.ColdToNaive())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%d\t%.2f\t%s\t%s\t%v\t%d\t%d\t%d\t%d\t\n",
			r.Scenario.Name, r.Nodes, r.CriticalPath, round(r.Bound), round(r.Cold), r.ColdRequests, r.ColdToBound(),
			naive, vsNaive, round(r.Warm), r.WarmRequests, r.Users, r.SharedRequests, r.MaxPerBatch)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nbound = max(critical path, ceil(nodes / %d)) × %v. Goals: cold/bound ≤ 1.3; warm req = 0; max fetches/batch = 1.\n",
		opts.Concurrency, opts.Latency)
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

// Measure runs one scenario: a cold walk and a warm walk on one fresh explorer, Users
// concurrent cold walks sharing another fresh cache, and (if asked) a naive walk.
func Measure(ctx context.Context, reg *demo.Registry, s Scenario, opts Options) (Result, error) {
	r := Result{Scenario: s, Users: opts.Users}
	url, stop, err := demo.Start(reg)
	if err != nil {
		return r, err
	}
	defer stop()
	newClient := func() (*isometric.Client, error) {
		return isometric.NewClient(isometric.ClientConfig{BaseURL: url, AccessToken: demo.AccessToken,
			ClientSecret: demo.ClientSecret, Concurrency: opts.Concurrency})
	}

	c, err := newClient()
	if err != nil {
		return r, err
	}
	w := lineage.NewWalker(cache.New(c, cache.Config{}), lineage.WalkerConfig{Workers: opts.Concurrency})
	start := time.Now()
	tree, err := w.Lineage(ctx, s.Start, nil)
	if err != nil {
		return r, err
	}
	r.Cold = time.Since(start)
	r.ColdRequests = c.Stats().Requests
	r.Nodes = tree.Len()
	r.CriticalPath = CriticalPath(tree)
	waves := (r.Nodes + opts.Concurrency - 1) / opts.Concurrency
	r.Bound = time.Duration(max(r.CriticalPath, waves)) * opts.Latency

	start = time.Now()
	if _, err := w.Lineage(ctx, s.Start, nil); err != nil {
		return r, err
	}
	r.Warm = time.Since(start)
	r.WarmRequests = c.Stats().Requests - r.ColdRequests

	if r.Users > 0 {
		c2, err := newClient()
		if err != nil {
			return r, err
		}
		shared := lineage.NewWalker(cache.New(c2, cache.Config{}), lineage.WalkerConfig{Workers: opts.Concurrency})
		reg.ResetStats()
		var wg sync.WaitGroup
		errs := make(chan error, r.Users)
		for range r.Users {
			wg.Go(func() {
				if _, err := shared.Lineage(ctx, s.Start, nil); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := errors.Join(<-errs); err != nil {
			return r, err
		}
		r.SharedRequests = c2.Stats().Requests
		for id := range tree.Nodes {
			r.MaxPerBatch = max(r.MaxPerBatch, reg.BatchFetches(id))
		}
	}

	if opts.Naive {
		c3, err := newClient()
		if err != nil {
			return r, err
		}
		start = time.Now()
		if _, err := NaiveWalk(ctx, c3, s.Start); err != nil {
			return r, err
		}
		r.Naive = time.Since(start)
		r.NaiveRequests = c3.Stats().Requests
	}
	return r, nil
}

// CriticalPath is the longest chain of fetches that depend on each other in a walk of t that
// starts at t.Target: the target first, each ancestor after the batch below it (the climb), and
// each other node after the batch that names it. No walk can take fewer round trips than this.
func CriticalPath(t *lineage.Tree) int {
	step := map[*lineage.Node]int{t.Target: 1}
	longest := 1
	for n := t.Target; n.Parent != nil; n = n.Parent {
		step[n.Parent] = step[n] + 1
		longest = max(longest, step[n.Parent])
	}
	t.Each(func(n *lineage.Node) bool {
		if _, ok := step[n]; !ok && n.Parent != nil && n.Missing != lineage.MissingTruncated && n.Missing != lineage.MissingRepeated {
			step[n] = step[n.Parent] + 1
			longest = max(longest, step[n])
		}
		return true
	})
	return longest
}

// NaiveWalk is the baseline: climb to the root, then visit every descendant depth first,
// one request at a time, with no cache beyond the batches of the climb. It returns the number
// of batches fetched.
func NaiveWalk(ctx context.Context, src lineage.BatchSource, id string) (int, error) {
	known := map[string]*registry.CreditBatch{}
	b, err := src.CreditBatch(ctx, id)
	for err == nil {
		known[b.ID] = b
		if b.ParentID == "" || known[b.ParentID] != nil {
			break
		}
		b, err = src.CreditBatch(ctx, b.ParentID)
	}
	if err != nil {
		return len(known), err
	}
	fetched := len(known)
	stack := []string{b.ID}
	seen := map[string]bool{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		c := known[id]
		if c == nil {
			if c, err = src.CreditBatch(ctx, id); err != nil {
				return fetched, err
			}
			fetched++
		}
		stack = append(stack, c.Children()...)
	}
	return fetched, nil
}

// runPlanner measures the list planner on each scenario, lists served, then the organisations'
// refused, then every list refused, then the walk without a planner, and prints the table.
func runPlanner(ctx context.Context, reg *demo.Registry, ps []Scenario, opts Options, stdout io.Writer) error {
	fmt.Fprintf(stdout, "\nlist planner: the holders' batches of the tree's issuance listed (GET /organisations/{id}/credit_batches, 50 a page) into the cache ahead of the walk;\n"+
		"where a holder's list is refused, the retirements' and deliveries' lists its batches name\n\n")
	var pr []PlannerResult
	for _, lists := range []Lists{ListsServed, OrgListsRefused, AllListsRefused, ListsOff} {
		for _, s := range ps {
			r, err := MeasurePlanner(ctx, reg, s, opts, lists)
			if err != nil {
				return fmt.Errorf("planner, %s: %w", s.Name, err)
			}
			pr = append(pr, r)
		}
	}
	ReportPlanner(stdout, opts, pr)
	return nil
}

// runStorm walks the wide tree cold through the fault storm opts.Storm describes and prints
// its figures.
func runStorm(ctx context.Context, reg *demo.Registry, wide Scenario, opts Options, stdout io.Writer) error {
	fmt.Fprintf(stdout, "\nfault storm on the %s: %.0f %% of answers 429 (Retry-After %v) or 503 with an HTML body, chosen per request (seed %d)\n\n",
		wide.Name, 100*opts.Storm.FaultRate, opts.Storm.RetryAfter, opts.Storm.Seed)
	sr, err := MeasureStorm(ctx, reg, wide, opts)
	if err != nil {
		return fmt.Errorf("fault storm: %w", err)
	}
	ReportStorm(stdout, sr)
	return nil
}
