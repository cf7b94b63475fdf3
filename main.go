// Command explorer is the credit-batch lineage explorer: a web app that shows where a carbon
// removal credit batch came from, where its credits went, and whether the record adds up.
//
//	explorer                  serve (configured from the environment, see config below)
//	explorer demo-registry    serve only the built-in demo registry
//	explorer bench            measure lineage walks against the demo registry
//	explorer healthcheck      exit 0 if the server on PORT answers /healthz (for containers)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lineage-explorer/explorer/handlers"
	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/benchmark"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/views"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "explorer:", err)
		os.Exit(1)
	}
}

// run is the whole program; it returns when ctx is cancelled (after a graceful shutdown) or
// on a configuration or start-up error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo-registry":
			return demo.RunCommand(ctx, args[1:], stdout)
		case "bench":
			return benchmark.Run(ctx, args[1:], stdout)
		case "healthcheck":
			return healthcheck(ctx, getenv)
		}
	}
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr)
	for _, w := range cfg.warnings {
		log.Warn(w)
	}
	authCfg, err := handlers.AuthConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	auth, err := handlers.NewAuthenticator(ctx, authCfg)
	if err != nil {
		return err
	}
	if authCfg.Mode == handlers.AuthNone {
		log.Warn("AUTH_MODE=none: anyone who can reach this port can use the explorer; run it behind your SSO proxy with AUTH_MODE=header or jwt")
	} else {
		log.Info("sign-in", "auth_mode", authCfg.Mode, "trusted_proxies", len(authCfg.TrustedProxies),
			"allowed_emails", len(authCfg.AllowEmails), "allowed_domains", len(authCfg.AllowDomains), "allowed_groups", len(authCfg.AllowGroups))
	}
	shared, err := openShared(getenv("REDIS_URL"), log)
	if err != nil {
		return err
	}
	if shared != nil {
		defer shared.Close()
	}
	metrics := handlers.NewMetrics()

	client, examples, stopDemo, err := connect(cfg)
	if err != nil {
		return err
	}
	defer stopDemo()
	cacheCfg := cache.Config{TTL: cfg.cacheTTL}
	if shared != nil {
		cacheCfg.Shared = shared
	}
	explorer := lineage.NewExplorer(client, lineage.ExplorerConfig{
		Cache:  cacheCfg,
		OnWalk: metrics.ObserveWalk,
		// The node bound is raised from the walker's default so that trees of a few tens of
		// thousands of batches show whole; pages stay small because views collapse them.
		Walker: lineage.WalkerConfig{Workers: cfg.concurrency, MaxNodes: maxTreeNodes},
		// The indexer takes at most two upstream slots of UPSTREAM_CONCURRENCY, so pages
		// keep the rest; lookups never wait for a pass beyond the root they need.
		SerialIndex: lineage.SerialIndexConfig{Interval: cfg.serialIndexInterval, Logger: log},
	})
	// Serial lookups need the index of issuances: build it now rather than on the first
	// lookup, and keep it fresh. It stops before the server returns.
	stopIndex := explorer.SerialIndex().Start(ctx)
	defer stopIndex()
	metrics.Attach(explorer)

	gin.SetMode(gin.ReleaseMode)
	srv := &http.Server{
		Handler: handlers.New(handlers.Config{Explorer: explorer, Demo: cfg.demo, Examples: examples, Logger: log,
			Auth: auth, TrustedProxies: authCfg.TrustedProxies, Metrics: metrics, BasePath: cfg.basePath}),
		MaxHeaderBytes:    64 << 10, // ids and serials are short; large headers are abuse
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // above the 5 s an export waits for a walk, with room for a large one's bytes
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.port))
	if err != nil {
		return fmt.Errorf("PORT: cannot listen on %d: %w", cfg.port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	upstream := cfg.apiURL
	if cfg.demo {
		upstream = "the built-in demo registry (made-up data)"
	}
	open := fmt.Sprintf("http://localhost:%d%s/", port, cfg.basePath)
	// Someone who typed `go run .` wants the address to click; a log collector wants JSON
	// only, so the friendly line goes to a terminal alone.
	if isTerminal(stdout) {
		fmt.Fprintf(stdout, "Serving %s. Open %s\n", upstream, open)
	}
	log.Info("listening", "port", port, "upstream", upstream, "open", open)
	// Whoever starts it should learn at once, in the log, if the credentials are wrong: pages
	// and /readyz say so too, but only when someone asks.
	go func() {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		switch err := client.Ping(pctx); {
		case err == nil:
			log.Info("registry reachable, credentials accepted")
		case errors.Is(err, registry.ErrCredentials):
			log.Error("the registry rejected ISOMETRIC_ACCESS_TOKEN / ISOMETRIC_CLIENT_SECRET: every page will say so until they are fixed", "err", err)
		case ctx.Err() == nil:
			log.Warn("the registry cannot be reached yet; pages will retry", "err", err)
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newLogger logs as text on a terminal and as JSON otherwise (a container's log collector).
func newLogger(w io.Writer) *slog.Logger {
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// isTerminal reports whether w is a terminal (a person is reading), not a pipe or a file.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openShared opens the Redis tier shared by replicas when REDIS_URL is set (nil otherwise).
// Opening does no I/O: a Redis that is down only degrades the tier, never stops start-up.
func openShared(url string, log *slog.Logger) (*rediscache.Tier, error) {
	if strings.TrimSpace(url) == "" {
		return nil, nil
	}
	rediscache.SetLogger(log)
	tier, err := rediscache.Open(strings.TrimSpace(url), rediscache.Config{})
	if err != nil {
		return nil, err // rediscache.ParseURL's errors name REDIS_URL
	}
	// One ping so that the log says what is true at start, off the start-up path: a Redis
	// that does not answer must not delay serving, and the tier keeps retrying anyway.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := tier.Health(ctx); err != nil {
			log.Warn("shared cache unreachable: serving from this replica's own cache until it answers", "redis", tier.Target(), "err", err)
		} else {
			log.Info("shared cache ready", "redis", tier.Target())
		}
	}()
	return tier, nil
}

// maxTreeNodes bounds the batches of one lineage walk (about 1 KB of memory each).
const maxTreeNodes = 60_000

// config is the explorer's configuration, from the environment with flags mirroring it
// (PRODUCT.md's table; the secrets have no flags, so that they never show in a process list).
type config struct {
	port         int
	apiURL       string
	accessToken  string
	clientSecret string
	demo         bool // serve the built-in demo registry (DEMO=1, or no client secret)
	concurrency  int
	cacheTTL     time.Duration
	// serialIndexInterval is how often the serial number index lists the issuances again to
	// learn new ones (SERIAL_INDEX_INTERVAL).
	serialIndexInterval time.Duration
	// basePath is the path prefix the app is served under (BASE_PATH): "" at the root, else
	// such as "/lineage", as handlers.CleanBasePath returns it.
	basePath string
	warnings []string
}

// loadConfig reads and checks the configuration. Every error names the variable at fault.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("explorer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: explorer [flags]            serve the lineage explorer (README: configuration)
       explorer demo-registry [-h]  serve the built-in demo registry on its own
       explorer bench [-h]          measure walks against the demo registry
       explorer healthcheck         exit 0 when the explorer on PORT answers /healthz

Flags (each mirrors an environment variable; the secrets are read from the environment only):
`)
		fs.PrintDefaults()
	}
	port := fs.String("port", env("PORT", "8080"), "HTTP port to listen on (PORT)")
	apiURL := fs.String("api-url", env("ISOMETRIC_API_URL", registry.ProductionURL), "upstream base URL up to /registry/v0 (ISOMETRIC_API_URL)")
	demoFlag := fs.String("demo", env("DEMO", "0"), "1 serves the built-in demo registry (DEMO)")
	conc := fs.String("concurrency", env("UPSTREAM_CONCURRENCY", "8"), "most upstream requests in flight (UPSTREAM_CONCURRENCY)")
	ttl := fs.String("cache-ttl", env("CACHE_TTL", "5m"), "how long an active batch is trusted (CACHE_TTL)")
	indexEvery := fs.String("serial-index-interval", env("SERIAL_INDEX_INTERVAL", "5m"), "how often the serial index looks for new issuances (SERIAL_INDEX_INTERVAL)")
	basePath := fs.String("base-path", env("BASE_PATH", ""), "path prefix the app is served under behind a proxy, such as /lineage (BASE_PATH)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (commands: demo-registry, bench, healthcheck)", fs.Arg(0))
	}

	c := config{apiURL: *apiURL, accessToken: getenv("ISOMETRIC_ACCESS_TOKEN"), clientSecret: getenv("ISOMETRIC_CLIENT_SECRET")}
	var err error
	if c.port, err = strconv.Atoi(*port); err != nil || c.port < 0 || c.port > 65535 {
		return c, fmt.Errorf("PORT: must be a port number from 1 to 65535 (0 picks a free one), got %q", *port)
	}
	if c.demo, err = parseBool(*demoFlag); err != nil {
		return c, fmt.Errorf("DEMO: must be 1 or 0 (also true/false, yes/no, on/off), got %q", *demoFlag)
	}
	if c.concurrency, err = strconv.Atoi(*conc); err != nil || c.concurrency < 1 || c.concurrency > 256 {
		return c, fmt.Errorf("UPSTREAM_CONCURRENCY: must be a whole number from 1 to 256, got %q", *conc)
	}
	if c.cacheTTL, err = time.ParseDuration(*ttl); err != nil || c.cacheTTL < time.Second {
		return c, fmt.Errorf("CACHE_TTL: must be a duration of at least 1s, such as 5m or 90s, got %q", *ttl)
	}
	if c.serialIndexInterval, err = time.ParseDuration(*indexEvery); err != nil || c.serialIndexInterval < 10*time.Second {
		return c, fmt.Errorf("SERIAL_INDEX_INTERVAL: must be a duration of at least 10s, such as 5m or 1h, got %q", *indexEvery)
	}
	if c.basePath, err = handlers.CleanBasePath(*basePath); err != nil {
		return c, fmt.Errorf("BASE_PATH: %w", err)
	}
	if u, err := url.Parse(c.apiURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return c, fmt.Errorf("ISOMETRIC_API_URL: must be an absolute http(s) URL up to /registry/v0, such as %s", registry.ProductionURL)
	}
	switch {
	case c.demo:
		if c.clientSecret != "" {
			c.warnings = append(c.warnings, "DEMO is set: serving the built-in demo registry; the configured credentials are not used")
		}
	case c.clientSecret == "":
		c.demo = true
		if c.accessToken != "" {
			c.warnings = append(c.warnings, "ISOMETRIC_ACCESS_TOKEN is set but ISOMETRIC_CLIENT_SECRET is not: serving the built-in demo registry")
		}
	case c.accessToken == "":
		return c, errors.New("ISOMETRIC_ACCESS_TOKEN: must be set when ISOMETRIC_CLIENT_SECRET is")
	}
	return c, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// connect makes the upstream client: to the configured registry, or to the built-in demo
// registry started in process (then also the demo's batches worth opening, and its stop).
func connect(cfg config) (*registry.Client, []views.Example, func(), error) {
	if !cfg.demo {
		c, err := registry.NewClient(registry.ClientConfig{BaseURL: cfg.apiURL, AccessToken: cfg.accessToken,
			ClientSecret: cfg.clientSecret, Concurrency: cfg.concurrency})
		if err != nil {
			return nil, nil, nil, err
		}
		return c, nil, func() {}, nil
	}
	r := demo.New(demo.Options{})
	base, stop, err := demo.Start(r)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := registry.NewClient(registry.ClientConfig{BaseURL: base, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, Concurrency: cfg.concurrency})
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return c, demoExamples(r), stop, nil
}

func demoExamples(r *demo.Registry) []views.Example {
	f := r.Fixtures()
	n := views.FormatCount[int]
	ex := []views.Example{
		{Label: "The tip of a deep chain", ID: f.DeepChainLeaf, Description: "An active remainder " + n(f.DeepChainDepth) + " splits below its root, each split a small retirement."},
		{Label: "Deep in a wide tree", ID: f.WideLeafDeep, Description: "A leaf ten splits down a tree of " + n(f.WideNodeCount) + " batches: deliveries, transfers, retirements."},
		{Label: "A very large tree", ID: f.HugeRoot, Description: "About " + n(f.HugeNodeCount) + " batches: branches load as you open them."},
		{Label: "Sizes beyond 2⁵³ kg", ID: f.BigKgRoot, Description: "Exact integers all the way: no unit lost to floating point."},
		{Label: "Markup in an organisation name", ID: f.HostileOrgBatch, Description: "Names are shown as text, never run."},
		{Label: "A dangling link", ID: f.DanglingChild, Description: "A split whose right half the registry does not have."},
		{Label: "A child that points elsewhere", ID: f.WrongParent, Description: "A half whose parent_id names its sibling."},
		{Label: "Sizes that do not add up", ID: f.SizeMismatch, Description: "Two halves 1,000 kg short of their parent."},
		{Label: "A cycle", ID: f.Cycle, Description: "A batch lists its own parent as a child."},
		{Label: "A repeated batch", ID: f.RepeatedChild, Description: "Two batches list the same half."},
		{Label: "Where an issuance’s credits went", ID: f.Issuance, Description: "Sixteen trees, supplier and buffer pool: who holds and who retired what."},
		{Label: "What a retirement retired", ID: f.Retirement, Description: "Batches from several issuances, each with its path back to its root."},
		{Label: "Markup in a beneficiary and notes", ID: f.HostileRetirement, Description: "A retirement whose upstream text is shown as text."},
	}
	// A range cut from the middle of a batch's serial, as from a certificate: no batch has it,
	// and the lookup finds the one that holds it.
	if b, ok := r.Batch(f.WideLeafDeep); ok {
		if s, err := registry.ParseSerial(b.SerialNumber); err == nil && s.Size() > 2 {
			s.First, s.Last = s.First+1, s.Last-1
			ex = append(ex, views.Example{Label: "A serial cut from a certificate", ID: s.String(),
				Description: "A range inside a batch's serial number: the lookup finds the smallest batch that holds it."})
		}
	}
	return ex
}

// healthcheck is the container health check (distroless images have no curl): it asks the
// server on PORT for /healthz.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	port := strings.TrimSpace(getenv("PORT"))
	if port == "" {
		port = "8080"
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("PORT: must be a port number, got %q", port)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", resp.Status)
	}
	return nil
}
