package main

// The explorer's configuration, read in this one place: PRODUCT.md's table of environment
// variables, the flags that mirror them, and the checks that stop start-up naming the
// variable at fault.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-explorer/explorer/handlers"
	"github.com/lineage-explorer/explorer/registry/history"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/webhook"
)

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
	// demoChangeEvery is how often the demo registry splits, transfers and retires a few of
	// its batches (DEMO_CHANGE_EVERY); 0 leaves it as built. demoChangeSeed seeds what it
	// changes (DEMO_CHANGE_SEED), so that a run can be replayed.
	demoChangeEvery time.Duration
	demoChangeSeed  uint64
	concurrency     int
	cacheTTL        time.Duration
	// serialIndexInterval is how often the serial number index lists the issuances again to
	// learn new ones (SERIAL_INDEX_INTERVAL).
	serialIndexInterval time.Duration
	// basePath is the path prefix the app is served under (BASE_PATH): "" at the root, else
	// such as "/lineage", as handlers.CleanBasePath returns it.
	basePath string
	// dataDir is where the explorer keeps its files, the history journal among them
	// (DATA_DIR, default ./data); created at start.
	dataDir string
	// listRoutes lets walks learn batches from the registry's list routes (the planner:
	// UPSTREAM_LIST_ROUTES, default on); off, every batch is fetched by id.
	listRoutes bool
	// redisURL is the shared cache tier's address (REDIS_URL); "" keeps the cache in process.
	redisURL string
	// databaseURL is the PostgreSQL database of a history journal shared by replicas
	// (DATABASE_URL, a secret: never logged or shown but redacted); "" keeps the journal in
	// a SQLite file under dataDir.
	databaseURL string
	// auth is who may use the explorer and how the SSO proxy says who they are (AUTH_*,
	// TRUSTED_PROXIES).
	auth handlers.AuthConfig
	// claims are the claims check's limits (CLAIMS_MAX_ROWS, CLAIMS_MAX_BYTES,
	// CLAIMS_XLSX_MAX_UNZIPPED, CLAIMS_XLSX_MAX_CELLS, CLAIMS_KEEP);
	// zero fields take handlers.ClaimsConfig's defaults.
	claims handlers.ClaimsConfig
	// watchInterval is how often watched trees are polled (WATCH_INTERVAL, default 15m).
	watchInterval time.Duration
	// watchBudget is the most upstream requests an hour polling may make (WATCH_BUDGET); 0,
	// from "none" or unset, is no limit.
	watchBudget int
	// webhooks is where watch lists' webhooks may go (WEBHOOK_ALLOW: hosts and CIDRs);
	// empty allows none, and no webhook is sent.
	webhooks webhook.Policy
	warnings []string
}

// loadConfig reads and checks the whole configuration: flags, then the environment (the
// secrets, REDIS_URL, DATABASE_URL, AUTH_* and TRUSTED_PROXIES from the environment only). Every error names
// the variable at fault; no error repeats a secret.
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
	apiURL := fs.String("api-url", env("ISOMETRIC_API_URL", isometric.ProductionURL), "upstream base URL up to /registry/v0 (ISOMETRIC_API_URL)")
	demoFlag := fs.String("demo", env("DEMO", "0"), "1 serves the built-in demo registry (DEMO)")
	conc := fs.String("concurrency", env("UPSTREAM_CONCURRENCY", "8"), "most upstream requests in flight (UPSTREAM_CONCURRENCY)")
	ttl := fs.String("cache-ttl", env("CACHE_TTL", "5m"), "how long an active batch is trusted (CACHE_TTL)")
	indexEvery := fs.String("serial-index-interval", env("SERIAL_INDEX_INTERVAL", "5m"), "how often the serial index looks for new issuances (SERIAL_INDEX_INTERVAL)")
	dataDir := fs.String("data-dir", env("DATA_DIR", "data"), "directory of the explorer's files, such as the history journal; created at start (DATA_DIR)")
	changeEvery := fs.String("demo-change-every", env("DEMO_CHANGE_EVERY", "0"), "how often the demo registry splits, transfers and retires a few batches, such as 1m; 0 never (DEMO_CHANGE_EVERY)")
	changeSeed := fs.String("demo-change-seed", env("DEMO_CHANGE_SEED", "1"), "seed of what the demo registry changes (DEMO_CHANGE_SEED)")
	watchEvery := fs.String("watch-interval", env("WATCH_INTERVAL", "15m"), "how often watched trees are polled (WATCH_INTERVAL)")
	webhookAllow := fs.String("webhook-allow", env("WEBHOOK_ALLOW", ""), "hosts and CIDRs watch lists' webhooks may be sent to; empty sends none (WEBHOOK_ALLOW)")
	watchBudget := fs.String("watch-budget", env("WATCH_BUDGET", "none"), "most upstream requests an hour for polling watched trees, or none (WATCH_BUDGET)")
	listRoutes := fs.String("list-routes", env("UPSTREAM_LIST_ROUTES", "1"), "1 lets walks learn batches from the registry's list routes; 0 fetches every batch by id (UPSTREAM_LIST_ROUTES)")
	basePath := fs.String("base-path", env("BASE_PATH", ""), "path prefix the app is served under behind a proxy, such as /lineage (BASE_PATH)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (commands: demo-registry, bench, healthcheck)", fs.Arg(0))
	}

	c := config{dataDir: *dataDir, apiURL: *apiURL, accessToken: getenv("ISOMETRIC_ACCESS_TOKEN"), clientSecret: getenv("ISOMETRIC_CLIENT_SECRET")}
	var err error
	if c.port, err = strconv.Atoi(*port); err != nil || c.port < 0 || c.port > 65535 {
		return c, fmt.Errorf("PORT: must be a port number from 1 to 65535 (0 picks a free one), got %q", *port)
	}
	if c.demo, err = parseBool(*demoFlag); err != nil {
		return c, fmt.Errorf("DEMO: must be 1 or 0 (also true/false, yes/no, on/off), got %q", *demoFlag)
	}
	if c.listRoutes, err = parseBool(*listRoutes); err != nil {
		return c, fmt.Errorf("UPSTREAM_LIST_ROUTES: must be 1 or 0 (also true/false, yes/no, on/off), got %q", *listRoutes)
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
	if c.demoChangeEvery, err = time.ParseDuration(*changeEvery); err != nil || c.demoChangeEvery != 0 && c.demoChangeEvery < time.Second {
		return c, fmt.Errorf("DEMO_CHANGE_EVERY: must be 0 (never) or a duration of at least 1s, such as 1m, got %q", *changeEvery)
	}
	if c.demoChangeSeed, err = strconv.ParseUint(*changeSeed, 10, 64); err != nil {
		return c, fmt.Errorf("DEMO_CHANGE_SEED: must be a whole number, got %q", *changeSeed)
	}
	if c.watchInterval, c.watchBudget, err = parseWatch(*watchEvery, *watchBudget); err != nil {
		return c, err
	}
	if c.webhooks, err = webhook.ParseAllow(*webhookAllow); err != nil {
		return c, err // it names WEBHOOK_ALLOW and the entry
	}
	if c.basePath, err = handlers.CleanBasePath(*basePath); err != nil {
		return c, fmt.Errorf("BASE_PATH: %w", err)
	}
	if u, err := url.Parse(c.apiURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return c, fmt.Errorf("ISOMETRIC_API_URL: must be an absolute http(s) URL up to /registry/v0, such as %s", isometric.ProductionURL)
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
	if c.demoChangeEvery > 0 && !c.demo {
		c.warnings = append(c.warnings, "DEMO_CHANGE_EVERY is set but the demo registry is not served: it has no effect")
		c.demoChangeEvery = 0
	}
	c.redisURL = strings.TrimSpace(getenv("REDIS_URL"))
	if c.databaseURL, err = loadDatabaseURL(getenv); err != nil {
		return c, err
	}
	if c.auth, err = loadAuthConfig(getenv); err != nil {
		return c, err
	}
	if c.claims, err = loadClaimsConfig(env); err != nil {
		return c, err
	}
	return c, nil
}

// parseWatch reads WATCH_INTERVAL (a duration of at least 10s) and WATCH_BUDGET (a whole
// number of requests an hour, or "none" for no limit, as 0).
func parseWatch(interval, budget string) (time.Duration, int, error) {
	d, err := time.ParseDuration(interval)
	if err != nil || d < 10*time.Second {
		return 0, 0, fmt.Errorf("WATCH_INTERVAL: must be a duration of at least 10s, such as 15m or 1h, got %q", interval)
	}
	if strings.EqualFold(budget, "none") {
		return d, 0, nil
	}
	n, err := strconv.Atoi(budget)
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("WATCH_BUDGET: must be a whole number of upstream requests an hour (1 or more), or none for no limit, got %q", budget)
	}
	return d, n, nil
}

// loadClaimsConfig reads the claims check's limits from the environment; unset ones stay zero
// (the defaults: 5,000 rows, 5 MiB, an XLSX unpacking to 32 MiB and 250,000 cells, kept 1h).
func loadClaimsConfig(env func(k, def string) string) (handlers.ClaimsConfig, error) {
	var cc handlers.ClaimsConfig
	if v := env("CLAIMS_MAX_ROWS", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return cc, fmt.Errorf("CLAIMS_MAX_ROWS: must be a whole number from 1 to 1000000, got %q", v)
		}
		cc.MaxRows = n
	}
	if v := env("CLAIMS_MAX_BYTES", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<10 || n > 1<<30 {
			return cc, fmt.Errorf("CLAIMS_MAX_BYTES: must be a number of bytes from 1024 to 1073741824, got %q", v)
		}
		cc.MaxBytes = n
	}
	if v := env("CLAIMS_XLSX_MAX_UNZIPPED", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<16 || n > 1<<30 {
			return cc, fmt.Errorf("CLAIMS_XLSX_MAX_UNZIPPED: must be a number of bytes from 65536 to 1073741824, got %q", v)
		}
		cc.MaxUnzipped = n
	}
	if v := env("CLAIMS_XLSX_MAX_CELLS", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10_000_000 {
			return cc, fmt.Errorf("CLAIMS_XLSX_MAX_CELLS: must be a whole number from 1 to 10000000, got %q", v)
		}
		cc.MaxCells = n
	}
	if v := env("CLAIMS_KEEP", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return cc, fmt.Errorf("CLAIMS_KEEP: must be a duration of at least 1m, such as 1h or 30m, got %q", v)
		}
		cc.Keep = d
	}
	return cc, nil
}

// loadDatabaseURL reads DATABASE_URL: a postgres:// (or postgresql://) URL, or a keyword/value
// string such as "host=db dbname=explorer user=explorer password=…", as pgx reads them. Its
// errors show it redacted: it usually holds a password.
func loadDatabaseURL(getenv func(string) string) (string, error) {
	raw := strings.TrimSpace(getenv("DATABASE_URL"))
	switch {
	case raw == "":
		return "", nil
	case strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://"):
		if u, err := url.Parse(raw); err != nil || u.Host == "" && u.Query().Get("host") == "" {
			return "", fmt.Errorf("DATABASE_URL %s: must be a URL such as postgres://user:password@host:5432/dbname", history.RedactDatabaseURL(raw))
		}
	case !strings.Contains(raw, "="):
		return "", errors.New("DATABASE_URL: must be a postgres:// URL or keyword=value pairs such as host=db dbname=explorer")
	}
	return raw, nil
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

// loadAuthConfig reads the identity settings: AUTH_MODE (none, header, jwt), AUTH_HEADER,
// AUTH_GROUPS_HEADER, AUTH_GROUPS_SEPARATOR, TRUSTED_PROXIES (comma-separated CIDRs),
// AUTH_JWKS_URL, AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE, AUTH_JWT_HEADER, and the allow-lists
// AUTH_ALLOW_EMAILS, AUTH_ALLOW_DOMAINS (comma-separated) and AUTH_ALLOW_GROUPS (separated by
// AUTH_GROUPS_SEPARATOR, so that the groups are written as the proxy sends them). Errors name
// the variable at fault.
func loadAuthConfig(getenv func(string) string) (handlers.AuthConfig, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	sep := env("AUTH_GROUPS_SEPARATOR")
	if sep == "" {
		sep = handlers.DefaultGroupsSeparator
	}
	cfg := handlers.AuthConfig{Mode: strings.ToLower(env("AUTH_MODE")), Header: env("AUTH_HEADER"), GroupsHeader: env("AUTH_GROUPS_HEADER"), GroupsSeparator: sep,
		JWKSURL: env("AUTH_JWKS_URL"), Issuer: env("AUTH_JWT_ISSUER"), Audience: env("AUTH_JWT_AUDIENCE"), JWTHeader: env("AUTH_JWT_HEADER"),
		AllowEmails: handlers.SplitList(env("AUTH_ALLOW_EMAILS")), AllowDomains: handlers.SplitList(env("AUTH_ALLOW_DOMAINS")), AllowGroups: handlers.SplitOn(env("AUTH_ALLOW_GROUPS"), sep)}
	if !handlers.Printable(sep) || len(sep) > 8 {
		return cfg, fmt.Errorf("AUTH_GROUPS_SEPARATOR: must be a few printable characters, got %q", sep)
	}
	if cfg.Mode == "" {
		cfg.Mode = handlers.AuthNone
	}
	var err error
	if cfg.TrustedProxies, err = handlers.ParseCIDRs(env("TRUSTED_PROXIES")); err != nil {
		return cfg, err
	}
	if cfg.JWKSURL != "" && !strings.HasPrefix(cfg.JWKSURL, "https://") && !strings.HasPrefix(cfg.JWKSURL, "http://") {
		return cfg, fmt.Errorf("AUTH_JWKS_URL: must be an http(s) URL, got %q", cfg.JWKSURL)
	}
	return cfg, nil
}
