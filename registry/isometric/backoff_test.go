package isometric

import (
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"3":                             3 * time.Second,
		" 7 ":                           7 * time.Second,
		"-4":                            0,
		"99999999":                      time.Hour, // absurd asks are clipped before the backoff cap applies
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:04:00 GMT": 0, // in the past
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBackoffHonoursRetryAfterUpToTheCap(t *testing.T) {
	c, err := NewClient(ClientConfig{BaseURL: "http://127.0.0.1:1", AccessToken: "test-token-a", ClientSecret: "test-secret-b",
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for retry := 1; retry <= 30; retry++ {
		plain := c.backoff(retry, &registry.APIError{})
		ceiling := min(10*time.Millisecond<<(retry-1), 2*time.Second)
		if retry > 20 {
			ceiling = 2 * time.Second
		}
		if plain < 0 || plain > ceiling {
			t.Errorf("retry %d: backoff %v outside [0, %v]", retry, plain, ceiling)
		}
		if got := c.backoff(retry, &registry.APIError{RetryAfter: 1500 * time.Millisecond}); got < 1500*time.Millisecond || got > 2*time.Second {
			t.Errorf("retry %d: Retry-After 1.5s gave a wait of %v", retry, got)
		}
		if got := c.backoff(retry, &registry.APIError{RetryAfter: time.Hour}); got != 2*time.Second {
			t.Errorf("retry %d: Retry-After 1h gave %v, want the 2s cap", retry, got)
		}
	}
}
