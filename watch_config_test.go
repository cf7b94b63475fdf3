package main

import (
	"io"
	"strings"
	"testing"
	"time"
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
