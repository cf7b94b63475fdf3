package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/history"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string // a word the error must contain: the variable at fault
		check   func(t *testing.T, c config)
	}{
		{name: "nothing set serves the demo", env: nil, check: func(t *testing.T, c config) {
			if !c.demo || c.port != 8080 || c.concurrency != 8 || c.cacheTTL != 5*time.Minute || c.serialIndexInterval != 5*time.Minute {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "credentials serve the registry", env: map[string]string{"ISOMETRIC_ACCESS_TOKEN": "t", "ISOMETRIC_CLIENT_SECRET": "s"},
			check: func(t *testing.T, c config) {
				if c.demo || c.apiURL != "https://api.isometric.com/registry/v0" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "DEMO=1 wins over credentials", env: map[string]string{"DEMO": "1", "ISOMETRIC_ACCESS_TOKEN": "t", "ISOMETRIC_CLIENT_SECRET": "s"},
			check: func(t *testing.T, c config) {
				if !c.demo || len(c.warnings) == 0 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "flags mirror the environment", env: map[string]string{"PORT": "9000"}, args: []string{"-port", "9100", "-cache-ttl", "90s"},
			check: func(t *testing.T, c config) {
				if c.port != 9100 || c.cacheTTL != 90*time.Second {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad PORT", env: map[string]string{"PORT": "eighty"}, wantErr: "PORT"},
		{name: "PORT out of range", env: map[string]string{"PORT": "70000"}, wantErr: "PORT"},
		{name: "bad DEMO", env: map[string]string{"DEMO": "maybe"}, wantErr: "DEMO"},
		{name: "bad UPSTREAM_CONCURRENCY", env: map[string]string{"UPSTREAM_CONCURRENCY": "0"}, wantErr: "UPSTREAM_CONCURRENCY"},
		{name: "bad CACHE_TTL", env: map[string]string{"CACHE_TTL": "5"}, wantErr: "CACHE_TTL"},
		{name: "SERIAL_INDEX_INTERVAL", env: map[string]string{"SERIAL_INDEX_INTERVAL": "1h"}, check: func(t *testing.T, c config) {
			if c.serialIndexInterval != time.Hour {
				t.Errorf("%+v", c)
			}
		}},
		{name: "SERIAL_INDEX_INTERVAL too short", env: map[string]string{"SERIAL_INDEX_INTERVAL": "1s"}, wantErr: "SERIAL_INDEX_INTERVAL"},
		{name: "bad SERIAL_INDEX_INTERVAL", env: map[string]string{"SERIAL_INDEX_INTERVAL": "often"}, wantErr: "SERIAL_INDEX_INTERVAL"},
		{name: "DEMO_CHANGE_EVERY", env: map[string]string{"DEMO_CHANGE_EVERY": "1m", "DEMO_CHANGE_SEED": "9"}, check: func(t *testing.T, c config) {
			if c.demoChangeEvery != time.Minute || c.demoChangeSeed != 9 || !c.demo {
				t.Errorf("%+v", c)
			}
		}},
		{name: "DEMO_CHANGE_EVERY off by default", env: nil, check: func(t *testing.T, c config) {
			if c.demoChangeEvery != 0 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "DEMO_CHANGE_EVERY without the demo", env: map[string]string{"DEMO_CHANGE_EVERY": "1m", "ISOMETRIC_ACCESS_TOKEN": "t", "ISOMETRIC_CLIENT_SECRET": "s"},
			check: func(t *testing.T, c config) {
				if c.demoChangeEvery != 0 || len(c.warnings) != 1 || !strings.Contains(c.warnings[0], "DEMO_CHANGE_EVERY") {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad DEMO_CHANGE_EVERY", env: map[string]string{"DEMO_CHANGE_EVERY": "10ms"}, wantErr: "DEMO_CHANGE_EVERY"},
		{name: "bad DEMO_CHANGE_SEED", env: map[string]string{"DEMO_CHANGE_SEED": "-1"}, wantErr: "DEMO_CHANGE_SEED"},
		{name: "bad ISOMETRIC_API_URL", env: map[string]string{"ISOMETRIC_API_URL": "api.isometric.com"}, wantErr: "ISOMETRIC_API_URL"},
		{name: "secret without token", env: map[string]string{"ISOMETRIC_CLIENT_SECRET": "s"}, wantErr: "ISOMETRIC_ACCESS_TOKEN"},
		{name: "BASE_PATH", env: map[string]string{"BASE_PATH": "/tools/lineage"}, check: func(t *testing.T, c config) {
			if c.basePath != "/tools/lineage" {
				t.Errorf("basePath = %q", c.basePath)
			}
		}},
		{name: "BASE_PATH / is the root", env: map[string]string{"BASE_PATH": "/"}, check: func(t *testing.T, c config) {
			if c.basePath != "" {
				t.Errorf("basePath = %q, want the root", c.basePath)
			}
		}},
		{name: "BASE_PATH without leading slash", env: map[string]string{"BASE_PATH": "lineage"}, wantErr: "BASE_PATH"},
		{name: "BASE_PATH with trailing slash", env: map[string]string{"BASE_PATH": "/lineage/"}, wantErr: "BASE_PATH"},
		{name: "BASE_PATH with a dot segment", env: map[string]string{"BASE_PATH": "/a/../b"}, wantErr: "BASE_PATH"},
		{name: "BASE_PATH with a double slash", env: map[string]string{"BASE_PATH": "//evil.example"}, wantErr: "BASE_PATH"},
		{name: "BASE_PATH with a quote", env: map[string]string{"BASE_PATH": `/a"b`}, wantErr: "BASE_PATH"},
		{name: "BASE_PATH with a query", env: map[string]string{"BASE_PATH": "/a?b"}, wantErr: "BASE_PATH"},
		{name: "CLAIMS_* limits", env: map[string]string{"CLAIMS_MAX_ROWS": "200", "CLAIMS_MAX_BYTES": "65536", "CLAIMS_KEEP": "2h",
			"CLAIMS_XLSX_MAX_UNZIPPED": "1048576", "CLAIMS_XLSX_MAX_CELLS": "5000"}, check: func(t *testing.T, c config) {
			if c.claims.MaxRows != 200 || c.claims.MaxBytes != 65536 || c.claims.Keep != 2*time.Hour || c.claims.MaxUnzipped != 1<<20 || c.claims.MaxCells != 5000 {
				t.Errorf("claims = %+v", c.claims)
			}
		}},
		{name: "CLAIMS_* unset take the defaults", env: nil, check: func(t *testing.T, c config) {
			if c.claims.MaxRows != 0 || c.claims.MaxBytes != 0 || c.claims.Keep != 0 {
				t.Errorf("claims = %+v", c.claims)
			}
		}},
		{name: "bad CLAIMS_MAX_ROWS", env: map[string]string{"CLAIMS_MAX_ROWS": "0"}, wantErr: "CLAIMS_MAX_ROWS"},
		{name: "bad CLAIMS_MAX_BYTES", env: map[string]string{"CLAIMS_MAX_BYTES": "5MB"}, wantErr: "CLAIMS_MAX_BYTES"},
		{name: "bad CLAIMS_KEEP", env: map[string]string{"CLAIMS_KEEP": "1s"}, wantErr: "CLAIMS_KEEP"},
		{name: "bad CLAIMS_XLSX_MAX_UNZIPPED", env: map[string]string{"CLAIMS_XLSX_MAX_UNZIPPED": "32MiB"}, wantErr: "CLAIMS_XLSX_MAX_UNZIPPED"},
		{name: "bad CLAIMS_XLSX_MAX_CELLS", env: map[string]string{"CLAIMS_XLSX_MAX_CELLS": "-1"}, wantErr: "CLAIMS_XLSX_MAX_CELLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(tc.args, envOf(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestConfigErrorsNeverShowSecrets(t *testing.T) {
	_, err := loadConfig(nil, envOf(map[string]string{"ISOMETRIC_CLIENT_SECRET": "s3cr3t-value", "ISOMETRIC_API_URL": "ftp://x"}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "s3cr3t-value") {
		t.Fatalf("err = %v", err)
	}
}

// TestRunServesTheDemoAndShutsDownGracefully starts the real program on a free port, checks
// the printed URL answers, that the healthcheck command agrees, and that cancelling stops it.
func TestRunServesTheDemoAndShutsDownGracefully(t *testing.T) {
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		// Off a terminal the address is only in the JSON log (stderr), as a collector sees it.
		done <- run(ctx, nil, envOf(map[string]string{"PORT": "0", "DATA_DIR": dataDir}), io.Discard, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var listening struct{ Msg, Open, Upstream string }
	for lines.Scan() {
		if err := json.Unmarshal(lines.Bytes(), &listening); err != nil {
			t.Fatalf("a log line that is not JSON: %q", lines.Text())
		}
		if listening.Msg == "listening" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`^http://localhost:(\d+)/$`).FindStringSubmatch(listening.Open)
	if m == nil || !strings.Contains(listening.Upstream, "demo") {
		t.Fatalf("start-up log %+v does not give the demo URL", listening)
	}
	resp, err := http.Get(m[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "demo-banner") {
		t.Errorf("home page: %d", resp.StatusCode)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("no security headers: middleware missing")
	}
	// A newcomer finds the claims check filled with the demo's sample list.
	if !strings.Contains(string(body), `href="/claims?sample=1"`) {
		t.Error("the home page does not offer the sample list of claims")
	} else if sample, err := http.Get(m[0] + "claims?sample=1"); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(sample.Body)
		sample.Body.Close()
		if !strings.Contains(string(b), "reference,serial,batch,retirement,kg,beneficiary,retired_at") {
			t.Errorf("/claims?sample=1 (%d) is not filled with the sample list", sample.StatusCode)
		}
	}
	// The demo's serial example (a range cut from a batch's serial) resolves with the index
	// the program started.
	ms := regexp.MustCompile(`href="(/serial/[^"]+)"`).FindStringSubmatch(string(body))
	if ms == nil {
		t.Fatal("the home page lists no serial example")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sr, err := noFollow.Get("http://localhost:" + m[1] + ms[1])
	if err != nil {
		t.Fatal(err)
	}
	sr.Body.Close()
	if sr.StatusCode != http.StatusSeeOther || !strings.Contains(sr.Header.Get("Location"), "?serial=") {
		t.Errorf("%s: %d to %q", ms[1], sr.StatusCode, sr.Header.Get("Location"))
	}
	if err := run(ctx, []string{"healthcheck"}, envOf(map[string]string{"PORT": m[1]}), io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	if err := run(context.Background(), []string{"healthcheck"}, envOf(map[string]string{"PORT": m[1]}), io.Discard, io.Discard); err == nil {
		t.Error("healthcheck passes with the server stopped")
	}
}

// A DATA_DIR the explorer cannot write to stops start-up with an error naming DATA_DIR and
// the directory, before anything listens.
func TestUnwritableDataDirStopsStartUp(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	err := run(context.Background(), nil, envOf(map[string]string{"PORT": "0", "DATA_DIR": dir}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATA_DIR") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("start-up with DATA_DIR under a plain file: %v; want an error naming DATA_DIR and %s", err, dir)
	}
}

// AUTH_ALLOW_GROUPS is split by AUTH_GROUPS_SEPARATOR, so that an LDAP DN, commas and all, is
// one group; a separator with control characters stops start-up naming it.
func TestAuthGroupsSeparatorSetting(t *testing.T) {
	const admins = "cn=lineage-admins,ou=groups,dc=corp,dc=example"
	env := map[string]string{"AUTH_MODE": "header", "TRUSTED_PROXIES": "127.0.0.0/8", "AUTH_ALLOW_GROUPS": admins + " ; ops", "AUTH_GROUPS_SEPARATOR": ";"}
	c, err := loadConfig(nil, envOf(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.auth.AllowGroups; len(got) != 2 || got[0] != admins || got[1] != "ops" {
		t.Errorf("AUTH_ALLOW_GROUPS read as %q, want the DN and ops", got)
	}
	env["AUTH_GROUPS_SEPARATOR"] = "\x00"
	if _, err := loadConfig(nil, envOf(env), io.Discard); err == nil || !strings.Contains(err.Error(), "AUTH_GROUPS_SEPARATOR") {
		t.Errorf("a control character as separator: %v, want an error naming AUTH_GROUPS_SEPARATOR", err)
	}
}

// DATABASE_URL holds a password: a PostgreSQL that cannot be reached stops start-up with an
// error naming DATABASE_URL and where it points, and neither the error nor the log repeats
// the password; a malformed one is refused the same way.
func TestUnreachableDatabaseURLStopsStartUp(t *testing.T) {
	const password = "pg-s3cret-at-start"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // nothing listens there now
	for _, dbURL := range []string{
		"postgres://explorer:" + password + "@127.0.0.1:" + port + "/history?sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 port=" + port + " user=explorer password=" + password + " sslmode=disable connect_timeout=2",
		"postgres://explorer:" + password + "@/history", // no host
	} {
		var log strings.Builder
		// Bounded, so that an explorer that ignored DATABASE_URL and served fails here.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := run(ctx, nil, envOf(map[string]string{"PORT": "0", "DATA_DIR": t.TempDir(), "DATABASE_URL": dbURL}), io.Discard, &log)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), "DATABASE_URL") {
			t.Fatalf("start-up with %s: %v; want an error naming DATABASE_URL", history.RedactDatabaseURL(dbURL), err)
		}
		if strings.Contains(err.Error(), password) || strings.Contains(log.String(), password) {
			t.Errorf("the password shows in the error %q or the log %q", err, log.String())
		}
		if strings.Contains(dbURL, "@127") && !strings.Contains(err.Error(), "127.0.0.1:"+port) {
			t.Errorf("the error does not say where: %v", err)
		}
	}
}
