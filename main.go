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
	"io"
	"log/slog"
	"net"
	"net/http"
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
	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
	"github.com/lineage-explorer/explorer/registry/watch"
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
// on a configuration or start-up error. Each step is a function below, in this order.
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
	logConfig(log, cfg)
	cfg.auth.Logger = log // sign-in refusals and clock skew go to the same JSON log
	auth, err := handlers.NewAuthenticator(ctx, cfg.auth)
	if err != nil {
		return err
	}
	shared, err := openShared(cfg.redisURL, log)
	if err != nil {
		return err
	}
	if shared != nil {
		defer shared.Close()
	}
	journal, err := openJournal(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer journal.Close()
	client, examples, sample, stopDemo, err := connect(cfg, log)
	if err != nil {
		return err
	}
	defer stopDemo()
	explorer, metrics := newExplorer(cfg, log, client, shared, journal)
	// Serial lookups need the index of issuances: build it now rather than on the first
	// lookup, and keep it fresh. It stops before the server returns.
	stopIndex := explorer.SerialIndex().Start(ctx)
	defer stopIndex()
	// Watched trees are polled in the background within WATCH_BUDGET; it stops before the
	// journal closes.
	poller := watch.New(explorer, journal, watch.Config{Interval: cfg.watchInterval, Budget: cfg.watchBudget,
		Notifier: watch.Webhooks(cfg.webhooks), Logger: log})
	stopPoller := poller.Start(ctx)
	defer stopPoller()
	claimsCfg := cfg.claims
	claimsCfg.Sample = sample
	srv := newServer(cfg, handlers.Config{Explorer: explorer, Demo: cfg.demo, Examples: examples, Logger: log, Claims: claimsCfg,
		Auth: auth, TrustedProxies: cfg.auth.TrustedProxies, Metrics: metrics, BasePath: cfg.basePath, History: journal,
		DemoChangeEvery: cfg.demoChangeEvery, Watch: poller})
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.port))
	if err != nil {
		return fmt.Errorf("PORT: cannot listen on %d: %w", cfg.port, err)
	}
	announce(log, stdout, cfg, ln)
	go checkCredentials(ctx, log, explorer)
	return serve(ctx, log, srv, ln)
}

// logConfig says at start what an operator must know: the warnings of loadConfig and how
// people sign in.
func logConfig(log *slog.Logger, cfg config) {
	for _, w := range cfg.warnings {
		log.Warn(w)
	}
	a := cfg.auth
	if a.Mode == "" || a.Mode == handlers.AuthNone {
		log.Warn("AUTH_MODE=none: anyone who can reach this port can use the explorer; run it behind your SSO proxy with AUTH_MODE=header or jwt")
		return
	}
	log.Info("sign-in", "auth_mode", a.Mode, "trusted_proxies", len(a.TrustedProxies),
		"allowed_emails", len(a.AllowEmails), "allowed_domains", len(a.AllowDomains), "allowed_groups", len(a.AllowGroups))
}

// newExplorer puts the cache, the walker and the serial index in front of client, and the
// metrics that read them; journal records every batch the cache stores.
func newExplorer(cfg config, log *slog.Logger, client *isometric.Client, shared *rediscache.Tier, journal *history.Journal) (*lineage.Explorer, *handlers.Metrics) {
	metrics := handlers.NewMetrics()
	// Every batch stored is also compared with the journal's last record of it (in the
	// background; the serial index chains this hook, so both see every batch).
	cacheCfg := cache.Config{TTL: cfg.cacheTTL, OnStore: journal.Observe}
	if shared != nil {
		cacheCfg.Shared = shared // only when set: a nil *Tier in the interface would not be nil
	}
	explorer := lineage.NewExplorer(client, lineage.ExplorerConfig{
		Cache:  cacheCfg,
		OnWalk: metrics.ObserveWalk,
		// The node bound is raised from the walker's default so that trees of a few tens of
		// thousands of batches show whole; pages stay small because views collapse them.
		Walker: lineage.WalkerConfig{Workers: cfg.concurrency, MaxNodes: maxTreeNodes},
		// A holder's list is followed as far as the largest tree shown, and no further.
		Planner:   lineage.PlannerConfig{MaxPages: maxTreeNodes / registry.MaxPageSize},
		NoPlanner: !cfg.listRoutes,
		// The indexer takes at most two upstream slots of UPSTREAM_CONCURRENCY, so pages
		// keep the rest; lookups never wait for a pass beyond the root they need.
		SerialIndex: lineage.SerialIndexConfig{Interval: cfg.serialIndexInterval, Logger: log},
	})
	metrics.Attach(explorer)
	return explorer, metrics
}

// newServer is the HTTP server with the timeouts that keep slow or abusive clients from
// holding it.
func newServer(cfg config, hc handlers.Config) *http.Server {
	gin.SetMode(gin.ReleaseMode)
	return &http.Server{
		Handler:           handlers.New(hc),
		MaxHeaderBytes:    64 << 10, // ids and serials are short; large headers are abuse
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // above the 5 s an export waits for a walk, with room for a large one's bytes
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(hc.Logger.Handler(), slog.LevelWarn),
	}
}

// announce says where the explorer listens and what it serves.
func announce(log *slog.Logger, stdout io.Writer, cfg config, ln net.Listener) {
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
}

// checkCredentials tells whoever starts the explorer, in the log and at once, if the
// credentials are wrong: pages and /readyz say so too, but only when someone asks.
func checkCredentials(ctx context.Context, log *slog.Logger, e *lineage.Explorer) {
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch err := e.Ready(pctx); {
	case err == nil:
		log.Info("registry reachable, credentials accepted")
	case errors.Is(err, registry.ErrCredentials):
		log.Error("the registry rejected ISOMETRIC_ACCESS_TOKEN / ISOMETRIC_CLIENT_SECRET: every page will say so until they are fixed", "err", err)
	case ctx.Err() == nil:
		log.Warn("the registry cannot be reached yet; pages will retry", "err", err)
	}
}

// serve serves until ctx is cancelled, then shuts down gracefully within 15 s.
func serve(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener) error {
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

// openJournal opens the history journal: in PostgreSQL when DATABASE_URL is set (shared by
// replicas), else in a SQLite file under DATA_DIR. Its errors name the variable at fault and
// show DATABASE_URL redacted.
func openJournal(ctx context.Context, cfg config, log *slog.Logger) (*history.Journal, error) {
	// The queue holds a whole walk of the largest tree shown, so that one cold walk of it is
	// recorded whole rather than mostly dropped (a 30,001-batch tree dropped half at 8,192).
	hc := history.Config{QueueSize: maxTreeNodes}
	if cfg.databaseURL != "" {
		j, err := history.OpenURL(ctx, cfg.databaseURL, hc)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: the history journal cannot be kept: %w", err)
		}
		log.Info("history journal in PostgreSQL", "database", history.RedactDatabaseURL(cfg.databaseURL))
		return j, nil
	}
	j, err := history.OpenDir(ctx, cfg.dataDir, hc)
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR: the history journal cannot be kept: %w", err)
	}
	return j, nil
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

// connect makes the upstream client: to the configured registry, or to the built-in demo
// registry started in process (then also the demo's batches worth opening, its sample list of
// claims, and its stop; its changes, under DEMO_CHANGE_EVERY, are logged to log).
func connect(cfg config, log *slog.Logger) (*isometric.Client, []views.Example, string, func(), error) {
	if !cfg.demo {
		c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: cfg.apiURL, AccessToken: cfg.accessToken,
			ClientSecret: cfg.clientSecret, Concurrency: cfg.concurrency})
		if err != nil {
			return nil, nil, "", nil, err
		}
		return c, nil, "", func() {}, nil
	}
	r := demo.New(demo.Options{})
	base, stopServer, err := demo.Start(r)
	if err != nil {
		return nil, nil, "", nil, err
	}
	// DEMO_CHANGE_EVERY: the demo registry changes on a schedule, so that the history has
	// something to show; the changes stop before the registry does.
	changesCtx, stopChanges := context.WithCancel(context.Background())
	changesDone := make(chan struct{})
	r.SetChangeSeed(cfg.demoChangeSeed)
	go func() {
		defer close(changesDone)
		r.RunChanges(changesCtx, cfg.demoChangeEvery, func(ch demo.Change) {
			log.Info("demo registry changed", "change", ch.Kind, "batch", ch.Batch, "tree", ch.Root, "kg", ch.Kg)
		})
	}()
	stop := func() {
		stopChanges()
		<-changesDone
		stopServer()
	}
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: base, AccessToken: demo.AccessToken,
		ClientSecret: demo.ClientSecret, Concurrency: cfg.concurrency})
	if err != nil {
		stop()
		return nil, nil, "", nil, err
	}
	return c, demoExamples(r), r.SampleClaims(), stop, nil
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
