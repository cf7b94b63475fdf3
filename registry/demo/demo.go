// Package demo is a stand-in for the Isometric Registry API v0: an http.Handler that answers the
// same GET routes (relative to the base URL ".../registry/v0"), with the same JSON shapes, auth
// headers, error answers and Relay pagination, from a fixed generated dataset shaped like the real
// registry's published records.
//
// It exists so that the explorer runs without credentials, so that the real client can be tested
// over real HTTP, and so that benchmarks have an upstream whose latency and faults they control.
// The dataset is built once by New and is the same on every run, so tests may rely on the ids in
// Fixtures. It changes afterwards only when asked to (Step, RunChanges: splits, transfers and
// retirements in the fixture issuance's trees, see changes.go).
package demo

import (
	"crypto/subtle"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

// AccessToken is the bearer token the demo registry accepts (Authorization: Bearer …), the
// demo's counterpart of ISOMETRIC_ACCESS_TOKEN.
const AccessToken = "demo-access-token"

// ClientSecret is the x-client-secret header value the demo registry accepts, the demo's
// counterpart of ISOMETRIC_CLIENT_SECRET.
const ClientSecret = "demo-client-secret"

// Options tune how the demo registry answers; the dataset itself never depends on them.
type Options struct {
	// Latency is added before every answer, faults and 4xx included. A request whose context
	// is cancelled during the wait gets no answer and is not counted.
	Latency time.Duration
	// FaultRate is the fraction (0..1) of requests answered with a fault instead of their
	// answer: half of them 429 with Retry-After, half 503 with an HTML body like a proxy's.
	FaultRate float64
	// RetryAfter is the value sent in Retry-After on 429, in whole seconds rounded up (0 sends "0").
	RetryAfter time.Duration
	// Seed seeds the fault injection only, so that a run's sequence of faults can be replayed.
	Seed uint64
	// LoopingCursors makes every paginated list (GET /issuances, /projects,
	// /organisations/{id}/credit_batches) never end, as an upstream with a cursor bug: every
	// page says has_next_page, and the page after the second one ends with the first page's
	// cursor, so that a client following end_cursor goes c1 → c2 → c1 → c2 … for ever.
	LoopingCursors bool
}

// Registry is the demo registry: an http.Handler serving the upstream's routes (without the
// /registry/v0 prefix) from the generated dataset, plus counters for tests and benchmarks.
// It is safe for concurrent use.
type Registry struct {
	// dmu guards d and fetches against Step: answers read under RLock, a change writes under Lock.
	dmu sync.RWMutex
	d   *dataset

	mu   sync.Mutex // guards opts and rng
	opts Options
	rng  *rand.Rand

	requests atomic.Int64
	fetches  []atomic.Int64 // by batch index: 200 answers of GET /credit_batches/{id}

	changes changer // the state of Step (changes.go), guarded by dmu
}

// New builds the dataset (the same on every call) and returns a registry answering with opts.
func New(opts Options) *Registry {
	d := build()
	r := &Registry{d: d, fetches: make([]atomic.Int64, len(d.batches))}
	r.SetOptions(opts)
	return r
}

// SetOptions changes latency and fault injection for the requests that start after it returns.
// It reseeds the fault sequence from opts.Seed.
func (r *Registry) SetOptions(opts Options) {
	opts.FaultRate = min(max(opts.FaultRate, 0), 1)
	opts.Latency = max(opts.Latency, 0)
	opts.RetryAfter = max(opts.RetryAfter, 0)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts = opts
	r.rng = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x6a09e667f3bcc909))
}

// Requests is the number of requests answered since New or ResetStats, every status included.
func (r *Registry) Requests() int64 { return r.requests.Load() }

// BatchFetches is how many times GET /credit_batches/{id} was answered 200 for id, which is what
// the cache and deduplication budgets are measured by. Unknown ids give 0.
func (r *Registry) BatchFetches(id string) int64 {
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	i, ok := r.d.index[id]
	if !ok {
		return 0
	}
	return r.fetches[i].Load()
}

// FetchSummary sums BatchFetches over every batch: answers is their total, distinct the
// batches fetched at least once, and most the largest count of any one batch (1 when every
// batch was fetched at most once).
func (r *Registry) FetchSummary() (answers int64, distinct int, most int64) {
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	for i := range r.fetches {
		n := r.fetches[i].Load()
		answers += n
		if n > 0 {
			distinct++
		}
		most = max(most, n)
	}
	return answers, distinct, most
}

// ResetStats zeroes Requests and every BatchFetches counter.
func (r *Registry) ResetStats() {
	r.requests.Store(0)
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	for i := range r.fetches {
		r.fetches[i].Store(0)
	}
}

// Fixtures returns the well-known ids of the dataset (the same on every run).
func (r *Registry) Fixtures() Fixtures { return r.d.fixtures }

// Batch returns the dataset's record for a credit batch id, as GET /credit_batches/{id} would
// answer it, decoded into the registry package's type; ok is false when the registry would answer
// 404. It is meant for test expectations and does not count as a fetch.
func (r *Registry) Batch(id string) (registry.CreditBatch, bool) {
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	i, ok := r.d.index[id]
	if !ok {
		return registry.CreditBatch{}, false
	}
	var b registry.CreditBatch
	if err := jsonRoundTrip(r.d.wireBatch(i), &b); err != nil {
		panic("demo: batch does not decode into registry.CreditBatch: " + err.Error())
	}
	return b, true
}

// Children returns the records of b's children that the dataset holds (none for a leaf; a
// planted dangling child is left out), for test expectations; not counted as fetches.
func (r *Registry) Children(b registry.CreditBatch) []registry.CreditBatch {
	var out []registry.CreditBatch
	for _, id := range b.Children() {
		if c, ok := r.Batch(id); ok {
			out = append(out, c)
		}
	}
	return out
}

// BatchCount is the number of credit batches in the dataset (every tree, planted ones included).
func (r *Registry) BatchCount() int {
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	return len(r.d.batches)
}

type faultKind int

const (
	noFault faultKind = iota
	fault429
	fault503
)

func (r *Registry) snapshot() Options {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opts
}

func (r *Registry) drawFault(rate float64) faultKind {
	if rate <= 0 {
		return noFault
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rng.Float64() >= rate {
		return noFault
	}
	if r.rng.IntN(2) == 0 {
		return fault429
	}
	return fault503
}

// ServeHTTP answers one request to the upstream's read routes, all GET (anything else is 405):
//
//	/credit_batches/{id}                  CreditBatch
//	/issuances                            PaginatedListResource[Issuance], newest first
//	/issuances/{id}                       Issuance
//	/issuances/{id}/credit_batches        IssuanceCreditBatches: the roots, as they are now
//	/retirements/{id}                     Retirement
//	/retirements/{id}/credit_batches      ListResource[CreditBatch]
//	/organisations/{id}                   Organisation
//	/organisations/{id}/credit_balance    OrganisationCreditBalance (UnbalancedOrganisation's is off)
//	/organisations/{id}/credit_batches    PaginatedListResource[CreditBatch], with its filters
//	/projects                             PaginatedListResource[Project], by name
//	/projects/{id}                        Project
//	/suppliers/{id}                       Supplier
//	/suppliers/{id}/issuances             PaginatedListResource[Issuance], newest first
//
// Paths carry no base prefix; mount the registry under one with http.StripPrefix. Sizes are kg
// (credit_kgs) with credits rendered from them to three decimals. The order of checks follows a
// FastAPI service behind a proxy: the proxy's latency and faults first, then routing (404/405),
// then authentication (401), then parameter validation (422), then lookup (404).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	opts := r.snapshot()
	if opts.Latency > 0 {
		t := time.NewTimer(opts.Latency)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return
		}
	}
	r.requests.Add(1)
	switch r.drawFault(opts.FaultRate) {
	case fault429:
		w.Header().Set("Retry-After", retryAfterSeconds(opts.RetryAfter))
		writeJSON(w, http.StatusTooManyRequests, detail{"Too many requests"})
		return
	case fault503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(proxyErrorPage))
		return
	}

	h, params, found := match(req.URL.Path)
	if !found {
		writeJSON(w, http.StatusNotFound, detail{"Not Found"})
		return
	}
	if req.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, detail{"Method Not Allowed"})
		return
	}
	if msg, ok := authenticate(req); !ok {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeJSON(w, http.StatusUnauthorized, detail{msg})
		return
	}
	r.dmu.RLock()
	defer r.dmu.RUnlock()
	h(r, w, req, params)
}

// authenticate never echoes what was presented: a rejected secret must not end up in logs or
// error pages of the client.
func authenticate(req *http.Request) (string, bool) {
	auth := req.Header.Get("Authorization")
	secret := req.Header.Get("X-Client-Secret")
	if auth == "" || secret == "" {
		return "Not authenticated", false
	}
	scheme, token, _ := strings.Cut(auth, " ")
	okToken := strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(AccessToken)) == 1
	okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) == 1
	if !okToken || !okSecret {
		return "Invalid authentication credentials", false
	}
	return "", true
}

func retryAfterSeconds(d time.Duration) string {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return itoa(s)
}

// proxyErrorPage is what an nginx in front of the API sends when the upstream is down: clients
// must cope with a body that is not JSON.
const proxyErrorPage = `<html>
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<center><h1>503 Service Temporarily Unavailable</h1></center>
<hr><center>nginx</center>
</body>
</html>
`
