package lineage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
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

// Whichever way a batch arrives (by id, from an organisation's list, or from a retirement's
// or a delivery's list where the organisations' are refused), every demo tree (planted faults
// included, the 30,000-batch one unless -short) is the same: nodes, records, problems, totals.
func TestPlannerNeverChangesATree(t *testing.T) {
	reg, c := newDemo(t, demo.Options{})
	f := reg.Fixtures()
	byID, served, p := walkers(c)
	asked := &listCounts{}
	_, eventsOnly, pe := walkers(refusingLists(t, reg, http.StatusForbidden, asked, orgLists))
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
			for lists, planned := range map[string]*lineage.Walker{"organisation lists": served, "retirement and delivery lists": eventsOnly} {
				got, err := planned.Lineage(ctx, start, nil)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := exported(t, want), exported(t, got); !bytes.Equal(a, b) {
					t.Errorf("with %s, the planner's tree differs from the walk by id:\nby id:   %.600s\nplanned: %.600s", lists, a, b)
				}
				if got.Fetched != want.Fetched || got.Truncated != want.Truncated || !reflect.DeepEqual(got.Totals(), want.Totals()) {
					t.Errorf("with %s: fetched %d, truncated %d; by id %d, %d", lists, got.Fetched, got.Truncated, want.Fetched, want.Truncated)
				}
			}
		})
	}
	if st := p.Stats(); st.Listed < int64(f.WideNodeCount) || st.Refusals != 0 {
		t.Errorf("planner stats %+v: want at least the wide tree's %d batches listed, no refusal", st, f.WideNodeCount)
	}
	// Where every organisation's list is refused, the retirements' and deliveries' lists bring
	// batches: the comparison above then covers records that came from them.
	if st := pe.Stats(); st.Listed < int64(f.WideNodeCount)/10 || asked.count(retirementLists) == 0 || asked.count(deliveryLists) == 0 {
		t.Errorf("organisation lists refused: planner stats %+v, %d retirement and %d delivery lists asked; want both asked and a tenth of the wide tree's %d batches listed",
			st, asked.count(retirementLists), asked.count(deliveryLists), f.WideNodeCount)
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

// The list routes of the planner, as refusingLists names them.
const (
	orgLists        = "organisations"
	retirementLists = "retirements"
	deliveryLists   = "deliveries"
)

// listCounts counts the requests to each list route by the id listed ("organisations/org_…").
type listCounts struct{ m sync.Map }

func (c *listCounts) add(key string) {
	n, _ := c.m.LoadOrStore(key, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// count is how many requests went to the lists of route.
func (c *listCounts) count(route string) (n int64) {
	c.m.Range(func(k, v any) bool {
		if strings.HasPrefix(k.(string), route+"/") {
			n += v.(*atomic.Int64).Load()
		}
		return true
	})
	return n
}

// each calls fn with every list asked for and how many times.
func (c *listCounts) each(fn func(key string, n int64)) {
	c.m.Range(func(k, v any) bool { fn(k.(string), v.(*atomic.Int64).Load()); return true })
}

// refusingLists serves the demo registry but answers status to every list of the routes
// named (orgLists, retirementLists, deliveryLists) and counts every list asked for,
// refused or not.
func refusingLists(t *testing.T, reg *demo.Registry, status int, asked *listCounts, refused ...string) *isometric.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); ok && strings.HasSuffix(rest, "/credit_batches") &&
			(route == orgLists || route == retirementLists || route == deliveryLists) {
			asked.add(route + "/" + strings.TrimSuffix(rest, "/credit_batches"))
			if slices.Contains(refused, route) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"detail":"Not permitted"}`))
				return
			}
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
// the tree is the one fetched by id, shows no error, and the refusal is remembered so that an
// organisation's list is asked once per status, and a retirement's or a delivery's once,
// however many of their batches follow.
func TestPlannerFallsBackWhenListsAreRefused(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			reg := demo.New(demo.Options{})
			f := reg.Fixtures()
			asked := &listCounts{}
			c := refusingLists(t, reg, status, asked, orgLists, retirementLists, deliveryLists)
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
			asked.each(func(list string, n int64) {
				most := int64(1)
				if strings.HasPrefix(list, orgLists+"/") {
					orgs++
					most = 3
				}
				if n > most {
					t.Errorf("the list %s was asked %d times; want at most %d", list, n, most)
				}
			})
			if st.Refusals == 0 || st.Listed != 0 || orgs < 2 {
				t.Fatalf("planner %+v, %d organisations' lists asked: want refusals of several, nothing listed", st, orgs)
			}
			// Another tree (another issuance) held partly by the same organisations: their lists
			// are not asked again while the refusal is remembered.
			before := map[string]int64{}
			asked.each(func(list string, n int64) { before[list] = n })
			other, err := planned.Lineage(context.Background(), f.HugeRoot, nil)
			if err != nil {
				t.Fatal(err)
			}
			shared := 0
			for _, h := range other.Totals().ByHolder {
				if n, ok := before[orgLists+"/"+h.Holder.ID]; ok {
					shared++
					if v, _ := asked.m.Load(orgLists + "/" + h.Holder.ID); v.(*atomic.Int64).Load() != n {
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

// A retirement's or a delivery's list is asked only where the holder's own list is refused:
// a holder's list already brings the batches they hold. Where it is refused, they bring many
// of the tree's batches, so that fewer are fetched by id.
func TestPlannerListsRetirementsAndDeliveriesWhereHoldersAreRefused(t *testing.T) {
	reg := demo.New(demo.Options{})
	f := reg.Fixtures()
	served := &listCounts{}
	_, planned, _ := walkers(refusingLists(t, reg, http.StatusForbidden, served))
	if _, err := planned.Lineage(context.Background(), f.WideLeafDeep, nil); err != nil {
		t.Fatal(err)
	}
	if served.count(orgLists) == 0 || served.count(retirementLists)+served.count(deliveryLists) != 0 {
		t.Errorf("organisation lists served: %d asked, and %d retirement and %d delivery lists; want none of those",
			served.count(orgLists), served.count(retirementLists), served.count(deliveryLists))
	}

	refused := &listCounts{}
	c := refusingLists(t, reg, http.StatusForbidden, refused, orgLists)
	_, planned, p := walkers(c)
	tree, err := planned.Lineage(context.Background(), f.WideLeafDeep, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := c.Stats().Requests - refused.count(orgLists) - refused.count(retirementLists) - refused.count(deliveryLists)
	if refused.count(retirementLists) == 0 || refused.count(deliveryLists) == 0 || byID > int64(tree.Len())*9/10 {
		t.Errorf("organisation lists refused: %d retirement and %d delivery lists asked, %d batches of %d fetched by id (planner %+v)",
			refused.count(retirementLists), refused.count(deliveryLists), byID, tree.Len(), p.Stats())
	}
}
