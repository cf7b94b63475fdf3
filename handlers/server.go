// Package handlers is the explorer's web layer: gin routes and middleware that parse a request,
// ask the registry's Explorer, pick a view and map errors to statuses in one place. The
// handlers are thin: decisions live in small pure functions (see search.go), tree layout in
// views, and everything about the upstream in registry.
package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/registry/watch"
	"github.com/lineage-explorer/explorer/views"
)

// Config wires the handlers to their dependencies. Explorer is required; zero values elsewhere
// take the defaults given.
type Config struct {
	// Explorer answers every question about the registry.
	Explorer *lineage.Explorer
	// Demo marks every page with the demo-data banner (the built-in demo registry is served).
	Demo bool
	// Examples are batches listed on the home page (the demo registry's fixtures).
	Examples []views.Example
	// Logger receives one line per request and the details of every 5xx. Default slog.Default().
	Logger *slog.Logger
	// ProgressWait is how long a lineage page waits for a walk before it answers with a
	// progress page that refreshes itself. Default 400ms.
	ProgressWait time.Duration
	// FragmentWait bounds how long a subtree fragment, an export or a JSON answer waits for a
	// walk before it answers 202 with the walk's progress and Retry-After. Default 5s: clients
	// and proxies commonly give up after 10 to 30 s, and a 202 they can poll is better than a
	// connection they cut.
	FragmentWait time.Duration
	// ReadyTTL is how long a readiness check's answer is reused, so that probes do not each cost
	// an upstream call. Default 5s.
	ReadyTTL time.Duration
	// Lineage bounds what a lineage page renders (see views.LineageOptions).
	Lineage views.LineageOptions
	// Auth checks who may use the explorer (NewAuthenticator); nil lets everyone in.
	Auth *Authenticator
	// TrustedProxies are the networks of the reverse proxy in front (TRUSTED_PROXIES): gin reads
	// client addresses from forwarded headers only when they come from there.
	TrustedProxies []netip.Prefix
	// Metrics, if set, counts every request and serves /metrics.
	Metrics *Metrics
	// BasePath is the path prefix the app is served under (BASE_PATH, such as "/lineage"),
	// as checked by CleanBasePath; "" or "/" serves it at the root. Every route, link, asset,
	// redirect and fragment URL carries it; the probes also stay at the root.
	BasePath string
	// RenderCacheBytes bounds the memory kept by rendered lineage pages, fragments and exports
	// of finished walks (raw and gzip-compressed), in bytes. Default DefaultRenderCacheBytes.
	RenderCacheBytes int64
	// Claims configures the claims check (/claims).
	Claims ClaimsConfig
	// History is the journal of observed changes (the lineage page's History section and
	// /api/v1/batches/{id}/history); nil keeps none.
	History *history.Journal
	// DemoChangeEvery is how often the demo registry changes (DEMO_CHANGE_EVERY), said on the
	// home page; 0: it does not.
	DemoChangeEvery time.Duration
	// Watch polls the watched trees (/watch, /api/v1/watches, whose lists History keeps); nil,
	// or History nil, keeps no watch lists.
	Watch *watch.Poller
}

type server struct {
	explorer     *lineage.Explorer
	demo         bool
	examples     []views.Example
	log          *slog.Logger
	progressWait time.Duration
	fragmentWait time.Duration
	lineage      views.LineageOptions
	ready        *readiness
	fallback500  []byte
	auth         *Authenticator
	proxies      []netip.Prefix
	metrics      *Metrics
	basePath     string // "" at the root, else "/prefix" with no trailing slash
	renders      *renderCache
	claims       *claimsState
	history      *history.Journal // nil: no history kept
	demoChanges  time.Duration    // how often the demo registry changes; 0: never
	watch        *watch.Poller    // nil: no watch lists
}

// New returns the explorer's HTTP handler with every route registered. It panics if
// cfg.Explorer is nil: that is a wiring mistake, not a run-time condition.
func New(cfg Config) http.Handler {
	if cfg.Explorer == nil {
		panic("handlers: Config.Explorer is required")
	}
	base, err := CleanBasePath(cfg.BasePath)
	if err != nil {
		panic("handlers: Config.BasePath: " + err.Error()) // the caller was to check it
	}
	s := &server{
		basePath:     base,
		explorer:     cfg.Explorer,
		demo:         cfg.Demo,
		examples:     cfg.Examples,
		log:          cfg.Logger,
		progressWait: cfg.ProgressWait,
		fragmentWait: cfg.FragmentWait,
		lineage:      cfg.Lineage,
		auth:         cfg.Auth,
		proxies:      cfg.TrustedProxies,
		metrics:      cfg.Metrics,
		renders:      newRenderCache(cfg.RenderCacheBytes),
		history:      cfg.History,
		demoChanges:  cfg.DemoChangeEvery,
		watch:        cfg.Watch,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.progressWait <= 0 {
		s.progressWait = 400 * time.Millisecond
	}
	if s.fragmentWait <= 0 {
		s.fragmentWait = 5 * time.Second
	}
	ttl := cfg.ReadyTTL
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	s.claims = newClaimsState(s, cfg.Claims)
	s.ready = &readiness{ping: cfg.Explorer.Ready, ttl: ttl}
	s.fallback500 = s.renderFallback()
	engine := s.routes()
	// gin's trailing-slash redirect (/batches/x/ to /batches/x) runs before any middleware
	// and puts the client's X-Forwarded-Prefix in front of the Location: gin keeps it on this
	// host, but anyone could still point a cacheable 301 at another path of it, outside the
	// base path. Nothing here reads that header (the base path is configuration), so it is
	// dropped before gin sees it.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("X-Forwarded-Prefix")
		engine.ServeHTTP(w, r)
	})
}

// routes is every route of the application, in one list: long because it is that list, so
// that a newcomer finds every route in one place.
func (s *server) routes() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	// Client addresses come from forwarded headers only when the direct peer is the configured
	// proxy (never "trust all"): a forged X-Forwarded-For must not end up in the logs.
	proxies := make([]string, len(s.proxies))
	for i, p := range s.proxies {
		proxies[i] = p.String()
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		panic("handlers: trusted proxies: " + err.Error()) // ParseCIDRs has checked them
	}
	r.Use(s.recoverPanics, s.withBasePath, requestID, s.logRequests, securityHeaders)
	if s.metrics != nil {
		r.Use(s.metrics.middleware(s.basePath))
		s.metrics.Attach(s.explorer)
		s.metrics.attachRenders(s.renders)
		if s.history != nil {
			s.metrics.attachHistory(s.history)
		}
		if s.watching() {
			s.metrics.attachWatch(s.watch)
		}
	}
	if s.auth != nil {
		r.Use(s.auth.middleware(s.basePath, s.failByPath))
	}

	// Every route lives under the base path (the root group when there is none); a request
	// outside it finds no route and gets the 404 page, whose links lead back inside.
	g := r.Group(s.basePath)
	page := func(path string, h pageHandler) {
		g.GET(path, s.page(h))
		g.HEAD(path, s.page(h))
	}
	api := func(path string, h apiHandler) {
		g.GET(path, s.api(h))
		g.HEAD(path, s.api(h))
	}
	page("/", s.home)
	page("/search", s.search)
	page("/batches/:id", s.batch)
	page("/batches/:id/subtree/:node", s.subtree)
	page("/batches/:id/lineage.csv", s.lineageCSV)
	page("/batches/:id/chart", s.chart)
	api("/api/v1/batches/:id/lineage", s.lineageJSON)
	api("/api/v1/batches/:id/history", s.batchHistoryJSON)
	page("/serial/:serial", s.serial)
	page("/issuances/:id", s.issuanceRoute().html(s))
	page("/retirements/:id", s.retirementRoute().html(s))
	api("/api/v1/serial/:serial", s.serialJSON)
	api("/api/v1/issuances/:id", s.issuanceRoute().json(s))
	api("/api/v1/retirements/:id", s.retirementRoute().json(s))
	page("/issuances/:id/issuance.csv", s.issuanceRoute().csv(s, "issuance", views.IssuanceCSVURL, lineage.WriteIssuanceCSV))
	page("/retirements/:id/retirement.csv", s.retirementRoute().csv(s, "retirement", views.RetirementCSVURL, lineage.WriteRetirementCSV))
	page("/projects/:id", s.project)
	page("/organisations/:id", s.organisation)
	api("/api/v1/projects/:id", s.projectJSON)
	api("/api/v1/organisations/:id", s.organisationJSON)
	page("/claims", s.claimsForm)
	g.POST("/claims", s.sameOrigin, s.page(s.claimsPost))
	page("/claims/:id", s.claimsResult)
	page("/claims/:id/results.csv", s.claimsCSV)
	api("/claims/:id/results.json", s.claimsJSON)
	g.POST("/api/v1/claims", s.sameOrigin, s.api(s.claimsAPI))
	api("/api/v1/claims/:id", s.claimsJSON)
	page("/watch", s.watchPage)
	g.POST("/watch", s.sameOrigin, s.page(s.watchAdd))
	g.POST("/watch/webhook", s.sameOrigin, s.page(s.watchWebhook))
	g.POST("/watch/:id/delete", s.sameOrigin, s.page(s.watchDelete))
	api("/api/v1/watches", s.watchesJSON)
	g.POST("/api/v1/watches", s.sameOrigin, s.api(s.watchesAdd))
	g.DELETE("/api/v1/watches/:id", s.sameOrigin, s.api(s.watchesDelete))

	for _, m := range []string{http.MethodGet, http.MethodHead} {
		g.Handle(m, "/static/*file", s.static())
		// Probes and scrapes are also answered at the root under a base path: kubelets,
		// container health checks (explorer healthcheck) and Prometheus usually reach the
		// pod directly, not through the proxy that owns the prefix.
		groups := []*gin.RouterGroup{g}
		if s.basePath != "" {
			groups = append(groups, &r.RouterGroup)
		}
		for _, pg := range groups {
			pg.Handle(m, "/healthz", s.healthz)
			pg.Handle(m, "/readyz", s.readyz)
			if s.metrics != nil {
				pg.Handle(m, "/metrics", gin.WrapH(s.metrics.handler()))
			}
		}
	}
	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)
	return r
}

// pageHandler serves one HTML page: it renders on success and returns an error otherwise,
// which page turns into the error page with the status statusFor picks.
type pageHandler func(c *gin.Context) error

func (s *server) page(h pageHandler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.fail(c, err)
		}
	}
}

// base is the layout data every page starts from.
func (s *server) base(title string) views.Base {
	return views.Base{Title: title, Demo: s.demo, Watching: s.watching()}
}

// render writes a page rendered in full first, so that a failure half-way becomes a clean
// 500 page rather than half a page. HEAD gets the same headers without the body (net/http
// drops it).
func (s *server) render(c *gin.Context, status int, page templ.Component) {
	var buf bytes.Buffer
	if err := page.Render(c.Request.Context(), &buf); err != nil {
		if c.Request.Context().Err() != nil {
			c.Abort() // the client left; nobody to answer
			return
		}
		s.log.Error("render failed", "path", c.Request.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.Write(s.fallback500)
	}
	body := buf.Bytes()
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "Accept-Encoding")
	// A large tree's page is mostly repeated markup: compressed it is about a tenth, which
	// matters on a slow VPN. Pages are compressed here, whole, since they are rendered whole.
	if len(body) > 8<<10 && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		if z, ok := gzipped(body, gzip.BestSpeed); ok {
			body = z
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if status != http.StatusOK {
		h.Set("Cache-Control", "no-store") // progress and error pages must not be reused
	}
	c.Status(status)
	_, _ = c.Writer.Write(body)
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip.
func acceptsGzip(header string) bool { return accepts(header, "gzip") }

// gzipped is body compressed at level (a gzip constant); ok is false when compression failed,
// and the caller then sends body as it is.
func gzipped(body []byte, level int) (z []byte, ok bool) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, false
	}
	_, _ = zw.Write(body)
	if zw.Close() != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// accepts reports whether an Accept or Accept-Encoding header value names token (case
// aside) without refusing it by q=0. Wildcards ("*/*", "*") do not count: callers ask whether
// the client named the thing, as a browser names text/html and gzip.
func accepts(header, token string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), token) {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// renderFallback renders, once at start-up, the page served when rendering itself fails.
func (s *server) renderFallback() []byte {
	var buf bytes.Buffer
	p := views.ErrorPage{Base: s.base("Error"), Status: http.StatusInternalServerError,
		Heading: "Something went wrong on our side", Message: "The page could not be rendered. Please try again; if it keeps happening, tell the team that runs this explorer."}
	if err := views.Error(p).Render(views.WithBasePath(context.Background(), s.basePath), &buf); err != nil {
		return []byte("<!DOCTYPE html><title>Error</title><h1>500 Internal Server Error</h1>")
	}
	return buf.Bytes()
}
