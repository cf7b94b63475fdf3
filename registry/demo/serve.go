package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"time"
)

// BasePath is where the demo is mounted by Start, NewTestServer and RunCommand, as upstream
// (https://api.isometric.com/registry/v0).
const BasePath = "/registry/v0"

// mount serves r under BasePath and answers anything else with the upstream's JSON 404.
func mount(r *Registry) http.Handler {
	inner := http.StripPrefix(BasePath, r)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, BasePath+"/") {
			writeJSON(w, http.StatusNotFound, detail{"Not Found"})
			return
		}
		inner.ServeHTTP(w, req)
	})
}

func newServer(r *Registry) *http.Server {
	return &http.Server{
		Handler:           mount(r),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// Start serves r on a loopback listener (127.0.0.1:0) and returns its base URL, e.g.
// "http://127.0.0.1:41234/registry/v0", and a function that shuts it down gracefully. It is what
// the explorer runs in demo mode (no client secret, or DEMO=1).
func Start(r *Registry) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo registry: %w", err)
	}
	srv := newServer(r)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // always ErrServerClosed after Shutdown
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
		<-done
	}
	return "http://" + ln.Addr().String() + BasePath, stop, nil
}

// TB is the part of testing.TB that NewTestServer uses. It is declared here so that the
// explorer's binary, which links this package, does not link the testing package too.
type TB interface {
	Helper()
	Cleanup(func())
}

// NewTestServer is Start for tests: an httptest server serving r under BasePath, closed by
// t.Cleanup. It returns the base URL, for a client configured with AccessToken and ClientSecret.
func NewTestServer(t TB, r *Registry) string {
	t.Helper()
	srv := httptest.NewServer(mount(r))
	t.Cleanup(srv.Close)
	return srv.URL + BasePath
}

// RunCommand is the standalone `demo-registry` command (args exclude the subcommand name):
//
//	--addr         listen address (default 127.0.0.1:8090)
//	--latency      added before every answer, e.g. 50ms
//	--fault-rate   fraction of requests answered 429 or 503, 0..1
//	--retry-after  Retry-After sent on 429, e.g. 2s
//	--seed         seed of the fault draws (each request draws whether it gets a fault)
//	--looping-cursors  paginated lists never end (Options.LoopingCursors)
//	--fixtures     print the ids of the well-known demo objects (Fixtures) and exit
//
// It prints the base URL and the demo credentials to stdout, serves until ctx is cancelled and
// then shuts down gracefully, printing how many times credit batches were fetched (the load
// test reads it). With -h it prints the usage and returns flag.ErrHelp.
func RunCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo-registry", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	var opts Options
	fs.DurationVar(&opts.Latency, "latency", 0, "latency added before every answer")
	fs.Float64Var(&opts.FaultRate, "fault-rate", 0, "fraction of requests (0..1) answered with 429 or 503")
	fs.DurationVar(&opts.RetryAfter, "retry-after", 0, "Retry-After sent with 429, rounded up to whole seconds")
	fs.Uint64Var(&opts.Seed, "seed", 0, "seed of the fault draws, so that a run's faults can be replayed")
	fs.BoolVar(&opts.LoopingCursors, "looping-cursors", false, "paginated lists never end: their cursors cycle c1 → c2 → c1")
	fixtures := fs.Bool("fixtures", false, "print the ids of the well-known demo objects as shell assignments (Name=id) and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *fixtures:
		return printFixtures(stdout, New(Options{}).Fixtures())
	case fs.NArg() > 0:
		return fmt.Errorf("demo-registry: unexpected argument %q", fs.Arg(0))
	case opts.FaultRate < 0 || opts.FaultRate > 1:
		return fmt.Errorf("demo-registry: --fault-rate must be between 0 and 1, got %v", opts.FaultRate)
	case opts.Latency < 0 || opts.RetryAfter < 0:
		return errors.New("demo-registry: --latency and --retry-after must not be negative")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("demo-registry: %w", err)
	}
	r := New(opts)
	srv := newServer(r)
	srv.BaseContext = func(net.Listener) context.Context { return ctx }

	host := ln.Addr().(*net.TCPAddr)
	base := "http://" + ln.Addr().String() + BasePath
	if host.IP.IsUnspecified() {
		base = fmt.Sprintf("http://127.0.0.1:%d%s", host.Port, BasePath)
	}
	fmt.Fprintf(stdout, "demo registry serving %d credit batches at %s\n", r.BatchCount(), base)
	fmt.Fprintf(stdout, "ISOMETRIC_API_URL=%s\nISOMETRIC_ACCESS_TOKEN=%s\nISOMETRIC_CLIENT_SECRET=%s\n", base, AccessToken, ClientSecret)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("demo-registry: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("demo-registry: shutdown: %w", err)
	}
	<-errc
	answers, distinct, most := r.FetchSummary()
	fmt.Fprintf(stdout, "demo registry stopped after %d requests; GET /credit_batches/{id}: %d answers for %d distinct batches, at most %d for any one\n",
		r.Requests(), answers, distinct, most)
	return nil
}

// printFixtures writes every id and count of f as a shell assignment, Name=value, one a line,
// so that scripts (the load test) can `eval` them.
func printFixtures(w io.Writer, f Fixtures) error {
	v := reflect.ValueOf(f)
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s=%v\n", v.Type().Field(i).Name, v.Field(i).Interface()); err != nil {
			return err
		}
	}
	return nil
}
