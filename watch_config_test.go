package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/watch"
)

func TestWatchSettings(t *testing.T) {
	for _, tc := range []struct {
		env          map[string]string
		args         []string
		wantErr      string // the variable the error must name
		wantInterval time.Duration
		wantBudget   int
	}{
		{env: nil, wantInterval: 15 * time.Minute, wantBudget: 0},
		{env: map[string]string{"WATCH_INTERVAL": "1h", "WATCH_BUDGET": "600"}, wantInterval: time.Hour, wantBudget: 600},
		{env: map[string]string{"WATCH_BUDGET": "None"}, wantInterval: 15 * time.Minute},
		{args: []string{"-watch-interval", "5m", "-watch-budget", "60"}, wantInterval: 5 * time.Minute, wantBudget: 60},
		{env: map[string]string{"WATCH_INTERVAL": "1s"}, wantErr: "WATCH_INTERVAL"},
		{env: map[string]string{"WATCH_INTERVAL": "often"}, wantErr: "WATCH_INTERVAL"},
		{env: map[string]string{"WATCH_BUDGET": "0"}, wantErr: "WATCH_BUDGET"},
		{env: map[string]string{"WATCH_BUDGET": "lots"}, wantErr: "WATCH_BUDGET"},
		{env: map[string]string{"WATCH_BUDGET": "-5"}, wantErr: "WATCH_BUDGET"},
	} {
		c, err := loadConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr+":") {
				t.Errorf("%v %v: error %v, want one naming %s", tc.env, tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v %v: %v", tc.env, tc.args, err)
		case c.watchInterval != tc.wantInterval || c.watchBudget != tc.wantBudget:
			t.Errorf("%v %v: interval %v budget %d, want %v and %d", tc.env, tc.args, c.watchInterval, c.watchBudget, tc.wantInterval, tc.wantBudget)
		}
	}
}

// WEBHOOK_ALLOW reaches the watch lists: unset sends no webhook (the poller has no notifier,
// /watch says so), a list lets the named hosts through, and a bad entry stops start-up naming
// the variable and the entry.
func TestWebhookAllowSetting(t *testing.T) {
	c, err := loadConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if watch.Webhooks(c.webhooks) != nil {
		t.Error("without WEBHOOK_ALLOW webhooks would be sent")
	}
	env := map[string]string{"WEBHOOK_ALLOW": "hooks.example.com, 10.20.0.0/16"}
	if c, err = loadConfig(nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatal(err)
	}
	n := watch.Webhooks(c.webhooks)
	if n == nil {
		t.Fatal("WEBHOOK_ALLOW set, yet no webhook would be sent")
	}
	if err := n.CheckURL("https://hooks.example.com/lineage"); err != nil {
		t.Errorf("an allowed host refused: %v", err)
	}
	if err := n.CheckURL("https://elsewhere.example.org/"); err == nil {
		t.Error("a host WEBHOOK_ALLOW does not name was accepted")
	}
	_, err = loadConfig(nil, func(k string) string { return map[string]string{"WEBHOOK_ALLOW": "hooks.example.com, 10.0.0.0/99"}[k] }, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "WEBHOOK_ALLOW:") || strings.Count(err.Error(), "WEBHOOK_ALLOW") != 1 || !strings.Contains(err.Error(), "10.0.0.0/99") {
		t.Errorf("a bad entry: %v, want an error naming WEBHOOK_ALLOW and the entry", err)
	}
}
