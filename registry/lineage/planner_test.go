package lineage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// fixtureStarts lists every batch the demo's Fixtures name (planted faults included) and
// every planted fixture's start, by field name.
func fixtureStarts(f demo.Fixtures) map[string]string {
	starts := map[string]string{}
	v := reflect.ValueOf(f)
	for i := range v.NumField() {
		if fv := v.Field(i); v.Type().Field(i).IsExported() && fv.Kind() == reflect.String && strings.HasPrefix(fv.String(), "ctb_") {
			starts[v.Type().Field(i).Name] = fv.String()
		}
	}
	for id := range f.Planted() {
		starts["planted "+id] = id
	}
	return starts
}

// walkers returns a walker reading by id only and one with a planner that lists from the
// first miss, each on its own cache over the client. Their node bound holds the huge tree whole: which nodes a bound cuts off
// depends on the order fetches end in, with or without a planner.
func walkers(c *isometric.Client) (byID, planned *lineage.Walker, p *lineage.Planner) {
	byID = lineage.NewWalker(cache.New(c, cache.Config{}), lineage.WalkerConfig{MaxNodes: 50_000})
	pc := cache.New(c, cache.Config{})
	p = lineage.NewPlanner(c, pc, lineage.PlannerConfig{MinMisses: 1}) // listing for every tree, the smallest too
	return byID, lineage.NewWalker(pc, lineage.WalkerConfig{Planner: p, MaxNodes: 50_000}), p
}

// exported is everything the explorer shows of a tree: nodes and their records, problems,
// totals and the audit's figures, as the JSON export writes them.
func exported(t *testing.T, tree *lineage.Tree) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(tree.Export()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Whichever way a batch arrives (by id, or from a list), every demo tree (planted faults
// included, the 30,000-batch one unless -short) is the same: nodes, records, problems, totals.
func TestPlannerNeverChangesATree(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	byID, planned, p := walkers(c)
	for name, start := range fixtureStarts(f) {
		if testing.Short() && start == f.HugeRoot {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			want, err := byID.Lineage(ctx, start, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := planned.Lineage(ctx, start, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := exported(t, want), exported(t, got); !bytes.Equal(a, b) {
				t.Errorf("the planner's tree differs from the walk by id:\nby id:   %.600s\nplanned: %.600s", a, b)
			}
			if got.Fetched != want.Fetched || got.Truncated != want.Truncated || !reflect.DeepEqual(got.Totals(), want.Totals()) {
				t.Errorf("fetched %d, truncated %d; by id %d, %d", got.Fetched, got.Truncated, want.Fetched, want.Truncated)
			}
		})
	}
	if st := p.Stats(); st.Listed < int64(f.WideNodeCount) || st.Refusals != 0 {
		t.Errorf("planner stats %+v: want at least the wide tree's %d batches listed, no refusal", st, f.WideNodeCount)
	}
}

// A cold walk of the deep chain learns nearly all of it from lists: far fewer requests than
// batches, and far fewer than its splits.
func TestPlannerWalksTheDeepChainInFewRequests(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	_, planned, p := walkers(c)
	tree, err := planned.Lineage(context.Background(), f.DeepChainLeaf, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstDataset(t, reg, tree, f.DeepChainRoot, 2*f.DeepChainDepth+1)
	if req := c.Stats().Requests; req > int64(f.DeepChainDepth)/5 {
		t.Errorf("%d requests for %d batches (planner %+v); want at most a fifth of the %d splits", req, tree.Len(), p.Stats(), f.DeepChainDepth)
	}
	before := c.Stats().Requests
	if _, err := planned.Lineage(context.Background(), f.DeepChainLeaf, nil); err != nil {
		t.Fatal(err)
	}
	if warm := c.Stats().Requests - before; warm != 0 {
		t.Errorf("a warm walk made %d requests, want 0", warm)
	}
}

// refusingLists serves the demo registry but answers status to every list of an
// organisation's batches, counting them by organisation.
func refusingLists(t *testing.T, reg *demo.Registry, status int, asked *sync.Map) *isometric.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if org, ok := strings.CutPrefix(r.URL.Path, "/organisations/"); ok && strings.HasSuffix(org, "/credit_batches") {
			n, _ := asked.LoadOrStore(strings.TrimSuffix(org, "/credit_batches"), new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"detail":"Not permitted"}`))
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: srv.URL, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A registry that refuses to list (403, 404 or 422) costs the walk nothing but those requests:
// the tree is the one fetched by id, shows no error, and the refusal is remembered so that the
// list is asked once per status for each organisation, however many of its batches follow.
func TestPlannerFallsBackWhenListsAreRefused(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			reg := demo.New(demo.Options{})
			f := reg.Fixtures()
			var asked sync.Map
			c := refusingLists(t, reg, status, &asked)
			byID, planned, p := walkers(c)
			want, err := byID.Lineage(context.Background(), f.WideLeafDeep, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := planned.Lineage(context.Background(), f.WideLeafDeep, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := exported(t, want), exported(t, got); !bytes.Equal(a, b) {
				t.Errorf("refused lists changed the tree")
			}
			if len(got.Problems) != 0 || got.Partial() {
				t.Errorf("problems %v, partial %v: a refused list must not show", got.Problems, got.Partial())
			}
			st := p.Stats()
			orgs := 0
			asked.Range(func(org, n any) bool {
				orgs++
				if n := n.(*atomic.Int64).Load(); n > 3 {
					t.Errorf("the list of %s was asked %d times; want at most once per status", org, n)
				}
				return true
			})
			if st.Refusals == 0 || st.Listed != 0 || orgs < 2 {
				t.Fatalf("planner %+v, %d organisations' lists asked: want refusals of several, nothing listed", st, orgs)
			}
			// Another tree (another issuance) held partly by the same organisations: their lists
			// are not asked again while the refusal is remembered.
			before := map[string]int64{}
			asked.Range(func(org, n any) bool { before[org.(string)] = n.(*atomic.Int64).Load(); return true })
			other, err := planned.Lineage(context.Background(), f.HugeRoot, nil)
			if err != nil {
				t.Fatal(err)
			}
			shared := 0
			for _, h := range other.Totals().ByHolder {
				if n, ok := before[h.Holder.ID]; ok {
					shared++
					if v, _ := asked.Load(h.Holder.ID); v.(*atomic.Int64).Load() != n {
						t.Errorf("the refused list of %s was asked again in the next walk", h.Holder.ID)
					}
				}
			}
			if shared == 0 {
				t.Fatal("the second tree shares no holder with the first: the test proves nothing")
			}
		})
	}
}

// By default a walk lists nothing until it has missed a few batches: a small tree costs no
// more requests than it has batches.
func TestPlannerLeavesSmallTreesToFetchesByID(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	pc := cache.New(c, cache.Config{})
	p := lineage.NewPlanner(c, pc, lineage.PlannerConfig{})
	tree, err := lineage.NewWalker(pc, lineage.WalkerConfig{Planner: p}).Lineage(context.Background(), reg.Fixtures().AllFinalRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if req := c.Stats().Requests; req != int64(tree.Len()) || p.Stats().Pages != 0 {
		t.Errorf("%d requests for %d batches, planner %+v; want one each and no list", req, tree.Len(), p.Stats())
	}
}
