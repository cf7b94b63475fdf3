package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/registry/watch"
)

// Metrics are the explorer's Prometheus metrics (prometheus/client_golang), in a registry of
// their own so that tests can make several. Create it before the Explorer and pass ObserveWalk
// as ExplorerConfig.OnWalk; then Attach the explorer.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	upstream        *prometheus.CounterVec
	upstreamTime    *prometheus.HistogramVec
	upstreamRetry   prometheus.Counter
	walkDuration    *prometheus.HistogramVec
	treeBatches     prometheus.Histogram
	treeProblems    prometheus.Histogram
	serialLookups   *prometheus.CounterVec
	attached        bool
	rendersAttached bool
	historyAttached bool
	watchAttached   bool
}

// NewMetrics registers every metric but those read from an Explorer (see Attach).
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lineage_http_requests_total",
		Help: "HTTP requests answered, by route template, method and status."}, []string{"route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lineage_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route template.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.upstream = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lineage_upstream_requests_total",
		Help: "Requests sent to the Isometric Registry API (retries included), by endpoint and status (0: no answer)."}, []string{"endpoint", "status"})
	m.upstreamTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lineage_upstream_request_duration_seconds",
		Help: "Time of one upstream request, by endpoint.", Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}}, []string{"endpoint"})
	m.upstreamRetry = prometheus.NewCounter(prometheus.CounterOpts{Name: "lineage_upstream_retries_total",
		Help: "Upstream requests that were retries (after 429, 502-504 or a transport failure)."})
	m.walkDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lineage_walk_duration_seconds",
		Help: "Time of a lineage walk, by outcome.", Buckets: []float64{.005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"outcome"})
	m.treeBatches = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lineage_tree_batches",
		Help: "Nodes of the lineage trees walked.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)})
	m.treeProblems = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lineage_tree_problems",
		Help: "Problems found in the lineage trees walked.", Buckets: []float64{0, 1, 2, 5, 10, 50, 100}})
	m.serialLookups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lineage_serial_lookups_total",
		Help: "Serial number lookups, by outcome (exact, contained, not_found, invalid, error)."}, []string{"outcome"})
	for _, c := range []prometheus.Collector{m.httpRequests, m.httpDuration, m.upstream, m.upstreamTime, m.upstreamRetry,
		m.walkDuration, m.treeBatches, m.treeProblems, m.serialLookups} {
		f(c)
	}
	m.readAtScrape("lineage_auth_key_fetches_total", "Fetches of the sign-in proxy's keys (AUTH_JWKS_URL), successful or not: "+
		"at most one per cooldown, however many assertions name a key the explorer lacks.", true, func() float64 { return float64(keyFetches.Load()) })
	return m
}

// Attach reads the explorer's counters (cache, shared tier when there is one, upstream) at
// scrape time and observes every upstream request. Call it once; later calls do nothing.
func (m *Metrics) Attach(e *lineage.Explorer) {
	if m.attached {
		return
	}
	m.attached = true
	e.Observe(m.observeUpstream)
	gauge := func(name, help string, v func(lineage.CacheStats) float64, counter bool) {
		m.readAtScrape(name, help, counter, func() float64 { return v(e.Stats().Cache) })
	}
	gauge("lineage_cache_hits_total", "Batch lookups answered from the in-process cache.", func(s lineage.CacheStats) float64 { return float64(s.Hits) }, true)
	gauge("lineage_cache_misses_total", "Batch lookups that went upstream (or joined a fetch under way).", func(s lineage.CacheStats) float64 { return float64(s.Misses) }, true)
	gauge("lineage_cache_shared_total", "Misses that joined another request's upstream fetch.", func(s lineage.CacheStats) float64 { return float64(s.Shared) }, true)
	gauge("lineage_cache_evictions_total", "Entries evicted to keep the cache within its bound.", func(s lineage.CacheStats) float64 { return float64(s.Evictions) }, true)
	gauge("lineage_cache_entries", "Entries in the in-process cache now.", func(s lineage.CacheStats) float64 { return float64(s.Entries) }, false)
	m.readAtScrape("lineage_batches_by_id_total", "Batches fetched from the registry one by one (GET /credit_batches/{id}).", true,
		func() float64 { return float64(e.Stats().ByID) })
	m.readAtScrape("lineage_batches_listed_total", "Batches learnt from the registry's list routes and put in the cache (the walk's planner); "+
		"a batch listed twice counts twice.", true, func() float64 { return float64(e.Stats().Planner.Listed) })
	m.readAtScrape("lineage_list_refusals_total", "Lists of an organisation's batches the registry refused (403, 404, 422); "+
		"each is remembered for a while and the walk fetches by id meanwhile.", true, func() float64 { return float64(e.Stats().Planner.Refusals) })
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lineage_upstream_in_flight",
		Help: "Upstream requests under way now (at most UPSTREAM_CONCURRENCY)."}, func() float64 { return float64(e.Stats().Upstream.InFlight) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lineage_serial_index_degraded",
		Help: "1 while the serial index is incomplete because the registry's listing of issuances never ends, else 0."}, func() float64 {
		if e.SerialIndex().Status().Degraded != "" {
			return 1
		}
		return 0
	}))
	if e.Stats().Shared != nil {
		m.attachShared(func() lineage.SharedStats { return *e.Stats().Shared })
	}
}

// attachShared reads the shared tier's counters at scrape time.
func (m *Metrics) attachShared(stats func() lineage.SharedStats) {
	counter := func(name, help string, v func(lineage.SharedStats) int64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(stats())) }))
	}
	counter("lineage_shared_cache_hits_total", "Batch lookups answered from the shared tier (Redis).", func(s lineage.SharedStats) int64 { return s.Hits })
	counter("lineage_shared_cache_misses_total", "Batch lookups the shared tier could not answer.", func(s lineage.SharedStats) int64 { return s.Misses })
	counter("lineage_shared_cache_errors_total", "Shared tier calls that failed (timeouts, refused connections, error replies).", func(s lineage.SharedStats) int64 { return s.Errors })
	counter("lineage_shared_cache_skipped_total", "Shared tier calls skipped while its circuit breaker was open.", func(s lineage.SharedStats) int64 { return s.Skipped })
	counter("lineage_shared_cache_lease_waits_total", "Lookups that waited for another replica's fetch of the same batch.", func(s lineage.SharedStats) int64 { return s.LeaseWaits })
	counter("lineage_shared_cache_leases_total", "Batches this replica fetched on behalf of all replicas.", func(s lineage.SharedStats) int64 { return s.Leases })
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lineage_shared_cache_degraded",
		Help: "1 while the shared tier is degraded (down, slow or full), else 0."}, func() float64 {
		if stats().State == "ok" {
			return 0
		}
		return 1
	}))
}

// readAtScrape registers a counter (or gauge) whose value fn reads when Prometheus scrapes.
func (m *Metrics) readAtScrape(name, help string, counter bool, fn func() float64) {
	if counter {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
	} else {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
	}
}

// attachHistory reads the history journal's counters at scrape time.
func (m *Metrics) attachHistory(j *history.Journal) {
	if m.historyAttached {
		return
	}
	m.historyAttached = true
	read := func(name, help string, v func(history.Stats) int64) {
		m.readAtScrape(name, help, true, func() float64 { return float64(v(j.Stats())) })
	}
	read("lineage_history_batches_recorded_total", "Batches compared with the history journal's last record of them.", func(s history.Stats) int64 { return s.Recorded })
	read("lineage_history_events_total", "Changes appended to the history journal by this replica.", func(s history.Stats) int64 { return s.Events })
	read("lineage_history_stale_total", "Copies of batches not recorded in the history because they were older than the recorded state (a split or retired batch seen with another status).", func(s history.Stats) int64 { return s.Stale })
	read("lineage_history_dropped_total", "Batches not recorded in the history because its queue was full (the database slower than the walks).", func(s history.Stats) int64 { return s.Dropped })
	read("lineage_history_failed_total", "Batches not recorded in the history because its database failed.", func(s history.Stats) int64 { return s.Failed })
}

// attachWatch reads the watch poller's counters at scrape time.
func (m *Metrics) attachWatch(p *watch.Poller) {
	if m.watchAttached {
		return
	}
	m.watchAttached = true
	read := func(name, help string, counter bool, v func(watch.Stats) int64) {
		m.readAtScrape(name, help, counter, func() float64 { return float64(v(p.Stats())) })
	}
	read("lineage_watch_polls_total", "Polls of the watched trees finished.", true, func(s watch.Stats) int64 { return s.Polls })
	read("lineage_watch_requests_total", "Batches the watch poller asked of the registry (one upstream request each, retries aside): the unit of WATCH_BUDGET.", true, func(s watch.Stats) int64 { return s.Requests })
	read("lineage_watch_changes_total", "Changes seen in watched trees (a change in a tree two watches follow counts twice).", true, func(s watch.Stats) int64 { return s.Changes })
	read("lineage_watch_skipped_total", "Active batches of watched trees left unpolled because WATCH_BUDGET was spent.", true, func(s watch.Stats) int64 { return s.Skipped })
	read("lineage_watch_failed_total", "Active batches of watched trees whose poll failed (the registry did not answer).", true, func(s watch.Stats) int64 { return s.Failed })
	read("lineage_watch_trees_behind", "Watched trees the last poll could not poll whole (budget spent or registry failing); said on /watch.", false, func(s watch.Stats) int64 { return s.Behind })
	read("lineage_watch_deliveries_total", "Webhook deliveries accepted.", true, func(s watch.Stats) int64 { return s.Delivered })
	read("lineage_watch_deliveries_failed_total", "Webhook deliveries that failed after their retries (sent again with the next poll's changes).", true, func(s watch.Stats) int64 { return s.Undeliver })
}

// attachRenders reads the render cache's counters at scrape time.
func (m *Metrics) attachRenders(rc *renderCache) {
	if m.rendersAttached {
		return
	}
	m.rendersAttached = true
	read := func(name, help string, counter bool, v func(renderCacheStats) float64) {
		m.readAtScrape(name, help, counter, func() float64 { return v(rc.stats()) })
	}
	read("lineage_render_cache_hits_total", "Lineage pages, fragments and exports served already rendered.", true, func(s renderCacheStats) float64 { return float64(s.Hits) })
	read("lineage_render_cache_misses_total", "Requests for a lineage page, fragment or export not yet rendered (they render it or join its render).", true, func(s renderCacheStats) float64 { return float64(s.Misses) })
	read("lineage_render_cache_renders_total", "Lineage pages, fragments and exports built from a finished walk (once per tree and variant while kept).", true, func(s renderCacheStats) float64 { return float64(s.Renders) })
	read("lineage_render_cache_evictions_total", "Rendered answers dropped to keep the render cache within its byte bound.", true, func(s renderCacheStats) float64 { return float64(s.Evictions) })
	read("lineage_render_cache_bytes", "Bytes kept by the render cache now (bodies and their gzip forms).", false, func(s renderCacheStats) float64 { return float64(s.Bytes) })
}

func (m *Metrics) observeUpstream(ev registry.RequestEvent) {
	m.upstream.WithLabelValues(ev.Endpoint, strconv.Itoa(ev.Status)).Inc()
	m.upstreamTime.WithLabelValues(ev.Endpoint).Observe(ev.Duration.Seconds())
	if ev.Retry {
		m.upstreamRetry.Inc()
	}
}

// ObserveWalk records one lineage walk; it has the shape of lineage.ExplorerConfig.OnWalk.
func (m *Metrics) ObserveWalk(tree *lineage.Tree, err error, took time.Duration) {
	outcome := "ok"
	switch {
	case err == nil:
		m.treeBatches.Observe(float64(tree.Len()))
		m.treeProblems.Observe(float64(len(tree.Problems)))
	case classify(err) == kindNotFound:
		outcome = "not_found"
	case classify(err) == kindInvalid:
		outcome = "invalid"
	default:
		outcome = "error"
	}
	m.walkDuration.WithLabelValues(outcome).Observe(took.Seconds())
}

// ObserveSerialLookup counts one serial number lookup by outcome.
func (m *Metrics) ObserveSerialLookup(outcome string) { m.serialLookups.WithLabelValues(outcome).Inc() }

// middleware counts every request by route template (never the raw path: ids would make the
// label set unbounded). base is the server's base path, which routeLabel takes off.
func (m *Metrics) middleware(base string) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := routeLabel(base, c.FullPath())
		m.httpRequests.WithLabelValues(route, methodLabel(c.Request.Method), strconv.Itoa(c.Writer.Status())).Inc()
		m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

// methodLabel is the method label: the methods HTTP defines by name, anything else a client
// invents ("FOO1") as "other", so that clients cannot grow the label set without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// routeLabel is the route label of a request gin matched to the template full: the template as
// the app names it, without the base path, so that dashboards and alerts read the same in every
// deployment. The probes also answered at the root under a base path get the label of their
// twin under it ("/healthz"): they are the same check, and appPath leaves a path outside the
// base path as it is. "" (no route: 404, 405, trailing-slash redirects) is "unmatched".
func routeLabel(base, full string) string {
	if full == "" {
		return "unmatched"
	}
	return appPath(base, full)
}

// handler serves /metrics in the Prometheus text format.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
