package benchmark

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// Lists is which of the registry's list routes the planner's registry serves.
type Lists int

const (
	// ListsServed serves every list route.
	ListsServed Lists = iota
	// OrgListsRefused refuses (403) every organisation's list, as a registry that lists only
	// the caller's own organisation does, and serves the retirements' and deliveries' lists.
	OrgListsRefused
	// AllListsRefused refuses (403) every list of batches: the walk falls back to ids.
	AllListsRefused
	// ListsOff walks without a planner (UPSTREAM_LIST_ROUTES=0): the walk by id, for the
	// refused walks to be compared with in the same run.
	ListsOff
)

func (l Lists) String() string {
	switch l {
	case OrgListsRefused:
		return "org refused"
	case AllListsRefused:
		return "all refused"
	case ListsOff:
		return "off"
	}
	return "served"
}

// PlannerResult is a cold walk of one tree by a walker with a list planner (lineage.Planner),
// against the bound of any walk that fetches one batch per request.
type PlannerResult struct {
	Scenario     Scenario
	Lists        Lists         // which list routes the registry served
	Nodes        int           // batches in the tree
	CriticalPath int           // of a walk by id (see CriticalPath)
	Bound        time.Duration // max(CriticalPath, ceil(Nodes/Concurrency)) × Latency
	Cold         time.Duration // the cold walk, empty cache
	Requests     int64         // its upstream requests, lists and refusals included
	ByID         int64         // batches of the tree fetched by id
	Listed       int64         // records the lists brought (some outside the tree)
	ListPages    int64         // list pages received
	WarmRequests int64         // upstream requests of a second walk on the same cache (goal 0)
}

// ColdToBound is the cold walk's time over the per-batch critical-path bound (goal ≤ 0.2 with
// lists, ≤ 1.1 with lists refused).
func (r PlannerResult) ColdToBound() float64 { return ratio(r.Cold, r.Bound) }

// FromLists is the share of the tree's batches that did not have to be fetched by id.
func (r PlannerResult) FromLists() float64 {
	if r.Nodes == 0 {
		return 0
	}
	return 1 - float64(r.ByID)/float64(r.Nodes)
}

// countingBatches counts the batches its source returned by id.
type countingBatches struct {
	src lineage.BatchSource
	n   atomic.Int64
}

func (c *countingBatches) CreditBatch(ctx context.Context, id string) (*registry.CreditBatch, error) {
	b, err := c.src.CreditBatch(ctx, id)
	if err == nil {
		c.n.Add(1)
	}
	return b, err
}

// refusingLists serves reg but answers 403, after the registry's latency, to every list of an
// organisation's batches (a registry that lists only the caller's own organisation), and with
// all, to every retirement's and delivery's list too.
func refusingLists(reg *demo.Registry, latency time.Duration, all bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		route, rest, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
		if strings.HasSuffix(rest, "/credit_batches") && (route == "organisations" || all && (route == "retirements" || route == "deliveries")) {
			time.Sleep(latency)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"detail":"Not permitted"}`))
			return
		}
		reg.ServeHTTP(w, req)
	})
}

// MeasurePlanner walks s cold with a planner on a fresh client and cache (the node bound raised
// to hold the huge tree), then warm, against a registry serving the list routes lists says.
func MeasurePlanner(ctx context.Context, reg *demo.Registry, s Scenario, opts Options, lists Lists) (PlannerResult, error) {
	r := PlannerResult{Scenario: s, Lists: lists}
	var h http.Handler = reg
	if lists != ListsServed {
		h = refusingLists(reg, opts.Latency, lists == AllListsRefused)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, Concurrency: opts.Concurrency})
	if err != nil {
		return r, err
	}
	byID := &countingBatches{src: c}
	ch := cache.New(byID, cache.Config{})
	var p *lineage.Planner
	if lists != ListsOff {
		p = lineage.NewPlanner(c, ch, lineage.PlannerConfig{})
	}
	w := lineage.NewWalker(ch, lineage.WalkerConfig{Workers: opts.Concurrency, MaxNodes: 100_000, Planner: p})
	start := time.Now()
	tree, err := w.Lineage(ctx, s.Start, nil)
	if err != nil {
		return r, err
	}
	r.Cold = time.Since(start)
	r.Requests, r.ByID = c.Stats().Requests, byID.n.Load()
	if p != nil {
		st := p.Stats()
		r.Listed, r.ListPages = st.Listed, st.Pages
	}
	r.Nodes = tree.Len()
	r.CriticalPath = CriticalPath(tree)
	waves := (r.Nodes + opts.Concurrency - 1) / opts.Concurrency
	r.Bound = time.Duration(max(r.CriticalPath, waves)) * opts.Latency
	before := c.Stats().Requests
	if _, err := w.Lineage(ctx, s.Start, nil); err != nil {
		return r, err
	}
	r.WarmRequests = c.Stats().Requests - before
	return r, nil
}

// ReportPlanner prints the planner's walks.
func ReportPlanner(w io.Writer, opts Options, results []PlannerResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tlists\tnodes\tcritical path\tbound\tcold\tcold/bound\treq\treq/nodes\tfrom lists\tlist pages\twarm req\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%v\t%v\t%.3f\t%d\t%.3f\t%.1f %%\t%d\t%d\t\n",
			r.Scenario.Name, r.Lists, r.Nodes, r.CriticalPath, round(r.Bound), round(r.Cold), r.ColdToBound(),
			r.Requests, float64(r.Requests)/float64(max(r.Nodes, 1)), 100*r.FromLists(), r.ListPages, r.WarmRequests)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nbound = the per-batch bound above: max(critical path, ceil(nodes / %d)) × %v. Goals: cold/bound ≤ 0.2 with lists served, ≤ 1.1 with lists refused; warm req = 0.\n",
		opts.Concurrency, opts.Latency)
}
