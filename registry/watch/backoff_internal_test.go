package watch

import (
	"testing"
	"time"
)

// A receiver that keeps failing is left alone for one interval, then twice as long each
// failure more, never more than an hour.
func TestDeliveryBackoffDoublesToAnHour(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		failures int
		want     time.Duration
	}{
		{10 * time.Second, 1, 10 * time.Second},
		{10 * time.Second, 2, 20 * time.Second},
		{10 * time.Second, 4, 80 * time.Second},
		{10 * time.Second, 30, time.Hour},
		{15 * time.Minute, 1, 15 * time.Minute},
		{15 * time.Minute, 3, time.Hour},
		{2 * time.Hour, 1, time.Hour},
	} {
		if got := deliveryBackoff(tc.interval, tc.failures); got != tc.want {
			t.Errorf("interval %v, %d failures: %v, want %v", tc.interval, tc.failures, got, tc.want)
		}
	}
}
